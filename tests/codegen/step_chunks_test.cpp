// step_chunks_test.cpp: a step function with more than Emitter::kChunkOps op
// calls is split into chunk functions (`mtl.ops`) of at most that many calls
// each, so that no function the backend compiles grows with the number of
// ops (a gru unrolled over 200 steps); shorter step functions call their ops
// directly, or from a kernel of two lanes where ops run in lanes. Values are unchanged either
// way: jit_vs_interpreter_test runs every example, chunked or not, and e2e jit_binary compares a
// chunked model with its built program.
#include "codegen/Emitter.h"
#include "driver/Pipeline.h"

#include <gtest/gtest.h>
#include <llvm/IR/Instructions.h>

namespace mtl {
namespace step_chunks {

struct Calls {
  size_t ops = 0;    ///< calls of an op's function (`mtl.op`, `mtl.op.N`)
  size_t chunks = 0; ///< calls of a chunk (`mtl.ops`, `mtl.ops.N`)
};

Calls callsIn(const llvm::Function &f) {
  Calls n;
  for (const llvm::BasicBlock &block : f)
    for (const llvm::Instruction &inst : block)
      if (const auto *call = llvm::dyn_cast<llvm::CallInst>(&inst))
        if (const llvm::Function *callee = call->getCalledFunction()) {
          llvm::StringRef name = callee->getName();
          if (name == "mtl.ops" || name.startswith("mtl.ops."))
            ++n.chunks;
          else if (name == "mtl.op" || name.startswith("mtl.op."))
            ++n.ops;
        }
  return n;
}

bool isChunk(const llvm::Function &f) {
  return f.getName() == "mtl.ops" || f.getName().startswith("mtl.ops.");
}

void generate(driver::Compilation &c, const std::string &file, const std::string &model) {
  driver::PipelineOptions options;
  options.modelName = model;
  ASSERT_TRUE(driver::runPipeline(std::string(MTL_SOURCE_DIR) + "/" + file, driver::Stage::Llvm, c,
                                  options))
      << c.diags.render(false);
}

TEST(StepChunks, ALongStepFunctionCallsChunksOfAtMostKChunkOpsOps) {
  driver::Compilation c;
  generate(c, "examples/sequence_gru.mtl", "gru"); // a gru over 24 steps
  for (const char *step : {"mtl.grad_step", "mtl.eval_step"}) {
    const llvm::Function *fn = c.module->getFunction(step);
    ASSERT_NE(fn, nullptr) << step;
    Calls direct = callsIn(*fn);
    EXPECT_EQ(direct.ops, 0u) << step << " calls its ops itself";
    EXPECT_GE(direct.chunks, 2u) << step;
  }
  size_t chunks = 0, ops = 0;
  for (const llvm::Function &f : *c.module)
    if (isChunk(f)) {
      ++chunks;
      EXPECT_TRUE(f.hasFnAttribute(llvm::Attribute::NoInline)) << f.getName().str();
      Calls inside = callsIn(f);
      EXPECT_GE(inside.ops, 1u) << f.getName().str();
      EXPECT_LE(inside.ops, codegen::Emitter::kChunkOps) << f.getName().str();
      EXPECT_EQ(inside.chunks, 0u) << f.getName().str();
      ops += inside.ops;
    }
  EXPECT_GE(chunks, 4u);
  EXPECT_GT(ops, 4 * codegen::Emitter::kChunkOps);
}

TEST(StepChunks, AShortStepFunctionCallsItsOpsDirectly) {
  driver::Compilation c;
  generate(c, "examples/penguins.mtl", "");
  const llvm::Function *grad = c.module->getFunction("mtl.grad_step");
  ASSERT_NE(grad, nullptr);
  Calls direct = callsIn(*grad);
  EXPECT_GT(direct.ops, 10u);
  EXPECT_LE(direct.ops, codegen::Emitter::kChunkOps);
  EXPECT_EQ(direct.chunks, 0u);
  for (const llvm::Function &f : *c.module)
    EXPECT_FALSE(isChunk(f)) << f.getName().str();
}

TEST(StepChunks, LanesAreKernelsThatCallTheirOps) {
  // The MMoE's experts run in two lanes (passes/Lanes.h): a kernel of two
  // items per pair of lanes, which calls both lanes' ops; the step calls it
  // through the pool.
  driver::Compilation c;
  generate(c, "examples/mmoe_synthetic.mtl", "mmoe");
  size_t kernels = 0;
  for (const llvm::Function &f : *c.module)
    if (f.getName().startswith("mtl.kernel.lanes")) {
      ++kernels;
      EXPECT_GE(callsIn(f).ops, 2u) << f.getName().str();
    }
  EXPECT_GE(kernels, 2u);
  const llvm::Function *grad = c.module->getFunction("mtl.grad_step");
  ASSERT_NE(grad, nullptr);
  EXPECT_EQ(callsIn(*grad).chunks, 0u);
}

} // namespace step_chunks
} // namespace mtl
