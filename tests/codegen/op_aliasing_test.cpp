// op_aliasing_test.cpp: an op's function marks its buffers `noalias` when they
// are disjoint memory (Emitter::disjoint, from the memory plan's places), so
// LLVM vectorises its loops without checking for overlap at run time. What the
// mark claims decides correctness: disjointSpans is tested case by case here,
// and jit_vs_interpreter_test runs every example with the marks.
#include "codegen/Emitter.h"
#include "driver/Pipeline.h"

#include <gtest/gtest.h>

namespace mtl {
namespace op_aliasing {

using codegen::StorageSpan;

// Three roots and three buffers (only their addresses matter).
char kParams, kWorkspace, kRows, kA, kB, kC;

StorageSpan span(const void *root, const void *buffer, int64_t begin, int64_t end,
                 bool perRow = false) {
  return {root, buffer, begin, end, perRow, true};
}

TEST(OpAliasing, SpansAtDifferentRootsAreDisjoint) {
  EXPECT_TRUE(codegen::disjointSpans({span(&kParams, &kA, 0, 100), span(&kWorkspace, &kB, 0, 100),
                                      span(&kRows, &kC, 0, 8, true)}));
}

TEST(OpAliasing, SpansAtOneRootAreDisjointWhenTheirOffsetsDoNotOverlap) {
  EXPECT_TRUE(
      codegen::disjointSpans({span(&kWorkspace, &kA, 0, 64), span(&kWorkspace, &kB, 64, 96)}));
  EXPECT_FALSE(
      codegen::disjointSpans({span(&kWorkspace, &kA, 0, 64), span(&kWorkspace, &kB, 63, 96)}));
  EXPECT_FALSE(
      codegen::disjointSpans({span(&kWorkspace, &kA, 8, 16), span(&kWorkspace, &kB, 0, 64)}));
  // Per row: [begin, end) times the rows, so the same test on the offsets.
  EXPECT_TRUE(
      codegen::disjointSpans({span(&kRows, &kA, 0, 10, true), span(&kRows, &kB, 10, 20, true)}));
  EXPECT_FALSE(
      codegen::disjointSpans({span(&kRows, &kA, 0, 10, true), span(&kRows, &kB, 9, 20, true)}));
}

TEST(OpAliasing, OneBufferTwiceIsOneArgument) {
  // A value and its reshape share a place and a pointer: the op is passed it once.
  EXPECT_TRUE(codegen::disjointSpans({span(&kWorkspace, &kA, 0, 64), span(&kWorkspace, &kA, 0, 64),
                                      span(&kWorkspace, &kB, 64, 65)}));
  // The same place behind two pointers (recomputed in a chunk) overlaps.
  EXPECT_FALSE(
      codegen::disjointSpans({span(&kWorkspace, &kA, 0, 64), span(&kWorkspace, &kB, 0, 64)}));
}

TEST(OpAliasing, WhatIsNotKnownOverlaps) {
  StorageSpan unplaced = span(nullptr, &kC, 0, 1);
  EXPECT_FALSE(codegen::disjointSpans({span(&kWorkspace, &kA, 0, 64), unplaced}));
  StorageSpan rows = span(&kWorkspace, &kA, 0, 64);
  rows.known = false; // a batched value at its root's start
  EXPECT_FALSE(codegen::disjointSpans({rows, span(&kWorkspace, &kB, 1000, 1001)}));
  EXPECT_TRUE(codegen::disjointSpans({rows, span(&kParams, &kB, 0, 1)}));
  // A place per row and a fixed one at the same root are not compared.
  EXPECT_FALSE(codegen::disjointSpans(
      {span(&kWorkspace, &kA, 0, 64), span(&kWorkspace, &kB, 100, 101, true)}));
}

// The leading arguments of `f` marked noalias.
unsigned markedArgs(const llvm::Function &f) {
  unsigned marked = 0;
  while (marked < f.arg_size() && f.hasParamAttribute(marked, llvm::Attribute::NoAlias))
    ++marked;
  for (unsigned k = marked; k < f.arg_size(); ++k)
    EXPECT_FALSE(f.hasParamAttribute(k, llvm::Attribute::NoAlias)) << f.getName().str() << " " << k;
  return marked;
}

// Every op function of penguins (one lane) and of digits_mmoe (ops in pairs
// of lanes) marks its buffers, from the op's own (the first argument) on, and
// none of the step's state that follows (the scratch area first). Each
// tensor's update (Adam) marks the parameter, its gradient and its two
// moments. A kernel over rows passes the op's buffers on to its body
// (`.rows`), marked again, with the rows to compute last, except for the
// products, the updates and the losses.
TEST(OpAliasing, TheOpsOfExamplesMarkTheirBuffers) {
  int rows = 0;
  for (const char *file :
       {"examples/penguins.mtl", "examples/digits_mmoe.mtl", "examples/fashion_cnn.mtl"}) {
    driver::Compilation c;
    ASSERT_TRUE(
        driver::runPipeline(std::string(MTL_SOURCE_DIR) + "/" + file, driver::Stage::Llvm, c))
        << c.diags.render(false);
    int ops = 0, updates = 0;
    for (const llvm::Function &f : *c.module) {
      llvm::StringRef name = f.getName();
      const unsigned marked = markedArgs(f);
      if (name == "mtl.op" || name.startswith("mtl.op.")) {
        ++ops;
        EXPECT_GE(marked, 1u) << file << " " << name.str();
        ASSERT_LT(marked, f.arg_size()) << name.str(); // the scratch area follows the buffers
        EXPECT_TRUE(f.getArg(marked)->getType()->isPointerTy()) << name.str();
      } else if (name.startswith("mtl.kernel.") && name.endswith(".rows")) {
        ++rows;
        for (const char *kept : {"linear", "matmul", "update", ".loss."})
          EXPECT_FALSE(name.contains(kept)) << name.str();
        EXPECT_GE(marked, 1u) << file << " " << name.str();
        ASSERT_GE(f.arg_size(), marked + 2) << name.str();
        EXPECT_TRUE(f.getArg(f.arg_size() - 1)->getType()->isIntegerTy(64)) << name.str();
        EXPECT_TRUE(f.getArg(f.arg_size() - 2)->getType()->isIntegerTy(64)) << name.str();
      } else if (name.startswith("mtl.tensor_update")) {
        ++updates;
        EXPECT_EQ(marked, 4u) << file << " " << name.str();
      } else if (!f.isIntrinsic()) { // llvm.memcpy's declaration marks its own
        EXPECT_EQ(marked, 0u) << file << " " << name.str();
      }
    }
    EXPECT_GT(ops, 10) << file;
    EXPECT_GT(updates, 2) << file;
  }
  EXPECT_GE(rows, 4); // fashion_cnn's im2col, max_pool, max_pool_grad and penguins' mul
}

} // namespace op_aliasing
} // namespace mtl
