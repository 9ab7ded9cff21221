// Lanes.h: which ops of a step may run side by side, one lane per thread.
#pragma once

#include "ir/Graph.h"

#include <vector>

namespace mtl::passes {

/// An estimate of an op's time as work units at run time, `perRow * B +
/// fixed` for a batch of B rows: multiply-adds for matrix products,
/// kElementWork per element read or written for every other op.
struct Work {
  int64_t perRow = 0, fixed = 0;
  int64_t at(int64_t rows) const { return perRow * rows + fixed; }
};
constexpr int64_t kElementWork = 2;

/// The work of computing value `id`, its fused operands included.
Work opWork(const ir::Graph &graph, ir::ValueId id, const std::vector<bool> &fused);

/// A stretch of a step's ops. With `lanes[1]` empty, `lanes[0]` runs in
/// order. Otherwise no op of one lane reads a value the other computes, so
/// the two lanes may run at once on two threads, or one after the other in
/// either order, with the same results; each lane runs in its own order.
/// The memory plan made for the segments (planMemory) gives the values of
/// a pair slots that neither lane reuses until the pair has ended.
struct Segment {
  std::vector<ir::ValueId> lanes[2];
  /// The batches (rows) at which a pair runs on two threads; at others
  /// its lanes run one after the other.
  int64_t minRows = 0, maxRows = 0;
};

/// The batch at which lanes are balanced.
constexpr int64_t kReferenceRows = 256;
/// The cost model of running a pair on two threads, in work units: an op of
/// kSplitWork or more splits over the threads by itself (the code
/// generator's parallelRows), a matrix product from kProductSplitWork
/// multiply-adds (halving a product of fewer saves less than the hand-over
/// costs: M1/32's step on two threads took 14-32 us splitting its 160,000
/// and 10 us not, on the 2-vCPU AMD host, bench/README.md); waking the pool's other thread costs
/// about kWakeWork; a pair runs on two threads only where its lighter lane has kLaneWork or more,
/// and its heavier lane plus one wake-up takes less than its ops one after the other, each one that
/// splits taking half its work plus a wake-up (so lanes pay where they save wake-ups or run ops
/// that would not split, not where one lane would wait for the other).
constexpr int64_t kSplitWork = 1 << 16, kProductSplitWork = 1 << 18, kWakeWork = 1 << 16,
                  kLaneWork = 1 << 18;

/// Whether value `id` is computed by code of its own: not an input,
/// parameter or buffer, not a reshape (a view), not fused into its consumer.
bool hasCode(const ir::Graph &graph, ir::ValueId id, const std::vector<bool> &fused);

/// Cuts the ops with code among `ops` (a step's values in graph order) into
/// segments run in turn. Ops that depend on each other keep their order;
/// independent ones (the heads of several tasks, a layer's weight and input
/// gradients, experts) go into two lanes of about equal work. A pair of
/// lanes whose lighter one has under a quarter of the pair's work at
/// kReferenceRows, or that runs on two threads at no batch of 1 to 65,536
/// rows, stays one lane. More than `maxOps` ops give one lane.
std::vector<Segment> planLanes(const ir::Graph &graph, const std::vector<ir::ValueId> &ops,
                               const std::vector<bool> &fused, size_t maxOps);

} // namespace mtl::passes
