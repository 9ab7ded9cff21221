// Update.h: the optimizer's update of one parameter element, as a graph.
#pragma once

#include "ir/Graph.h"
#include "sema/Model.h"

#include <string>
#include <vector>

namespace mtl::lower {

/// PyTorch's SGD (with momentum), Adam or AdamW update of one element of a
/// parameter, in PyTorch's order of operations, as a graph of f32 scalars:
/// code generation emits it inside each tensor's update loop and the
/// interpreter runs it as the reference (docs/architecture.md). The
/// per-step scalars that need double precision (Adam's bias corrections)
/// are inputs, computed by the update's prologue.
struct UpdateGraph {
  ir::Graph graph;
  ir::ValueId param = -1, grad = -1; ///< inputs "param" and "grad"
  /// The optimizer-state slots of each tensor, in arena order: "momentum_buffer"
  /// (sgd with momentum), or "exp_avg" and "exp_avg_sq" (adam, adamw).
  std::vector<std::string> slots;
  std::vector<ir::ValueId> slotInputs; ///< inputs "state.<slot>"
  /// Scalar inputs: the learning rate (times the tensor's scale); Adam's step
  /// size lr / (1 - β1^t) and sqrt(1 - β2^t); AdamW's decay factor 1 - lr·wd.
  /// -1 where the optimizer has none.
  ir::ValueId lr = -1, stepSize = -1, bc2Sqrt = -1, decay = -1;
  ir::ValueId nextParam = -1;         ///< result "param"
  std::vector<ir::ValueId> nextSlots; ///< results "state.<slot>", as `slots`
};

UpdateGraph lowerUpdate(const sema::Optimizer &opt);

} // namespace mtl::lower
