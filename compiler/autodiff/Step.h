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
///
/// With `splitByTask`, when at least two tasks share parameters, also fills
/// `signature.taskGradients` (d w_t L_t / d p for each shared p, results
/// "taskgrad.<task index>.<param>") and `signature.penaltyGradients`
/// ("penaltygrad.<param>"), so a balancing method can combine the tasks'
/// gradients itself: Σ_t taskGradients[t][k] + penaltyGradients[k] is the
/// shared parameter's gradient of the total loss. With them, when the tasks
/// share a representation (`signature.sharedValues`), fills
/// `signature.repGram`, the Gram matrix of the tasks' gradients on it
/// (results "repgram.<i>.<j>", i <= j), for mgda(rep).
std::vector<Diagnostic> differentiateStep(ir::Graph &graph, ir::StepSignature &signature,
                                          bool splitByTask);

} // namespace mtl::autodiff
