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

// The model's step, from the descriptor getter at `address`.
float (*stepOf(void *address))(float) {
  auto get = reinterpret_cast<void *const *(*)()>(address);
  return reinterpret_cast<float (*)(float)>(get()[0]);
}

Compiled compile(FunctionCache &cache, const std::string &text, const std::string &modelKey = "") {
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
  auto address = cache.link(*module, "get", modelKey);
  if (!address) {
    ADD_FAILURE() << llvm::toString(address.takeError());
    return {};
  }
  return {cache.report(), stepOf(*address)};
}

// A session that tried linkIndexed(KEY) on `root`: the step is null when the index was not used.
struct Indexed {
  std::unique_ptr<FunctionCache> session; // holds the step's code
  FunctionCacheReport report;
  float (*step)(float) = nullptr;
};

Indexed fromIndex(const std::string &root, const std::string &key, int optLevel = 2) {
  auto cache = FunctionCache::create({"x86-64-v2", optLevel}, root);
  EXPECT_TRUE(bool(cache)) << llvm::toString(cache.takeError());
  if (!cache)
    return {};
  auto address = (*cache)->linkIndexed(key, "get");
  if (!address) {
    ADD_FAILURE() << llvm::toString(address.takeError());
    return {};
  }
  FunctionCacheReport report = (*cache)->report();
  return {std::move(*cache), report, *address ? stepOf(**address) : nullptr};
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

// A module whose kernel calls two intrinsics, declared in the order given.
std::string declaredIn(const char *first, const char *second) {
  return std::string("declare float ") + first + "\ndeclare float " + second + R"(
@table = private constant [1 x ptr] [ptr @step]
define internal float @k(float %x) {
  %a = call float @llvm.fma.f32(float %x, float %x, float 1.0)
  %b = call float @llvm.maxnum.f32(float %a, float 2.0)
  ret float %b
}
define internal float @step(float %x) {
  %y = call float @k(float %x)
  ret float %y
}
define ptr @get() {
  ret ptr @table
}
)";
}

TEST(FunctionCache, AFunctionIsReusedWhateverOrderItsModuleDeclaresItsCallees) {
  // A model's other functions decide which intrinsic its module declares
  // first; a kernel's key must not depend on that.
  auto cache = FunctionCache::create({"x86-64-v2", 2});
  ASSERT_TRUE(bool(cache)) << llvm::toString(cache.takeError());
  const char *fma = "@llvm.fma.f32(float, float, float)", *max = "@llvm.maxnum.f32(float, float)";
  Compiled first = compile(**cache, declaredIn(fma, max));
  ASSERT_TRUE(first.step);
  EXPECT_EQ(first.step(3.0f), 10.0f);
  EXPECT_EQ(first.report.compiled, 2);
  Compiled second = compile(**cache, declaredIn(max, fma));
  ASSERT_TRUE(second.step);
  EXPECT_EQ(second.step(0.5f), 2.0f);
  EXPECT_EQ(second.report.compiled, 0);
  EXPECT_EQ(second.report.reused, 2);
}

TEST(FunctionCache, ACancelledCacheCompilesNothingMore) {
  auto cache = FunctionCache::create({"x86-64-v2", 2});
  ASSERT_TRUE(bool(cache)) << llvm::toString(cache.takeError());
  (*cache)->cancel();
  llvm::LLVMContext context;
  llvm::SMDiagnostic error;
  std::unique_ptr<llvm::Module> module =
      llvm::parseAssemblyString(moduleText("fadd float %x, 1.0"), error, context);
  ASSERT_TRUE(module) << error.getMessage().str();
  llvm::Error err = (*cache)->optimize(*module, "get");
  ASSERT_TRUE(bool(err));
  EXPECT_EQ(llvm::toString(std::move(err)), "cancelled");
  EXPECT_EQ((*cache)->report().compiled, 0);
}

TEST(FunctionCache, FunctionsThatDifferOnlyInAConstantStayApart) {
  auto cache = FunctionCache::create({"x86-64-v2", 2});
  ASSERT_TRUE(bool(cache)) << llvm::toString(cache.takeError());
  // k3 has k1's shape and another constant: not the same function.
  Compiled c = compile(**cache, moduleText("fmul float %x, 3.0"));
  ASSERT_TRUE(c.step);
  EXPECT_EQ(c.step(3.0f), 36.0f);    // (3 * 2) * 2 * 3
  EXPECT_EQ(c.report.duplicates, 1); // only k2 is k1
  EXPECT_EQ(c.report.compiled, 3);
}

TEST(FunctionCache, FunctionsThatDifferOnlyInAFlagStayApart) {
  auto cache = FunctionCache::create({"x86-64-v2", 2});
  ASSERT_TRUE(bool(cache)) << llvm::toString(cache.takeError());
  // k3 is k1 with a fast-math flag: the same hash, so they are compared, and
  // not the same function.
  Compiled c = compile(**cache, moduleText("fmul nnan float %x, 2.0"));
  ASSERT_TRUE(c.step);
  EXPECT_EQ(c.step(3.0f), 24.0f);
  EXPECT_EQ(c.report.duplicates, 1); // only k2 is k1
  EXPECT_EQ(c.report.compiled, 3);
}

TEST(FunctionCache, InvalidCodeIsAnErrorNotACrash) {
  auto cache = FunctionCache::create({"x86-64-v2", 2});
  ASSERT_TRUE(bool(cache)) << llvm::toString(cache.takeError());
  // k3 uses %z before it is defined: LLVM's verifier, which the cache runs
  // on each distinct function, rejects it before it is written or compiled.
  llvm::LLVMContext context;
  llvm::SMDiagnostic error;
  std::unique_ptr<llvm::Module> module = llvm::parseAssemblyString(
      moduleText("fadd float %z, 1.0\n  %z = fadd float %x, 1.0"), error, context);
  ASSERT_TRUE(module) << error.getMessage().str();
  llvm::Error err = (*cache)->optimize(*module, "get");
  ASSERT_TRUE(bool(err));
  std::string message = llvm::toString(std::move(err));
  EXPECT_NE(message.find("invalid LLVM IR: Instruction does not dominate all uses!"),
            std::string::npos)
      << message;
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

TEST(FunctionCache, AModelIndexLinksAModelWithoutItsModule) {
  std::string root = ::testing::TempDir() + "mtl_function_cache_index";
  std::filesystem::remove_all(root);
  {
    auto cache = FunctionCache::create({"x86-64-v2", 2}, root);
    ASSERT_TRUE(bool(cache)) << llvm::toString(cache.takeError());
    auto none = (*cache)->linkIndexed("m1", "get");
    ASSERT_TRUE(bool(none)) << llvm::toString(none.takeError());
    EXPECT_FALSE(none->has_value()); // nothing stored yet
    Compiled first = compile(**cache, moduleText("fadd float %x, 1.0"), "m1");
    ASSERT_TRUE(first.step);
    EXPECT_FALSE(first.report.indexed);
  }
  Indexed hit = fromIndex(root, "m1");
  ASSERT_TRUE(hit.step);
  EXPECT_EQ(hit.step(3.0f), 13.0f);
  EXPECT_TRUE(hit.report.indexed);
  EXPECT_EQ(hit.report.functions, 3); // the distinct keys: k1 (= k2), k3, step
  EXPECT_EQ(hit.report.loaded, 3);
  EXPECT_EQ(hit.report.compiled, 0);

  // Another key, or another optimisation level (other machine code), finds nothing.
  EXPECT_FALSE(fromIndex(root, "m2").step);
  EXPECT_FALSE(fromIndex(root, "m1", 1).step);

  // A function evicted from the cache: the index is not used (the caller compiles).
  std::vector<std::filesystem::path> objects, indexes;
  for (const auto &e : std::filesystem::recursive_directory_iterator(root))
    if (e.is_regular_file())
      (e.path().extension() == ".o" ? objects : indexes).push_back(e.path());
  ASSERT_EQ(objects.size(), 3u);
  ASSERT_EQ(indexes.size(), 1u);
  std::string kept = objects[0].string() + ".kept";
  std::filesystem::rename(objects[0], kept);
  Indexed evicted = fromIndex(root, "m1");
  EXPECT_FALSE(evicted.step);
  EXPECT_FALSE(evicted.report.indexed);
  EXPECT_EQ(evicted.report.loaded, 0);
  std::filesystem::rename(kept, objects[0]);
  EXPECT_TRUE(fromIndex(root, "m1").step);

  // A damaged index is a miss, and is removed.
  std::filesystem::resize_file(indexes[0], std::filesystem::file_size(indexes[0]) - 1);
  EXPECT_FALSE(fromIndex(root, "m1").step);
  EXPECT_FALSE(std::filesystem::exists(indexes[0]));
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
