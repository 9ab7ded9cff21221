// Lower.h: sema::Model -> the IR graph of one training step (forward and losses).
#pragma once

#include "ir/Graph.h"
#include "ir/Signature.h"
#include "lower/StepModel.h"
#include "sema/Model.h"
#include "support/Diagnostics.h"

#include <vector>

namespace mtl::lower {

/// A lowered model: the forward graph up to the total loss, and its signature.
/// `signature.gradients` is left empty; autodiff::differentiateStep fills it.
struct LoweredStep {
  ir::Graph graph;
  ir::StepSignature signature;
  StepModel model;                ///< what code generation needs of the model besides the graph
  std::vector<Diagnostic> errors; ///< empty on success

  bool ok() const { return errors.empty(); }
};

/// Lowers a checked model into one training step:
///   inputs (named as the model's inputs) -> modules -> heads ("output.<task>")
///   -> per-task masked mean losses ("loss.<task>", targets "target.<task>",
///   NaN = missing) -> sum_t w_t L_t with each weight a scalar input
///   "weight.<task>" (the runtime feeds the static weights, adaptive methods
///   their own) -> + l1/l2 terms + lambda sum_t ||theta_t - theta_mean||^2 per
///   soft-sharing group -> the total loss ("loss").
/// Each mix's gate is recorded in `signature.gates` for telemetry.
/// Each value of the model is computed once, so a shared module's output fans
/// out to every head that reads it. Parameters are named by the layers'
/// checkpoint prefixes ("trunk.0.weight", [out, in]); a module applied twice
/// reuses its parameters. Dropout reads the scalar f32 input "train.step" and has a
/// per-layer seed that the run's seed is mixed into at run time. Classification targets hold
/// one class id per row ([B, 1]); other targets have the head's width. Ops
/// carry the location of the chain that created them. Malformed models (bad
/// indices, unsupported balancing) yield errors, never a crash.
LoweredStep lowerModel(const sema::Model &model);

} // namespace mtl::lower
