// Lanes.cpp: cutting a step's ops into segments of one lane or two independent lanes.
//
// An op depends on the ops that compute the values it reads (through fused
// operands and views); the memory plan is made for the segments after them
// (MemoryPlan.cpp), so storage adds no dependencies. An op's level is one
// more than the highest level it depends on, so the ops of a level are
// independent of each other. Segments are built level by level: a level's
// ops join the current pair of lanes, each in the lane of the ops it depends
// on there, or in the lighter lane when it depends on none; an op that
// depends on both lanes closes the pair. A pair whose lighter lane has less
// than a quarter of its work so far (one lane used, or a constant beside a
// product) is closed before the next level, so that a level of independent
// ops (a layer's weight and input gradients after their common gradient)
// starts a pair of its own rather than following its predecessor into one lane.
#include "passes/Lanes.h"

#include <algorithm>

namespace mtl::passes {
namespace {

using ir::OpKind;
using ir::ValueId;

Work perRowOrFixed(const ir::TensorType &t, int64_t n) {
  return t.batched ? Work{n, 0} : Work{0, n};
}

Work elements(const ir::TensorType &t) { return perRowOrFixed(t, t.rowElements() * kElementWork); }

void add(Work &w, const Work &more) {
  w.perRow += more.perRow;
  w.fixed += more.fixed;
}

/// Rows of a value's matrix view [rows, last dim] as work: per batch row or fixed.
Work matrixRows(const ir::TensorType &t, int64_t factor) {
  return perRowOrFixed(t, t.rowElements() / std::max<int64_t>(t.lastDim(), 1) * factor);
}

/// The ops with code whose values op `id` reads: its operands', through
/// fused operands and views (reshapes) to the values they read.
std::vector<ValueId> producers(const ir::Graph &graph, ValueId id, const std::vector<bool> &fused) {
  std::vector<ValueId> out, todo = graph.op(id).operands;
  while (!todo.empty()) {
    ValueId v = todo.back();
    todo.pop_back();
    if (hasCode(graph, v, fused))
      out.push_back(v);
    else
      todo.insert(todo.end(), graph.op(v).operands.begin(), graph.op(v).operands.end());
  }
  return out;
}

/// The pair of lanes being built, by position in the step's list of ops.
struct Pair {
  std::vector<int> lanes[2];
  Work work[2];
  bool used(int lane) const { return !lanes[lane].empty(); }
};

class Planner {
public:
  Planner(const ir::Graph &graph, const std::vector<ValueId> &ids, const std::vector<bool> &fused)
      : ids(ids), laneOf(ids.size(), -1) {
    const size_t n = ids.size();
    std::vector<int> position(graph.size(), -1), level(n, 0);
    for (size_t i = 0; i < n; ++i)
      position[ids[i]] = static_cast<int>(i);
    preds.resize(n);
    int top = -1;
    for (size_t i = 0; i < n; ++i) {
      work.push_back(opWork(graph, ids[i], fused));
      splitsFrom.push_back(ir::opInfo(graph.op(ids[i]).kind).opClass == ir::OpClass::Dense
                               ? kProductSplitWork
                               : kSplitWork);
      for (ValueId v : producers(graph, ids[i], fused)) {
        int j = position[v];
        if (j < 0)
          continue; // not among the ops planned (a value the caller computes)
        preds[i].push_back(j);
        level[i] = std::max(level[i], level[static_cast<size_t>(j)] + 1);
      }
      top = std::max(top, level[i]);
    }
    byLevel.resize(static_cast<size_t>(top + 1));
    for (size_t i = 0; i < n; ++i)
      byLevel[static_cast<size_t>(level[i])].push_back(static_cast<int>(i));
  }

  std::vector<Segment> run() {
    for (std::vector<int> &ops : byLevel) {
      if (!balanced())
        close();
      if (!join(ops)) {
        close();
        join(ops); // in a new pair nothing depends on a lane, and nothing was balanced
      }
    }
    close();
    // Ops between pairs keep the step's order: an op the levels would
    // hoist (a constant, a head's first product) is computed where the
    // memory plan made in that order has room for it.
    for (Segment &s : segments)
      if (s.lanes[1].empty())
        std::sort(s.lanes[0].begin(), s.lanes[0].end());
    return std::move(segments);
  }

private:
  int64_t reference(int i) const { return work[static_cast<size_t>(i)].at(kReferenceRows); }

  /// Whether the pair's lighter lane has at least a quarter of its work.
  bool balanced() const {
    int64_t a = pair.work[0].at(kReferenceRows), b = pair.work[1].at(kReferenceRows);
    return pair.used(0) && pair.used(1) && 4 * std::min(a, b) >= a + b;
  }

  /// Adds the ops of one level to the pair; false (and the pair as it was)
  /// when one of them depends on both lanes, or when a balanced pair would
  /// no longer be (a long chain after a few ops beside it).
  bool join(std::vector<int> ops) {
    std::stable_sort(ops.begin(), ops.end(),
                     [&](int a, int b) { return reference(a) > reference(b); });
    Pair before = pair;
    const bool wasBalanced = balanced();
    std::vector<int> added;
    auto undo = [&] {
      for (int a : added)
        laneOf[static_cast<size_t>(a)] = -1;
      pair = before;
      return false;
    };
    for (int i : ops) {
      bool on[2] = {false, false};
      for (int p : preds[static_cast<size_t>(i)])
        if (laneOf[static_cast<size_t>(p)] >= 0)
          on[laneOf[static_cast<size_t>(p)]] = true;
      if (on[0] && on[1])
        return undo();
      int lane = on[0]   ? 0
                 : on[1] ? 1
                         : (pair.work[1].at(kReferenceRows) < pair.work[0].at(kReferenceRows));
      pair.lanes[lane].push_back(i);
      add(pair.work[lane], work[static_cast<size_t>(i)]);
      laneOf[static_cast<size_t>(i)] = lane;
      added.push_back(i);
    }
    return wasBalanced && !balanced() ? undo() : true;
  }

  /// Whether the pair runs on two threads at `rows` (Lanes.h, kSplitWork and
  /// kProductSplitWork).
  bool pays(int64_t rows) const {
    int64_t a = pair.work[0].at(rows), b = pair.work[1].at(rows), oneByOne = 0;
    for (const std::vector<int> &lane : pair.lanes)
      for (int i : lane) {
        int64_t w = work[static_cast<size_t>(i)].at(rows);
        oneByOne += w >= splitsFrom[static_cast<size_t>(i)] ? w / 2 + kWakeWork : w;
      }
    return std::min(a, b) >= kLaneWork && std::max(a, b) + 2 * kWakeWork < oneByOne;
  }

  /// Ends the pair: two lanes where they pay at some batch, else one.
  void close() {
    for (int lane = 0; lane < 2; ++lane) {
      std::sort(pair.lanes[lane].begin(), pair.lanes[lane].end());
      for (int i : pair.lanes[lane])
        laneOf[static_cast<size_t>(i)] = -1;
    }
    Segment s;
    if (balanced())
      for (int64_t rows = 1; rows <= 65536; rows *= 2)
        if (pays(rows)) {
          s.minRows = s.minRows ? s.minRows : rows;
          s.maxRows = rows;
        }
    if (s.maxRows > 0) {
      for (int lane = 0; lane < 2; ++lane)
        for (int i : pair.lanes[lane])
          s.lanes[lane].push_back(ids[static_cast<size_t>(i)]);
      segments.push_back(std::move(s));
    } else if (pair.used(0) || pair.used(1)) {
      std::vector<int> all = pair.lanes[0];
      all.insert(all.end(), pair.lanes[1].begin(), pair.lanes[1].end());
      std::sort(all.begin(), all.end());
      if (segments.empty() || !segments.back().lanes[1].empty())
        segments.emplace_back();
      for (int i : all)
        segments.back().lanes[0].push_back(ids[static_cast<size_t>(i)]);
    }
    pair = Pair{};
  }

  const std::vector<ValueId> &ids;
  std::vector<Work> work;
  std::vector<int64_t> splitsFrom; ///< per op: the work from which it splits by itself
  std::vector<std::vector<int>> preds, byLevel;
  std::vector<int> laneOf;
  Pair pair;
  std::vector<Segment> segments;
};

/// A product's multiply-adds: a sum over a's last dimension per output
/// element, or (MatMulTN, MatMulSumNT) over a's rows per output element.
Work productWork(const ir::Graph &graph, const ir::Op &op) {
  const ir::TensorType &a = graph.type(op.operands[0]);
  bool sumsRows = op.kind == OpKind::MatMulTN || op.kind == OpKind::MatMulSumNT;
  return matrixRows(sumsRows ? a : op.type, a.lastDim() * op.type.lastDim());
}

} // namespace

Work opWork(const ir::Graph &graph, ValueId id, const std::vector<bool> &fused) {
  const ir::Op &op = graph.op(id);
  if (ir::opInfo(op.kind).opClass == ir::OpClass::Dense)
    return productWork(graph, op);
  Work w = elements(op.type);
  std::vector<ValueId> todo = op.operands;
  while (!todo.empty()) {
    ValueId v = todo.back();
    todo.pop_back();
    if (fused.empty() || !fused[v]) {
      add(w, elements(graph.type(v)));
      continue;
    }
    const ir::Op &inner = graph.op(v);
    if (ir::opInfo(inner.kind).opClass == ir::OpClass::Dense) // a narrow product (Fusion.h)
      add(w, productWork(graph, inner));
    todo.insert(todo.end(), inner.operands.begin(), inner.operands.end());
  }
  return w;
}

bool hasCode(const ir::Graph &graph, ValueId id, const std::vector<bool> &fused) {
  OpKind kind = graph.op(id).kind;
  return !ir::isNamedLeaf(kind) && kind != OpKind::Reshape && (fused.empty() || !fused[id]);
}

std::vector<Segment> planLanes(const ir::Graph &graph, const std::vector<ValueId> &ops,
                               const std::vector<bool> &fused, size_t maxOps) {
  std::vector<ValueId> coded;
  for (ValueId id : ops)
    if (hasCode(graph, id, fused))
      coded.push_back(id);
  if (coded.size() > maxOps) {
    std::vector<Segment> one(1);
    one[0].lanes[0] = std::move(coded);
    return one;
  }
  return Planner(graph, coded, fused).run();
}

} // namespace mtl::passes
