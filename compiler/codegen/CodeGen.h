// CodeGen.h: a training-step graph → an LLVM module implementing the runtime ABI.
#pragma once

#include "codegen/VectorUnit.h"
#include "ir/Graph.h"
#include "ir/Signature.h"
#include "lower/StepModel.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <memory>
#include <string>

namespace mtl::codegen {

/// Everything code generation reads.
struct CodegenInput {
  const lower::StepModel &model; ///< names, tasks, optimizer, initialisation
  const ir::Graph &graph;        ///< forward, loss and gradient ops of one step
  const ir::StepSignature &signature;
  std::string sourceHash;               ///< recorded in the descriptor
  std::string targetCpu;                ///< recorded in the descriptor
  std::string symbol = "mtl_model_get"; ///< the descriptor getter's name
  std::string config; ///< mtl_model.config: the run configuration's JSON (mtlrt/RunConfig.h)
  VectorUnit vectors; ///< the target's vector registers
  /// Whether outlined ops of one key share a function (Emitter::sameOps);
  /// tests/codegen turn it off to check the key against the functions.
  bool shareOps = true;
};

/// Generates `grad_step` (forward and backward into the gradient arena),
/// `task_grad_step` (the same, split by task on the shared parameters; only
/// when two tasks share one), `update` (the optimizer over the arena),
/// `eval_step` (forward only, dropout off), the constant `mtl_model`
/// descriptor of runtime/include/mtlrt/Abi.h and a getter named
/// `input.symbol` returning it. Every shape but the batch is a constant.
std::unique_ptr<llvm::Module> generateModule(const CodegenInput &input, llvm::LLVMContext &ctx);

} // namespace mtl::codegen
