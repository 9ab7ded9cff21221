// MemoryPlan.cpp: liveness and first-fit slot assignment for the workspace arena.
//
// Why first-fit over live ranges rather than one slot per value: a training
// step keeps forward activations alive until their gradient uses them, but
// gradient temporaries die quickly; reuse roughly halves the workspace of the
// seed models, which keeps it in cache at small batches.
#include "passes/MemoryPlan.h"

#include <algorithm>
#include <map>

namespace mtl::passes {

std::vector<bool> neededFor(const ir::Graph &graph, const std::vector<ir::ValueId> &roots,
                            bool training) {
  std::vector<bool> needed(graph.size(), false);
  for (ir::ValueId r : roots)
    if (graph.contains(r))
      needed[r] = true;
  for (ir::ValueId v = static_cast<ir::ValueId>(graph.size()) - 1; v >= 0; --v) {
    if (!needed[v])
      continue;
    const ir::Op &op = graph.op(v);
    if (op.kind == ir::OpKind::TrainSelect)
      needed[op.operands[training ? 0 : 1]] = true;
    else
      for (ir::ValueId o : op.operands)
        needed[o] = true;
  }
  return needed;
}

namespace {

// A set of occupied intervals [begin, end) in one region, kept sorted.
class Region {
public:
  int64_t place(int64_t size) {
    int64_t at = 0;
    for (auto &[begin, end] : used_) {
      if (begin - at >= size)
        break;
      at = std::max(at, end);
    }
    used_.emplace(at, at + size);
    top_ = std::max(top_, at + size);
    return at;
  }
  void release(int64_t at) { used_.erase(at); }
  int64_t top() const { return top_; }

private:
  std::map<int64_t, int64_t> used_;
  int64_t top_ = 0;
};

} // namespace

MemoryPlan planMemory(const ir::Graph &graph, const std::vector<bool> &needed,
                      const std::vector<bool> &live, const std::vector<bool> &fused) {
  std::vector<Segment> inOrder(1);
  for (size_t v = 0; v < graph.size(); ++v)
    if (needed[v] && hasCode(graph, static_cast<ir::ValueId>(v), fused))
      inOrder[0].lanes[0].push_back(static_cast<ir::ValueId>(v));
  return planMemory(graph, needed, live, fused, inOrder);
}

MemoryPlan planMemory(const ir::Graph &graph, const std::vector<bool> &needed,
                      const std::vector<bool> &live, const std::vector<bool> &fused,
                      const std::vector<Segment> &segments) {
  auto isFused = [&](ir::ValueId v) { return !fused.empty() && fused[v]; };
  size_t n = graph.size();
  MemoryPlan plan;
  plan.storage.resize(n);
  plan.offset.assign(n, -1);
  for (size_t v = 0; v < n; ++v) {
    const ir::Op &op = graph.op(static_cast<ir::ValueId>(v));
    plan.storage[v] =
        op.kind == ir::OpKind::Reshape ? plan.storage[op.operands[0]] : static_cast<ir::ValueId>(v);
  }
  // The steps in which slots are placed and freed: each op of a lane alone,
  // and each pair of lanes whole.
  std::vector<std::vector<ir::ValueId>> steps;
  for (const Segment &s : segments) {
    const bool pair = !s.lanes[1].empty();
    for (const std::vector<ir::ValueId> &lane : s.lanes)
      for (ir::ValueId id : lane) {
        if (!pair || id == s.lanes[0].front())
          steps.emplace_back();
        steps.back().push_back(id);
      }
  }
  // The last step that reads each storage owner (through aliases too).
  const size_t end = steps.size();
  std::vector<size_t> lastUse(n, 0);
  for (size_t k = 0; k < end; ++k)
    for (ir::ValueId v : steps[k]) {
      lastUse[plan.storage[v]] = std::max(lastUse[plan.storage[v]], k);
      // A fused operand is computed inside this op's loop, so what it reads
      // is read here too (transitively, through chains of fused ops).
      std::vector<ir::ValueId> reads = graph.op(v).operands;
      while (!reads.empty()) {
        ir::ValueId o = reads.back();
        reads.pop_back();
        lastUse[plan.storage[o]] = std::max(lastUse[plan.storage[o]], k);
        if (isFused(o))
          reads.insert(reads.end(), graph.op(o).operands.begin(), graph.op(o).operands.end());
      }
    }
  for (size_t v = 0; v < n; ++v)
    if (needed[v] && live[v])
      lastUse[plan.storage[v]] = end;
  std::vector<std::vector<ir::ValueId>> dyingAfter(end + 1);
  Region fixed, perRow;
  for (size_t k = 0; k < end; ++k) {
    for (ir::ValueId v : steps[k]) {
      const ir::Op &op = graph.op(v);
      int64_t size = op.type.rowElements();
      plan.offset[v] = op.type.batched ? perRow.place(size) : fixed.place(size);
      dyingAfter[lastUse[v]].push_back(v);
    }
    // Values whose last reader is in this step are free for the steps after it.
    for (ir::ValueId d : dyingAfter[k])
      (graph.op(d).type.batched ? perRow : fixed).release(plan.offset[d]);
  }
  plan.fixedSize = fixed.top();
  plan.perRowSize = perRow.top();
  return plan;
}

} // namespace mtl::passes
