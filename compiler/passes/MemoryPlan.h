// MemoryPlan.h: compile-time placement of every intermediate value in the workspace.
#pragma once

#include "ir/Graph.h"
#include "passes/Lanes.h"

#include <vector>

namespace mtl::passes {

/// Where each value of a graph lives. Params are in the parameter arena (the
/// caller's layout); Inputs are the caller's buffers; every other value gets a
/// slot in the workspace arena: static values in a fixed region, batched values
/// in a region whose size scales with the batch. Slots are reused once a value
/// is dead (first-fit over live ranges), so the workspace is far smaller than
/// the sum of all values. Reshape aliases its operand's slot.
struct MemoryPlan {
  /// Per value: the value whose storage it uses (itself, or what a Reshape views).
  std::vector<ir::ValueId> storage;
  /// Per value that owns storage: offset in floats. Static values: from the
  /// workspace start. Batched values: `fixedSize + offset * B`.
  std::vector<int64_t> offset;
  int64_t fixedSize = 0;
  int64_t perRowSize = 0;
};

/// Plans `graph`. `live` marks values that must stay alive until the end of
/// the step (results, gradients read by the optimizer); `needed` marks the
/// values that will be computed at all (others get no slot); `fused` marks
/// values computed inside their consumer's loop (no slot; their operands stay
/// alive until the consumer runs). An empty `fused` means none. `carried`:
/// as for the planMemory below.
MemoryPlan planMemory(const ir::Graph &graph, const std::vector<bool> &needed,
                      const std::vector<bool> &live, const std::vector<bool> &fused = {},
                      const std::vector<bool> &carried = {});

/// planMemory for ops run as `segments` (planLanes over the needed values),
/// in their order: a value of a pair of lanes keeps its slot until the
/// pair has ended, and a slot freed in a pair is reused only after it, so
/// the lanes never write where the other reads or writes. `carried` marks
/// values computed inside their consumer's loop that keep their slot
/// (passes/Fusion.h, carriedProducts): their operands, too, stay alive until
/// the consumer runs. An empty `carried` means none.
MemoryPlan planMemory(const ir::Graph &graph, const std::vector<bool> &needed,
                      const std::vector<bool> &live, const std::vector<bool> &fused,
                      const std::vector<Segment> &segments, const std::vector<bool> &carried = {});

/// The values needed to compute `roots`: each root and, transitively, its
/// operands; in an evaluation step (`training` false) a train_select reads
/// only its second operand.
std::vector<bool> neededFor(const ir::Graph &graph, const std::vector<ir::ValueId> &roots,
                            bool training = true);

} // namespace mtl::passes
