// StepFunctions.h: emission of the train and eval step functions.
#pragma once

#include "codegen/Emitter.h"
#include "codegen/Layout.h"
#include "ir/Signature.h"
#include "sema/Model.h"

namespace mtl::codegen {

/// What one step function needs: the graph, which of its values to compute,
/// where they live, and (for training) the optimizer.
struct StepFunctionSpec {
  llvm::Module &module;
  const ir::Graph &graph;
  const ir::StepSignature &signature;
  const passes::MemoryPlan &plan;
  const std::vector<bool> &needed;
  const ArenaLayout &layout;
  const sema::Optimizer &optimizer;
  const std::vector<bool> &fused; ///< see passes/Fusion.h; may be empty
  int64_t scratchFloats = 0;      ///< fixed scratch after the planned fixed region
  bool training = true;
};

/// Emits `mtl.train_step` (forward, backward, update) or `mtl.eval_step`
/// (forward only, dropout off) with the signatures of mtl_model in Abi.h.
llvm::Function *emitStepFunction(const StepFunctionSpec &spec);

} // namespace mtl::codegen
