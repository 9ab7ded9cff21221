// Activations.h: a relu after a product or batch_norm is applied in that
// op's stores, its derivative after a max pool in the pool gradient's.
#pragma once

#include "ir/Graph.h"
#include "ir/Signature.h"

namespace mtl::passes {

/// Gives each product (linear, matmul_left) or batch_norm read only by a
/// relu, or only by a reshape read only by a relu (a convolution's output),
/// that relu as its activation, and makes the relu's readers read its
/// operand: the op's code then applies it to each finished element before
/// storing it, so the value before the relu is never stored and read back.
/// Runs after autodiff, whose relu adjoint reads the relu's output, not its
/// input (batch_norm's reads its input). An op that is a result of the step,
/// or that anything else reads, keeps its value. Likewise
/// `mul(max_pool_grad(g, x), step(x))`, the derivative of a relu before a
/// max pool, becomes the pool gradient with the relu (each element times
/// step(x) as it is stored), where its windows do not overlap and nothing
/// else reads it. Returns the number of relus and muls fused (removed with
/// dead code elimination).
size_t fuseActivations(ir::Graph &graph, ir::StepSignature &signature);

} // namespace mtl::passes
