// optimize_test.cpp: what mtlc's -O2 pipeline does to the loops codegen writes.
#include "backend/Optimize.h"
#include "backend/Target.h"

#include <gtest/gtest.h>
#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/Instructions.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include <string>

namespace mtl::backend {
namespace {

// Loops as codegen emits them: the induction variable a phi in a header that
// tests it (the sums are below).
const char *kLoops = R"(
; out[r * 64 + c] = in[r] for r < rows, c < 64: a value broadcast along a row
define void @broadcast(ptr %out, ptr %in, i64 %rows) {
entry:
  br label %rloop
rloop:
  %r = phi i64 [ 0, %entry ], [ %r1, %rnext ]
  %rmore = icmp slt i64 %r, %rows
  br i1 %rmore, label %rbody, label %done
rbody:
  br label %cloop
cloop:
  %c = phi i64 [ 0, %rbody ], [ %c1, %cbody ]
  %cmore = icmp slt i64 %c, 64
  br i1 %cmore, label %cbody, label %rnext
cbody:
  %src = getelementptr inbounds float, ptr %in, i64 %r
  %v = load float, ptr %src, align 4
  %row = mul i64 %r, 64
  %at = add i64 %row, %c
  %dst = getelementptr inbounds float, ptr %out, i64 %at
  store float %v, ptr %dst, align 4
  %c1 = add nuw nsw i64 %c, 1
  br label %cloop
rnext:
  %r1 = add nuw nsw i64 %r, 1
  br label %rloop
done:
  ret void
}

; an outlined op as codegen writes one, and a step that calls it
define internal void @op(ptr %p) alwaysinline {
  store float 1.0, ptr %p, align 4
  ret void
}
define void @step(ptr %p) {
  call void @op(ptr %p)
  ret void
}
)";

// The sum of x[0..n) in order, its accumulator in an alloca.
std::string orderedSum(const std::string &name, int n) {
  return "define float @" + name + R"((ptr %x) {
entry:
  %acc = alloca float, align 4
  store float 0.0, ptr %acc, align 4
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i1, %body ]
  %more = icmp slt i64 %i, )" +
         std::to_string(n) + R"(
  br i1 %more, label %body, label %done
body:
  %p = getelementptr inbounds float, ptr %x, i64 %i
  %v = load float, ptr %p, align 4
  %s = load float, ptr %acc, align 4
  %t = fadd float %s, %v
  store float %t, ptr %acc, align 4
  %i1 = add nuw nsw i64 %i, 1
  br label %loop
done:
  %r = load float, ptr %acc, align 4
  ret float %r
}
)";
}

// The adds of `f`, each expected scalar (no reassociation into a vector reduction).
int scalarAdds(const llvm::Function &f, const std::string &text) {
  int adds = 0;
  for (const llvm::BasicBlock &bb : f)
    for (const llvm::Instruction &inst : bb)
      if (inst.getOpcode() == llvm::Instruction::FAdd) {
        ++adds;
        EXPECT_FALSE(inst.getType()->isVectorTy()) << text;
      }
  return adds;
}

struct Optimized {
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module;
  std::string text(const char *function) const {
    std::string out;
    llvm::raw_string_ostream os(out);
    module->getFunction(function)->print(os);
    return out;
  }
};

std::unique_ptr<Optimized> optimized(int optLevel) {
  auto out = std::make_unique<Optimized>();
  llvm::SMDiagnostic error;
  const std::string text = kLoops + orderedSum("short_sum", 4) + orderedSum("long_sum", 96);
  out->module = llvm::parseAssemblyString(text, error, out->context);
  EXPECT_TRUE(out->module) << error.getMessage().str();
  auto tm = createTargetMachine({"x86-64-v4", optLevel});
  EXPECT_TRUE(static_cast<bool>(tm));
  if (!out->module || !tm)
    return nullptr;
  optimizeModule(*out->module, **tm, optLevel);
  return out;
}

TEST(Optimize, O2VectorisesARowLoopWithItsBroadcastValueHoisted) {
  auto o = optimized(2);
  ASSERT_TRUE(o);
  const std::string text = o->text("broadcast");
  // Whole vectors stored (x86-64-v4 prefers 8 floats), the value a splat of
  // one float: nothing of `in` is read as a vector.
  EXPECT_NE(text.find("store <8 x float>"), std::string::npos) << text;
  EXPECT_NE(text.find("shufflevector"), std::string::npos) << text;
  EXPECT_EQ(text.find("load <8 x float>"), std::string::npos) << text;
}

TEST(Optimize, O2UnrollsALoopOfKnownShortLengthAndKeepsTheSumsOrder) {
  auto o = optimized(2);
  ASSERT_TRUE(o);
  const llvm::Function &f = *o->module->getFunction("short_sum");
  const std::string text = o->text("short_sum");
  EXPECT_EQ(f.size(), 1u) << text; // one block: no loop left
  EXPECT_EQ(text.find("alloca"), std::string::npos) << text;
  EXPECT_EQ(scalarAdds(f, text), 4) << text; // in order
}

TEST(Optimize, O2KeepsALoopOfManyIterationsALoop) {
  auto o = optimized(2);
  ASSERT_TRUE(o);
  const llvm::Function &f = *o->module->getFunction("long_sum");
  const std::string text = o->text("long_sum");
  EXPECT_GT(f.size(), 1u) << text; // unrolled whole, it would be 96 adds in one block
  EXPECT_EQ(text.find("alloca"), std::string::npos) << text;
  const int adds = scalarAdds(f, text);
  EXPECT_GE(adds, 1) << text;
  EXPECT_LT(adds, 96) << text; // unrolled in part at most
  EXPECT_EQ(96 % adds, 0) << text;
}

TEST(Optimize, O2InlinesTheOutlinedOpsOfAWholeModule) {
  auto o = optimized(2);
  ASSERT_TRUE(o);
  const std::string text = o->text("step");
  EXPECT_EQ(text.find("call"), std::string::npos) << text;
  EXPECT_NE(text.find("store float 1.000000e+00"), std::string::npos) << text;
}

TEST(Optimize, O0LeavesTheModuleAsItIs) {
  auto o = optimized(0);
  ASSERT_TRUE(o);
  EXPECT_NE(o->text("short_sum").find("alloca"), std::string::npos);
}

} // namespace
} // namespace mtl::backend
