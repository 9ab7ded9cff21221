// Step.h: completing a lowered training step with the gradients of its parameters.
#pragma once

#include "ir/Graph.h"
#include "ir/Signature.h"
#include "support/Diagnostics.h"

#include <vector>

namespace mtl::autodiff {

/// Differentiates `signature.loss` w.r.t. every Param of `graph` (appending
/// the backward ops to `graph`) and fills `signature.gradients` with one entry
/// per parameter, in definition order, so code generation can update each
/// parameter the same way. A parameter without a path to the loss gets an
/// explicit zero gradient (broadcast_like 0.0 to its type). Returns the
/// errors of `differentiate`, empty on success.
std::vector<Diagnostic> differentiateStep(ir::Graph &graph, ir::StepSignature &signature);

} // namespace mtl::autodiff
