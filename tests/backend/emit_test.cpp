// emit_test.cpp: one code generation pipeline for many modules gives each the bytes of a fresh one.
#include "backend/Emit.h"
#include "backend/Optimize.h"

#include <gtest/gtest.h>
#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/Support/SourceMgr.h>

#include <memory>
#include <string>
#include <vector>

namespace mtl::backend {
namespace {

// Modules like the function cache's: one function each, with what it reads.
const char *kSum = R"(
define void @sum(ptr %out, ptr %a, ptr %b, i64 %n) {
entry:
  br label %body
body:
  %i = phi i64 [ 0, %entry ], [ %i1, %body ]
  %pa = getelementptr inbounds float, ptr %a, i64 %i
  %pb = getelementptr inbounds float, ptr %b, i64 %i
  %va = load float, ptr %pa, align 4
  %vb = load float, ptr %pb, align 4
  %s = fadd float %va, %vb
  %po = getelementptr inbounds float, ptr %out, i64 %i
  store float %s, ptr %po, align 4
  %i1 = add nuw nsw i64 %i, 1
  %more = icmp slt i64 %i1, %n
  br i1 %more, label %body, label %done
done:
  ret void
}
)";

const char *kTable = R"(
@scale = private constant [4 x float] [float 1.0, float 2.0, float 3.0, float 4.0]
define float @pick(i64 %i) {
  %p = getelementptr inbounds [4 x float], ptr @scale, i64 0, i64 %i
  %v = load float, ptr %p, align 4
  ret float %v
}
)";

const char *kCalls = R"(
declare float @expf(float)
declare void @helper(ptr, i64)
define float @soft(ptr %x, i64 %n) {
  call void @helper(ptr %x, i64 %n)
  %v = load float, ptr %x, align 4
  %e = call float @expf(float %v)
  %d = fadd float %e, 1.0
  %r = fdiv float %e, %d
  ret float %r
}
)";

struct Parsed {
  std::unique_ptr<llvm::LLVMContext> context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> module;
};

// Each module in a context of its own, optimised by mtlc's pipeline.
std::vector<Parsed> parseAll(llvm::TargetMachine &tm) {
  std::vector<Parsed> out;
  for (const char *text : {kSum, kTable, kCalls}) {
    Parsed p;
    llvm::SMDiagnostic error;
    p.module = llvm::parseAssemblyString(text, error, *p.context);
    EXPECT_TRUE(p.module) << error.getMessage().str();
    if (p.module)
      optimizeModule(*p.module, tm, 2);
    out.push_back(std::move(p));
  }
  return out;
}

TEST(CodeEmitter, EachModuleGetsTheBytesOfAFreshPipeline) {
  auto tm = createTargetMachine({"x86-64-v3", 2});
  ASSERT_TRUE(bool(tm)) << llvm::toString(tm.takeError());
  std::vector<Parsed> modules = parseAll(**tm);
  ASSERT_EQ(modules.size(), 3u);
  std::vector<std::string> fresh;
  for (Parsed &p : modules) {
    ASSERT_TRUE(p.module);
    auto bytes = emitMachineCode(*p.module, **tm, FileKind::Object);
    ASSERT_TRUE(bool(bytes)) << llvm::toString(bytes.takeError());
    ASSERT_EQ(bytes->compare(0, 4,
                             "\x7f"
                             "ELF"),
              0);
    fresh.push_back(*bytes);
  }
  // Different modules make different objects, so equal bytes below mean something.
  EXPECT_NE(fresh[0], fresh[1]);
  EXPECT_NE(fresh[1], fresh[2]);

  // One pipeline, the modules in turn and then again in another order: what
  // an earlier module left behind (symbols, sections, constants) must not
  // reach a later one's object.
  CodeEmitter emitter(**tm, FileKind::Object);
  for (size_t i : {0, 1, 2, 2, 0, 1}) {
    auto bytes = emitter.emit(*modules[i].module);
    ASSERT_TRUE(bool(bytes)) << llvm::toString(bytes.takeError());
    EXPECT_EQ(*bytes, fresh[i]) << "module " << i;
  }
}

} // namespace
} // namespace mtl::backend
