// Layout.h: where parameters and optimizer state live in their arenas.
#pragma once

#include "ir/Graph.h"
#include "lower/StepModel.h"

#include <string>
#include <vector>

namespace mtl::codegen {

/// A tensor placed in an arena (floats), with its initialisation.
struct PlacedTensor {
  std::string name;
  std::vector<int64_t> dims;
  int64_t offset = 0;
  int64_t size = 0;
  int init = 0; ///< enum mtl_init
  float initScale = 0;
  ir::ValueId param = -1; ///< the Param op (parameters only)
};

/// The parameter arena (every Param of the graph, in definition order) and the
/// optimizer-state arena (per parameter: momentum_buffer for sgd with
/// momentum; exp_avg and exp_avg_sq for adam and adamw). Tensors start on
/// 16-float (64-byte) boundaries so vector loads stay aligned.
struct ArenaLayout {
  std::vector<PlacedTensor> params;
  std::vector<PlacedTensor> state;
  int64_t paramsSize = 0;
  int64_t stateSize = 0;
  /// Per parameter (same order): indices into `state` of its slots.
  std::vector<std::vector<int>> stateOf;
};

/// Lays out parameters and state, each parameter with the initialisation
/// lowering chose (StepModel::init).
ArenaLayout layoutArenas(const ir::Graph &graph, const lower::StepModel &model);

} // namespace mtl::codegen
