// StepFunctions.h: emission of the train and eval step functions.
#pragma once

#include "codegen/Emitter.h"
#include "codegen/Layout.h"
#include "ir/Signature.h"
#include "sema/Model.h"

namespace mtl::codegen {

/// Which entry point of the ABI a step function is.
enum class StepKind {
  Grad,     ///< mtl.grad_step: forward and backward into the gradient arena
  TaskGrad, ///< mtl.task_grad_step: as Grad, with each task's shared gradient apart
  RepGram,  ///< mtl.rep_grad_step: forward, the heads' backward, the representation's Gram
  Eval,     ///< mtl.eval_step: forward only, dropout off
};

/// What one step function needs: the graph, which of its values to compute,
/// and where they live.
struct StepFunctionSpec {
  llvm::Module &module;
  const ir::Graph &graph;
  const ir::StepSignature &signature;
  const passes::MemoryPlan &plan;
  const std::vector<bool> &needed;
  const std::vector<passes::Segment> &segments; ///< the ops in the order `plan` was made for
  const ArenaLayout &layout;
  const std::vector<bool> &fused;   ///< see passes/Fusion.h; may be empty
  const std::vector<bool> &carried; ///< see passes/Fusion.h, carriedProducts; may be empty
  int64_t scratchFloats = 0;        ///< each of two scratch areas after the planned fixed region
  StepKind kind = StepKind::Grad;
  VectorUnit vectors;                                         ///< see Emitter::vectors
  std::map<std::string, llvm::Function *> *sameOps = nullptr; ///< see Emitter::sameOps
};

/// `floats` rounded up to whole 64-byte cache lines.
int64_t cacheLines(int64_t floats);
/// The floats of the workspace before its rows: the plan's fixed region,
/// then two scratch areas of `scratchFloats` (one per lane), each from a
/// cache line, as emitStepFunction lays them out.
int64_t workspaceFixed(const passes::MemoryPlan &plan, int64_t scratchFloats);

/// Emits a step function with the signature of its mtl_model entry in Abi.h.
llvm::Function *emitStepFunction(const StepFunctionSpec &spec);

/// The gradient arena's values of a step of `kind` (Grad or TaskGrad), in
/// the order emitStepFunction stores them: the roots its plan keeps live.
std::vector<ir::ValueId> gradientRoots(const ir::StepSignature &signature,
                                       const ArenaLayout &layout, StepKind kind);

/// Emits `mtl.update`: the optimizer over the gradient arena (see Update.h),
/// for the target's `vectors`, splitting a tensor over the threads where the
/// gradient step split its gradient (gradientWork, mtl_result.rows).
llvm::Function *emitUpdateFunction(llvm::Module &module, const ir::Graph &graph,
                                   const ir::StepSignature &signature,
                                   const passes::MemoryPlan &plan, const ArenaLayout &layout,
                                   const lower::StepModel &model, const VectorUnit &vectors);

} // namespace mtl::codegen
