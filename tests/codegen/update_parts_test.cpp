// update_parts_test.cpp: a model of more parameter tensors than
// codegen::kUpdatePart has its update's gradient checks and tensor updates
// in `noinline` functions (`mtl.update.part`) of at most that many tensors
// each, which the update calls once each, in order: no function that LLVM
// optimises grows with the number of tensors (one over 385 tensors took its
// SLP vectoriser 8.5 s). A model of fewer keeps them in `mtl.update`. The
// values are the interpreter's (jit_vs_interpreter_test runs
// tests/codegen/models/many_tensors.mtl), and the built program's (e2e
// jit_binary.sh compares mmoe_synthetic's PLE, whose update is in parts).
#include "codegen/Update.h"
#include "driver/Pipeline.h"

#include <gtest/gtest.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <string>
#include <vector>

namespace mtl {
namespace update_parts {

void compile(driver::Compilation &c, const std::string &file) {
  ASSERT_TRUE(driver::runPipeline(std::string(MTL_SOURCE_DIR) + "/" + file, driver::Stage::Llvm, c,
                                  driver::PipelineOptions{}))
      << c.diags.render(false);
}

/// The functions `f` calls whose names start with `prefix`, in call order.
std::vector<const llvm::Function *> callees(const llvm::Function &f, const std::string &prefix) {
  std::vector<const llvm::Function *> out;
  for (const llvm::BasicBlock &block : f)
    for (const llvm::Instruction &inst : block)
      if (const auto *call = llvm::dyn_cast<llvm::CallInst>(&inst))
        if (const llvm::Function *callee = call->getCalledFunction())
          if (callee->getName().startswith(prefix))
            out.push_back(callee);
  return out;
}

long params(const driver::Compilation &c) {
  return std::count_if(c.step.graph.ops().begin(), c.step.graph.ops().end(),
                       [](const ir::Op &op) { return op.kind == ir::OpKind::Param; });
}

TEST(UpdateParts, ManyTensorsAreCheckedAndUpdatedInParts) {
  driver::Compilation c;
  compile(c, "tests/codegen/models/many_tensors.mtl");
  const long tensors = params(c);
  ASSERT_GT(tensors, long(2 * codegen::kUpdatePart));
  const llvm::Function *update = c.module->getFunction("mtl.update");
  ASSERT_NE(update, nullptr);
  EXPECT_TRUE(callees(*update, "mtl.tensor_update").empty());
  const std::vector<const llvm::Function *> parts = callees(*update, "mtl.update.part");
  // As many parts of checks as of updates, each called once.
  const long perPhase = (tensors + long(codegen::kUpdatePart) - 1) / long(codegen::kUpdatePart);
  ASSERT_EQ(long(parts.size()), 2 * perPhase);
  long updated = 0;
  for (const llvm::Function *part : parts) {
    EXPECT_TRUE(part->hasFnAttribute(llvm::Attribute::NoInline)) << part->getName().str();
    EXPECT_EQ(std::count(parts.begin(), parts.end(), part), 1) << part->getName().str();
    const size_t calls = callees(*part, "mtl.tensor_update").size();
    EXPECT_LE(calls, codegen::kUpdatePart) << part->getName().str();
    updated += long(calls);
  }
  EXPECT_EQ(updated, tensors);
}

TEST(UpdateParts, AFewTensorsAreUpdatedByTheUpdateItself) {
  driver::Compilation c;
  compile(c, "bench/models/m2.mtl");
  const llvm::Function *update = c.module->getFunction("mtl.update");
  ASSERT_NE(update, nullptr);
  EXPECT_TRUE(callees(*update, "mtl.update.part").empty());
  EXPECT_EQ(long(callees(*update, "mtl.tensor_update").size()), params(c));
}

} // namespace update_parts
} // namespace mtl
