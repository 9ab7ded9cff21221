// CodeGen.cpp: plans memory for both step functions and assembles the module.
#include "codegen/CodeGen.h"

#include "codegen/Descriptor.h"
#include "codegen/StepFunctions.h"
#include "passes/DeadCode.h"

namespace mtl::codegen {

std::unique_ptr<llvm::Module> generateModule(const CodegenInput &input, llvm::LLVMContext &ctx) {
  auto module = std::make_unique<llvm::Module>(input.model.name, ctx);
  const ir::Graph &g = input.graph;
  const ir::StepSignature &sig = input.signature;
  ArenaLayout layout = layoutArenas(g, input.model);

  // Train computes every result of the step; eval the losses and head outputs.
  std::vector<ir::ValueId> trainRoots = passes::resultValues(sig);
  std::vector<ir::ValueId> evalRoots = sig.taskLosses;
  evalRoots.push_back(sig.loss);
  if (sig.penalty >= 0)
    evalRoots.push_back(sig.penalty);
  evalRoots.insert(evalRoots.end(), sig.outputs.begin(), sig.outputs.end());

  std::vector<bool> evalNeeded = passes::neededFor(g, evalRoots);
  std::vector<bool> trainNeeded = passes::neededFor(g, trainRoots);
  auto liveMask = [&](const std::vector<ir::ValueId> &roots) {
    std::vector<bool> live(g.size(), false);
    for (ir::ValueId r : roots)
      live[r] = true;
    return live;
  };
  passes::MemoryPlan evalPlan = passes::planMemory(g, evalNeeded, liveMask(evalRoots), input.fused);
  passes::MemoryPlan trainPlan =
      passes::planMemory(g, trainNeeded, liveMask(trainRoots), input.fused);

  // Scratch for the largest transposed dense weight.
  int64_t scratch = 0;
  for (const ir::Op &op : g.ops())
    if (op.kind == ir::OpKind::Linear)
      scratch = std::max(scratch, g.type(op.operands[1]).rowElements());

  llvm::Function *train = emitStepFunction({*module, g, sig, trainPlan, trainNeeded, layout,
                                            input.model.optimizer, input.fused, scratch, true});
  llvm::Function *eval = emitStepFunction({*module, g, sig, evalPlan, evalNeeded, layout,
                                           input.model.optimizer, input.fused, scratch, false});

  DescriptorInfo info;
  info.sourceHash = input.sourceHash;
  info.targetCpu = input.targetCpu;
  info.symbol = input.symbol;
  info.config = input.config;
  // The runtime allocates fixed + rows * perRow floats; the maxima of the two
  // plans (plus the scratch both share) cover each function's own layout.
  info.workspaceFixed = std::max(trainPlan.fixedSize, evalPlan.fixedSize) + scratch;
  info.workspacePerRow = std::max(trainPlan.perRowSize, evalPlan.perRowSize);
  info.trainStep = train;
  info.evalStep = eval;
  emitDescriptor(*module, input.model, layout, info);
  return module;
}

} // namespace mtl::codegen
