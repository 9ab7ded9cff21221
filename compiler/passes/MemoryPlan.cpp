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
  /// Occupies what is free of [at, at + size); returns where each part it
  /// occupied starts, for release().
  std::vector<int64_t> block(int64_t at, int64_t size) {
    std::vector<std::pair<int64_t, int64_t>> gaps;
    int64_t cursor = at, stop = at + size;
    auto next = used_.upper_bound(at);
    if (next != used_.begin())
      cursor = std::max(cursor, std::prev(next)->second);
    for (; cursor < stop; ++next) {
      int64_t gapEnd = next == used_.end() ? stop : std::min(stop, next->first);
      if (gapEnd > cursor)
        gaps.push_back({cursor, gapEnd});
      if (next == used_.end())
        break;
      cursor = std::max(cursor, next->second);
    }
    std::vector<int64_t> starts;
    for (auto [begin, end] : gaps) {
      used_.emplace(begin, end);
      starts.push_back(begin);
    }
    return starts;
  }
  int64_t top() const { return top_; }

private:
  std::map<int64_t, int64_t> used_;
  int64_t top_ = 0;
};

} // namespace

MemoryPlan planMemory(const ir::Graph &graph, const std::vector<bool> &needed,
                      const std::vector<bool> &live, const std::vector<bool> &fused,
                      const std::vector<bool> &carried) {
  std::vector<Segment> inOrder(1);
  for (size_t v = 0; v < graph.size(); ++v)
    if (needed[v] && hasCode(graph, static_cast<ir::ValueId>(v), fused))
      inOrder[0].lanes[0].push_back(static_cast<ir::ValueId>(v));
  return planMemory(graph, needed, live, fused, inOrder, carried);
}

MemoryPlan planMemory(const ir::Graph &graph, const std::vector<bool> &needed,
                      const std::vector<bool> &live, const std::vector<bool> &fused,
                      const std::vector<Segment> &segments, const std::vector<bool> &carried) {
  auto isFused = [&](ir::ValueId v) { return !fused.empty() && fused[v]; };
  auto isCarried = [&](ir::ValueId v) { return !carried.empty() && carried[v]; };
  size_t n = graph.size();
  MemoryPlan plan;
  plan.storage.resize(n);
  plan.offset.assign(n, -1);
  for (size_t v = 0; v < n; ++v) {
    const ir::Op &op = graph.op(static_cast<ir::ValueId>(v));
    plan.storage[v] =
        op.kind == ir::OpKind::Reshape ? plan.storage[op.operands[0]] : static_cast<ir::ValueId>(v);
  }
  // The ops in the order slots are placed: segment by segment, a pair's
  // first lane, then its second.
  struct At {
    ir::ValueId id;
    size_t segment;
    int lane;
    bool lastOfFirstLane, lastOfPair;
  };
  std::vector<At> order;
  for (size_t k = 0; k < segments.size(); ++k) {
    const Segment &s = segments[k];
    const bool pair = !s.lanes[1].empty();
    for (int l = 0; l < 2; ++l)
      for (ir::ValueId id : s.lanes[l])
        order.push_back({id, k, l, pair && l == 0 && id == s.lanes[0].back(),
                         pair && l == 1 && id == s.lanes[1].back()});
  }
  // The last op that reads each storage owner (through aliases too), and
  // which lanes of that op's pair read it.
  const size_t end = order.size();
  std::vector<size_t> lastUse(n, 0);
  std::vector<std::vector<ir::ValueId>> readsOf(end);
  for (size_t p = 0; p < end; ++p) {
    ir::ValueId v = order[p].id;
    readsOf[p].push_back(plan.storage[v]);
    // A fused or carried operand is computed inside this op's loop, so what
    // it reads is read here too (transitively, through chains of fused ops).
    std::vector<ir::ValueId> reads = graph.op(v).operands;
    while (!reads.empty()) {
      ir::ValueId o = reads.back();
      reads.pop_back();
      readsOf[p].push_back(plan.storage[o]);
      if (isFused(o) || isCarried(o))
        reads.insert(reads.end(), graph.op(o).operands.begin(), graph.op(o).operands.end());
    }
    for (ir::ValueId o : readsOf[p])
      lastUse[o] = std::max(lastUse[o], p);
  }
  for (size_t v = 0; v < n; ++v)
    if (needed[v] && live[v])
      lastUse[plan.storage[v]] = end;
  std::vector<int> lanesReading(n, 0);
  for (size_t p = 0; p < end; ++p)
    for (ir::ValueId o : readsOf[p])
      if (lastUse[o] < end && order[lastUse[o]].segment == order[p].segment)
        lanesReading[o] |= 1 << order[p].lane;
  // A value dies after its last reader, for the ops after it in that lane;
  // one that both lanes of a pair read dies when the pair ends. What the
  // first lane frees stays taken while the second lane is placed, which
  // runs beside it.
  std::vector<size_t> pairEnd(segments.size(), 0);
  for (size_t p = 0; p < end; ++p)
    pairEnd[order[p].segment] = p;
  std::vector<std::vector<ir::ValueId>> dyingAfter(end + 1);
  Region fixed, perRow;
  auto regionOf = [&](ir::ValueId v) -> Region & {
    return graph.op(v).type.batched ? perRow : fixed;
  };
  std::vector<ir::ValueId> freedByFirstLane;
  std::vector<std::pair<Region *, int64_t>> blocked;
  for (size_t p = 0; p < end; ++p) {
    const At &at = order[p];
    const int64_t size = graph.op(at.id).type.rowElements();
    plan.offset[at.id] = regionOf(at.id).place(size);
    const size_t q = lastUse[at.id];
    if (q < end) {
      const bool inPair = !segments[order[q].segment].lanes[1].empty();
      const bool oneLane = lanesReading[at.id] == 1 << order[q].lane;
      dyingAfter[inPair && !oneLane ? pairEnd[order[q].segment] : q].push_back(at.id);
    }
    for (ir::ValueId d : dyingAfter[p]) {
      regionOf(d).release(plan.offset[d]);
      if (!segments[at.segment].lanes[1].empty() && at.lane == 0)
        freedByFirstLane.push_back(d);
    }
    if (at.lastOfFirstLane) {
      for (ir::ValueId d : freedByFirstLane)
        for (int64_t start : regionOf(d).block(plan.offset[d], graph.op(d).type.rowElements()))
          blocked.push_back({&regionOf(d), start});
      freedByFirstLane.clear();
    }
    if (at.lastOfPair) {
      for (auto &[region, start] : blocked)
        region->release(start);
      blocked.clear();
    }
  }
  plan.fixedSize = fixed.top();
  plan.perRowSize = perRow.top();
  return plan;
}

} // namespace mtl::passes
