// Fusion.h: which element-wise ops are computed inside their consumer's loop.
#pragma once

#include "ir/Graph.h"
#include "ir/Signature.h"

#include <vector>

namespace mtl::passes {

/// Marks the element-wise ops (unary or binary) that code generation fuses
/// into the loop of their consumer instead of storing: an op whose value is
/// read exactly once, by an element-wise op of the same type or a sum or
/// mean over it (reduce_sum, reduce_mean), and is not a result of the step.
/// A chain `a * step(x) + b` then becomes one loop with no intermediate
/// buffers, and `reduce_sum(square(x - m))` one pass over x, which saves
/// memory traffic (the bound on element-wise work) and workspace.
std::vector<bool> fuseElementwise(const ir::Graph &graph, const ir::StepSignature &signature);

} // namespace mtl::passes
