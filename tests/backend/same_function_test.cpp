// same_function_test.cpp: which functions the function cache may take for one another.
#include "backend/SameFunction.h"

#include <gtest/gtest.h>
#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/SourceMgr.h>

#include <memory>
#include <string>

namespace mtl::backend {
namespace {

// A loop that fills `bound` floats, its back edge carrying the loop node
// `loop` (empty: none), and `attachment` after the function's parameters.
std::string fill(const std::string &name, int bound, const std::string &loop,
                 const std::string &attachment = "") {
  return "define void @" + name + "(ptr %p) " + attachment + R"( {
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%n, %loop]
  %a = getelementptr float, ptr %p, i64 %i
  store float 1.0, ptr %a
  %n = add i64 %i, 1
  %c = icmp ult i64 %n, )" +
         std::to_string(bound) + R"(
  br i1 %c, label %loop, label %done)" +
         (loop.empty() ? "" : ", !llvm.loop " + loop) + R"(
done:
  ret void
}
)";
}

const char *kNodes = R"(
!0 = distinct !{!0, !1}
!1 = !{!"llvm.loop.unroll.disable"}
!2 = distinct !{!2, !1}
!3 = distinct !{!3, !4}
!4 = !{!"llvm.loop.vectorize.width", i32 4}
!5 = !{!"function_entry_count", i64 1}
)";

struct Functions {
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module;
  llvm::GlobalNumberState numbers;

  explicit Functions(const std::string &text) {
    llvm::SMDiagnostic error;
    module = llvm::parseAssemblyString(text + kNodes, error, context);
    EXPECT_TRUE(module) << error.getMessage().str();
  }
  bool same(const char *a, const char *b) {
    return sameFunction(*module->getFunction(a), *module->getFunction(b), numbers);
  }
  uint64_t hash(const char *name) { return functionHash(*module->getFunction(name)); }
};

TEST(SameFunction, LoopNodesWithTheSameHintsAreTheSame) {
  Functions f(fill("a", 16, "!0") + fill("b", 16, "!2"));
  ASSERT_TRUE(f.module);
  EXPECT_TRUE(f.same("a", "b"));
  EXPECT_EQ(f.hash("a"), f.hash("b"));
}

TEST(SameFunction, OtherLoopHintsOrNoneAreNotTheSame) {
  Functions f(fill("a", 16, "!0") + fill("b", 16, "!3") + fill("c", 16, ""));
  ASSERT_TRUE(f.module);
  EXPECT_FALSE(f.same("a", "b"));
  EXPECT_FALSE(f.same("a", "c"));
  EXPECT_FALSE(f.same("c", "a"));
}

TEST(SameFunction, AnotherBoundIsAnotherFunctionAndHash) {
  Functions f(fill("a", 16, "!0") + fill("b", 32, "!0"));
  ASSERT_TRUE(f.module);
  EXPECT_FALSE(f.same("a", "b"));
  EXPECT_NE(f.hash("a"), f.hash("b"));
}

TEST(SameFunction, AFlagMakesAnotherFunctionWithTheSameHash) {
  Functions f(R"(
define float @a(float %x) {
  %y = fmul float %x, 2.0
  ret float %y
}
define float @b(float %x) {
  %y = fmul nnan float %x, 2.0
  ret float %y
}
)");
  ASSERT_TRUE(f.module);
  EXPECT_EQ(f.hash("a"), f.hash("b"));
  EXPECT_FALSE(f.same("a", "b"));
}

TEST(SameFunction, MetadataOnTheFunctionItselfIsNeverTheSame) {
  Functions f(fill("a", 16, "!0", "!prof !5") + fill("b", 16, "!0", "!prof !5"));
  ASSERT_TRUE(f.module);
  EXPECT_FALSE(f.same("a", "b"));
}

TEST(SameFunction, BlocksInAnotherOrderAreTheSame) {
  // b is a with its exit block placed before the loop.
  Functions f(fill("a", 16, "!0") + R"(
define void @b(ptr %p) {
entry:
  br label %loop
done:
  ret void
loop:
  %i = phi i64 [0, %entry], [%n, %loop]
  %a = getelementptr float, ptr %p, i64 %i
  store float 1.0, ptr %a
  %n = add i64 %i, 1
  %c = icmp ult i64 %n, 16
  br i1 %c, label %loop, label %done, !llvm.loop !2
}
)");
  ASSERT_TRUE(f.module);
  EXPECT_TRUE(f.same("a", "b"));
  EXPECT_EQ(f.hash("a"), f.hash("b"));
}

} // namespace
} // namespace mtl::backend
