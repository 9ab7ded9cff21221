// DeadCode.h: dead-code elimination on a training-step graph.
#pragma once

#include "ir/Graph.h"
#include "ir/Signature.h"

namespace mtl::passes {

/// Removes every op that no result of `signature` (loss, task losses, outputs,
/// gradients, gate probes) depends on, renumbering the survivors and the signature's ids.
/// Inputs and parameters always stay, so the step's interface is unchanged.
/// Returns the number of ops removed.
size_t eliminateDeadCode(ir::Graph &graph, ir::StepSignature &signature);

/// The signature's result values: what a step must compute.
std::vector<ir::ValueId> resultValues(const ir::StepSignature &signature);

/// Applies `map` (old id → new id) to every id of the signature.
void remapSignature(ir::StepSignature &signature, const std::vector<ir::ValueId> &map);

} // namespace mtl::passes
