// Fusion.h: which element-wise ops are computed inside their consumer's loop.
#pragma once

#include "ir/Graph.h"

#include <vector>

namespace mtl::passes {

/// The most steps a fused matrix product sums (see fuseElementwise).
constexpr int64_t kFusedProductSteps = 8;

/// Marks, among the ops of one step (`needed`, passes::neededFor of its
/// `roots`), the element-wise ops (unary or binary) that code generation
/// fuses into the loop of their consumer instead of storing: an op whose
/// value that step reads exactly once, by an element-wise op of the same
/// type or a sum or mean over it (reduce_sum, reduce_mean), and is not one
/// of its roots (which it keeps). Each step decides for itself: a value that
/// another step also reads (a head's gradient that task_grad_step keeps per
/// task) still fuses in the step that reads it once.
/// A chain `a * step(x) + b` then becomes one loop with no intermediate
/// buffers, and `reduce_sum(square(x - m))` one pass over x, which saves
/// memory traffic (the bound on element-wise work) and workspace.
///
/// A matrix product over at most kFusedProductSteps steps (`matmul a, w`
/// with w a weight: the input gradient of a head such as `dense(1)`) fuses
/// into an element-wise consumer of its type the same way: each element is
/// Σ_p a[r, p] w[p, c] from zero in step order, with the multiply-adds of
/// the product's tiles, so the bits are the product's. Several tasks' heads
/// on one trunk then give the trunk one loop over its gradient, not one
/// product per head and their sum.
std::vector<bool> fuseElementwise(const ir::Graph &graph, const std::vector<ir::ValueId> &roots,
                                  const std::vector<bool> &needed);

/// Marks, among the ops of one step, the values that code generation
/// computes image by image inside their consumers' loops: a `matmul_left`
/// (a convolution's input gradient as columns, the transposed weight times
/// each image's output gradient) that the step reads exactly once, by the
/// `im2col_grad` that adds those columns back into the image, and is not one
/// of its roots. Each thread computes an image's columns into the product's
/// slot of the first image of its share and adds them back at once, so the
/// columns (9 C OH OW floats an image: 58 MB at M5's batch of 256) stay in
/// the cache instead of going to memory and back. Code generation does so
/// from codegen::Emitter::kCarriedRows rows on; below, the product runs in
/// its own loop first, as any op. Unlike a fused value, a carried one keeps
/// its place in the memory plan, and its operands stay alive until the
/// consumer runs. Each element is the same sum in the same order: the bits
/// do not change.
///
/// Also marks a convolution's columns (an `im2col` that is not a root)
/// whose every reader is a product that can compute them: the forward
/// `matmul_left` (its right operand) and the weight gradient `matmul_sum_nt`
/// (its left). Code generation carries them at any batch size (no loop of
/// their own, one version of each product). The forward product computes
/// each image's columns just before multiplying them; where the batch's
/// columns would not stay in the cache (codegen::Emitter::kCachedColumns)
/// it computes them into the slot of its share's first image, and the
/// weight gradient computes its threads' rows of each image's columns into
/// the slot of image 0 when its sum reaches that image. The 58 MB of M5's
/// columns at 256 rows are then neither written to memory nor read back
/// twice; only the image they come from (1/9 of their size for a 3 x 3
/// kernel) is read, and it stays alive until the weight gradient. Smaller
/// batches' columns are stored by the forward product and read back.
std::vector<bool> carriedProducts(const ir::Graph &graph, const std::vector<ir::ValueId> &roots,
                                  const std::vector<bool> &needed);

} // namespace mtl::passes
