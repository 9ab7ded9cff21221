// Update.h: the optimizer step, generated per parameter tensor.
#pragma once

#include "codegen/Emitter.h"
#include "codegen/Layout.h"
#include "lower/Update.h"
#include "sema/Model.h"

namespace mtl::codegen {

/// The run-time values of an update.
struct UpdateInputs {
  llvm::Value *lr;       ///< f32
  llvm::Value *lrScales; ///< pointer to one f32 per parameter tensor, or null (all 1)
  llvm::Value *step;     ///< i64, 1-based
  llvm::Value *grads;    ///< the gradient arena (the buffers' next values)
  llvm::Value *rows;     ///< i64: the rows of the gradient step (mtl_result.rows)
};

/// A model of more parameter tensors than this has its tensors' gradient
/// checks and updates in `noinline` functions (`mtl.update.part`) of
/// kUpdatePart tensors each, compiled at the requested level as any other:
/// the loops of small tensors are inline, and one function over 385 tensors
/// of one element took LLVM's SLP vectoriser 8.5 s to optimise (384: 1.2 s
/// in all; bench/README.md, "Compile time").
inline constexpr size_t kUpdatePart = 32;

/// Per parameter of `layout.params`: the multiply-adds per batch row of the
/// weight-gradient products (a dense layer's MatMulTN, a convolution's
/// MatMulSumNT) that make its gradient, through reshapes, transposes and
/// sums, or its size where that is more or there are none (a bias).
std::vector<int64_t> gradientWork(const ir::Graph &graph, const ir::StepSignature &signature,
                                  const ArenaLayout &layout);

/// Emits one fused loop per parameter running `u`, the update graph of `opt`
/// (PyTorch's SGD, Adam or AdamW update, in PyTorch's order of operations),
/// on each element, after a prologue that computes the graph's per-step
/// scalars from `opt` (Adam's bias corrections in double), with the gradient
/// of `layout.params[k]` at its offset in in.grads and learning rate lr * lrScales[k]; a
/// tensor whose scale is 0 is left as it is, optimizer state included (as
/// PyTorch leaves a parameter without a gradient). The other
/// hyper-parameters are constants. The update runs only while the i32 at
/// `refused` is 0; a learning rate or step size of 2^60 or more sets it. Any
/// non-finite value stored sets the i32 at `overflowed`. With the update,
/// each of `layout.buffers` takes the next value a training step left at
/// its place in the gradient arena. A tensor's check and update split over
/// the threads only where its gradient's product did: at in.rows x
/// gradientWork[k] multiply-adds of Emitter::kParallelProductWork.
void emitUpdate(Emitter &e, const sema::Optimizer &opt, const lower::UpdateGraph &u,
                const ArenaLayout &layout, llvm::Value *params, llvm::Value *state,
                const UpdateInputs &in, const std::vector<int64_t> &gradientWork,
                llvm::Value *refused, llvm::Value *overflowed);

} // namespace mtl::codegen
