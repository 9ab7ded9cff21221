// Update.h: the optimizer step, generated per parameter tensor.
#pragma once

#include "codegen/Emitter.h"
#include "codegen/Layout.h"
#include "sema/Model.h"

namespace mtl::codegen {

/// Emits one fused loop per parameter applying `opt` (PyTorch's SGD, Adam or
/// AdamW update, in PyTorch's order of operations) with gradient buffers
/// `grads[k]` for `layout.params[k]`. `lr` (f32) and `step` (i64, 1-based)
/// are run-time values; the other hyper-parameters are constants. The
/// update runs only while the i32 at `refused` is 0; a learning rate or step
/// size of 2^60 or more sets it. Any non-finite value stored sets the i32 at
/// `overflowed`.
void emitUpdate(Emitter &e, const sema::Optimizer &opt, const ArenaLayout &layout,
                const std::vector<llvm::Value *> &grads, llvm::Value *params, llvm::Value *state,
                llvm::Value *lr, llvm::Value *step, llvm::Value *refused, llvm::Value *overflowed);

} // namespace mtl::codegen
