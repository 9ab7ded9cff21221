// function_cache_test.cpp: the REPL's per-function cache compiles each distinct function once.
#include "backend/FunctionCache.h"

#include <gtest/gtest.h>
#include <llvm/AsmParser/Parser.h>
#include <llvm/Support/SourceMgr.h>

#include <filesystem>
#include <string>

namespace mtl::backend {
namespace {

// A step that calls three kernels, two of them identical, and a descriptor
// (a table holding the step's address) returned by the entry `get`.
std::string moduleText(const char *k3, const char *extra = "") {
  return std::string(R"(
@table = private constant [1 x ptr] [ptr @step]
define internal float @k1(float %x) {
  %y = fmul float %x, 2.0
  ret float %y
}
define internal float @k2(float %x) {
  %y = fmul float %x, 2.0
  ret float %y
}
define internal float @k3(float %x) {
  %y = )") +
         k3 + R"(
  ret float %y
}
define internal float @step(float %x) {
  %a = call float @k1(float %x)
  %b = call float @k2(float %a)
  %c = call float @k3(float %b)
  ret float %c
}
define ptr @get() {
  ret ptr @table
}
)" + extra;
}

struct Compiled {
  FunctionCacheReport report;
  float (*step)(float) = nullptr;
};

Compiled compile(FunctionCache &cache, const std::string &text) {
  auto context = std::make_unique<llvm::LLVMContext>();
  llvm::SMDiagnostic error;
  std::unique_ptr<llvm::Module> module = llvm::parseAssemblyString(text, error, *context);
  EXPECT_TRUE(module) << error.getMessage().str();
  if (!module)
    return {};
  if (llvm::Error err = cache.optimize(*module, "get")) {
    ADD_FAILURE() << llvm::toString(std::move(err));
    return {};
  }
  auto address = cache.link(std::move(module), std::move(context), "get");
  if (!address) {
    ADD_FAILURE() << llvm::toString(address.takeError());
    return {};
  }
  auto get = reinterpret_cast<void *const *(*)()>(*address);
  return {cache.report(), reinterpret_cast<float (*)(float)>(get()[0])};
}

TEST(FunctionCache, CompilesEachDistinctFunctionOnce) {
  auto cache = FunctionCache::create({"x86-64-v2", 2});
  ASSERT_TRUE(bool(cache)) << llvm::toString(cache.takeError());

  Compiled first = compile(**cache, moduleText("fadd float %x, 1.0"));
  ASSERT_TRUE(first.step);
  EXPECT_EQ(first.step(3.0f), 13.0f); // (3 * 2) * 2 + 1
  EXPECT_EQ(first.report.functions, 4);
  EXPECT_EQ(first.report.duplicates, 1); // k2 is k1
  EXPECT_EQ(first.report.compiled, 3);
  EXPECT_EQ(first.report.reused, 0);
  EXPECT_EQ(first.report.kept, 1); // the entry

  // The same text again: nothing to compile.
  Compiled same = compile(**cache, moduleText("fadd float %x, 1.0"));
  ASSERT_TRUE(same.step);
  EXPECT_EQ(same.step(3.0f), 13.0f);
  EXPECT_EQ(same.report.compiled, 0);
  EXPECT_EQ(same.report.reused, 3);

  // One kernel changes: it and its caller are compiled, k1 is reused.
  Compiled changed = compile(**cache, moduleText("fadd float %x, 2.0"));
  ASSERT_TRUE(changed.step);
  EXPECT_EQ(changed.step(3.0f), 14.0f);
  EXPECT_EQ(changed.report.compiled, 2);
  EXPECT_EQ(changed.report.reused, 1);
  EXPECT_EQ(first.step(3.0f), 13.0f); // earlier code stays valid
}

TEST(FunctionCache, LaterSessionsReadTheDiskCache) {
  std::string root = ::testing::TempDir() + "mtl_function_cache_disk";
  std::filesystem::remove_all(root);
  // Each session is a new FunctionCache (a new JIT) on the same disk cache;
  // each gets the same results, so only the counts tell where code came from.
  auto session = [&](int optLevel) {
    auto cache = FunctionCache::create({"x86-64-v2", optLevel}, root);
    EXPECT_TRUE(bool(cache)) << llvm::toString(cache.takeError());
    Compiled c = cache ? compile(**cache, moduleText("fadd float %x, 1.0")) : Compiled{};
    EXPECT_TRUE(c.step && c.step(3.0f) == 13.0f);
    return std::make_pair(c.report.compiled, c.report.loaded);
  };
  EXPECT_EQ(session(2), std::make_pair(3, 0)); // cold: compiles and stores
  EXPECT_EQ(session(2), std::make_pair(0, 3)); // a later session reads them back
  // Another optimisation level is other machine code: nothing is shared.
  EXPECT_EQ(session(1), std::make_pair(3, 0));
  std::filesystem::remove_all(root);
}

TEST(FunctionCache, FunctionsWithMutableGlobalsStayInTheModel) {
  auto cache = FunctionCache::create({"x86-64-v2", 2});
  ASSERT_TRUE(bool(cache)) << llvm::toString(cache.takeError());
  // k3 reads a mutable global, so it and its caller stay in the entry's module.
  Compiled c =
      compile(**cache, moduleText("load float, ptr @g", "@g = internal global float 5.0\n"));
  ASSERT_TRUE(c.step);
  EXPECT_EQ(c.step(3.0f), 5.0f);
  EXPECT_EQ(c.report.functions, 2); // k1, k2
  EXPECT_EQ(c.report.compiled, 1);
  EXPECT_EQ(c.report.kept, 3); // get, k3, step
}

} // namespace
} // namespace mtl::backend
