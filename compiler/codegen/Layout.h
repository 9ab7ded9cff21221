// Layout.h: where parameters and optimizer state live in their arenas.
#pragma once

#include "ir/Graph.h"
#include "ir/Signature.h"
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
  std::vector<float> initValues; ///< MTL_INIT_VALUES: one per element
  ir::ValueId param = -1;        ///< the Param or Buffer op (not for optimizer state)
  bool buffer = false;           ///< a Buffer: not trained; the update stores its next value
};

/// The parameter arena (every Param of the graph, in definition order) and the
/// optimizer-state arena (per parameter: momentum_buffer for sgd with
/// momentum; exp_avg and exp_avg_sq for adam and adamw). Tensors start on
/// 16-float (64-byte) boundaries so vector loads stay aligned.
struct ArenaLayout {
  std::vector<PlacedTensor> params;
  /// The Buffer ops, in the parameter arena after the parameters; a
  /// training step writes each one's next value at its place in the
  /// gradient arena, and the update copies it over.
  std::vector<PlacedTensor> buffers;
  std::vector<PlacedTensor> state;
  int64_t paramsSize = 0;
  int64_t stateSize = 0;
  /// Per parameter (same order): indices into `state` of its slots.
  std::vector<std::vector<int>> stateOf;
  /// The shared parameters as laid out in each task's block of the gradient
  /// arena (after its first paramsSize floats, one block of sharedSize per
  /// task); `param` is the Param op, as in `params`.
  std::vector<PlacedTensor> shared;
  int64_t sharedSize = 0;
  /// Floats of the gradient arena: paramsSize, plus a block per task when
  /// the step splits gradients by task, plus, when the tasks share a
  /// representation, the T x T Gram matrix of their gradients on it and a
  /// paramsSize block for the unshared parameters' gradients.
  int64_t gradsSize = 0;
  /// Where that Gram matrix starts in the gradient arena (the block follows).
  int64_t repGramOffset = 0;
  /// The index into `params` of each of `shared`.
  std::vector<int> sharedIndex;
};

/// Lays out parameters, state and gradients, each parameter with the
/// initialisation lowering chose (StepModel::init); the shared parameters'
/// task blocks count in gradsSize only when `signature.taskGradients` is set.
ArenaLayout layoutArenas(const ir::Graph &graph, const ir::StepSignature &signature,
                         const lower::StepModel &model);

} // namespace mtl::codegen
