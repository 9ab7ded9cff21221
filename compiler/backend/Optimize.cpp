// Optimize.cpp: mtlc's own pass pipeline (-O2), or LLVM's default one (-O1, -O3).
#include "backend/Optimize.h"

#include <llvm/Passes/PassBuilder.h>
#include <llvm/Transforms/IPO/AlwaysInliner.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/EarlyCSE.h>
#include <llvm/Transforms/Scalar/IndVarSimplify.h>
#include <llvm/Transforms/Scalar/LICM.h>
#include <llvm/Transforms/Scalar/LoopPassManager.h>
#include <llvm/Transforms/Scalar/LoopRotation.h>
#include <llvm/Transforms/Scalar/LoopUnrollPass.h>
#include <llvm/Transforms/Scalar/SROA.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>
#include <llvm/Transforms/Utils/LCSSA.h>
#include <llvm/Transforms/Utils/LoopSimplify.h>
#include <llvm/Transforms/Vectorize/LoopVectorize.h>
#include <llvm/Transforms/Vectorize/SLPVectorizer.h>

namespace mtl::backend {
namespace {

// What mtlc's generated functions need, in order: promote the accumulators
// codegen keeps in allocas to registers and fold the index arithmetic; put
// loops into the rotated form the loop vectoriser wants, hoisting what is
// invariant (row pointers, broadcast values); vectorise loops; pack the
// straight-line code left (short rows) with SLP; unroll loops of a few
// iterations (short rows again, and vector loops with few iterations).
// bench/README.md ("Compile time") measures this against LLVM's O3: a
// quarter to half the compile time, step times within 5%, faster CNN steps.
llvm::FunctionPassManager mtlPipeline() {
  llvm::FunctionPassManager fpm;
  fpm.addPass(llvm::SROAPass(llvm::SROAOptions::ModifyCFG));
  fpm.addPass(llvm::EarlyCSEPass());
  fpm.addPass(llvm::InstCombinePass());
  fpm.addPass(llvm::SimplifyCFGPass());
  fpm.addPass(llvm::LoopSimplifyPass());
  fpm.addPass(llvm::LCSSAPass());
  fpm.addPass(llvm::createFunctionToLoopPassAdaptor(llvm::LoopRotatePass()));
  fpm.addPass(llvm::createFunctionToLoopPassAdaptor(llvm::LICMPass(llvm::LICMOptions()),
                                                    /*UseMemorySSA=*/true));
  fpm.addPass(llvm::createFunctionToLoopPassAdaptor(llvm::IndVarSimplifyPass()));
  fpm.addPass(llvm::LoopVectorizePass());
  fpm.addPass(llvm::InstCombinePass());
  fpm.addPass(llvm::SimplifyCFGPass());
  fpm.addPass(llvm::SLPVectorizerPass());
  fpm.addPass(llvm::InstCombinePass());
  fpm.addPass(llvm::SimplifyCFGPass());
  llvm::LoopUnrollOptions unroll(/*OptLevel=*/3);
  unroll.setRuntime(false);
  // Only loops of at most 8 iterations are unrolled whole: at O3's threshold
  // a 96-step ordered sum became 290 instructions and a 2048-element fill 128
  // vector stores, which cost compile time and gain nothing at run time.
  unroll.setFullUnrollMaxCount(8);
  // No loop is unrolled in part: the vectoriser has interleaved the loops
  // worth it already, and the partial unroller's budget is the target's loop
  // buffer (512 micro-ops for Zen 3), which copied an element-wise kernel's
  // vector body 14 times: M7's functions took 3.1 s of the two cores' time
  // to optimise and compile, 1.0 s without (bench/README.md, "Compile time").
  unroll.setPartial(false);
  fpm.addPass(llvm::LoopUnrollPass(unroll));
  fpm.addPass(llvm::SimplifyCFGPass());
  return fpm;
}

} // namespace

void optimizeModule(llvm::Module &module, llvm::TargetMachine &tm, int optLevel) {
  module.setTargetTriple(tm.getTargetTriple().str());
  module.setDataLayout(tm.createDataLayout());
  if (optLevel <= 0)
    return;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = true;
  pto.SLPVectorization = true;
  pto.LoopUnrolling = true;
  llvm::PassBuilder pb(&tm, pto);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm;
  if (optLevel == 2) {
    // A whole module (`mtlc emit`, `mtlc build --lib`) first takes codegen's
    // outlined op functions back into their callers, as LLVM's pipelines do
    // with `alwaysinline`; in the function cache each function is alone and
    // there is nothing to inline.
    mpm.addPass(llvm::AlwaysInlinerPass());
    mpm.addPass(llvm::createModuleToFunctionPassAdaptor(mtlPipeline()));
  } else
    mpm = pb.buildPerModuleDefaultPipeline(optLevel == 1 ? llvm::OptimizationLevel::O1
                                                         : llvm::OptimizationLevel::O3);
  mpm.run(module, mam);
}

} // namespace mtl::backend
