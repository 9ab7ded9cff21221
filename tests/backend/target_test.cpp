// target_test.cpp: the target label programs and libraries record.
//
// For `native`, the label names the x86-64 level the host reaches. The
// expected level comes here from the C++ compiler's runtime
// (__builtin_cpu_supports, its own reading of CPUID), not from LLVM, so the
// two check each other.
#include "backend/Target.h"

#include <gtest/gtest.h>

#include <string>

namespace mtl::backend {
namespace {

std::string hostLevel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4"))
    return "x86-64-v4";
  if (__builtin_cpu_supports("x86-64-v3"))
    return "x86-64-v3";
  if (__builtin_cpu_supports("x86-64-v2"))
    return "x86-64-v2";
  return "";
}

TEST(TargetLabel, ANamedCpuIsItsName) {
  EXPECT_EQ(targetLabel({"x86-64-v2", 2}), "x86-64-v2");
  EXPECT_EQ(targetLabel({"skylake", 2}), "skylake");
}

TEST(TargetLabel, NativeNamesTheHostAndTheLevelItsFeaturesReach) {
  const TargetOptions native{"native", 2};
  const std::string level = hostLevel();
  EXPECT_EQ(targetLabel(native),
            "native (" + resolvedCpu(native) + (level.empty() ? "" : ", " + level) + ")");
}

TEST(TargetMachine, AnUnknownCpuIsAnErrorThatNamesIt) {
  auto tm = createTargetMachine({"bogus", 2});
  ASSERT_FALSE(bool(tm));
  EXPECT_NE(llvm::toString(tm.takeError()).find("unknown target CPU 'bogus'"), std::string::npos);
}

// LLVM aborts the process on a 32-bit CPU asked for 64-bit code: each is
// refused first, and the 64-bit levels are not.
TEST(TargetMachine, A32BitCpuIsAnErrorNotAnAbort) {
  for (const char *cpu : {"i386", "i686", "pentium4", "athlon"}) {
    auto tm = createTargetMachine({cpu, 2});
    ASSERT_FALSE(bool(tm)) << cpu;
    EXPECT_NE(llvm::toString(tm.takeError()).find("cannot run 64-bit code"), std::string::npos)
        << cpu;
  }
  for (const char *cpu : {"x86-64", "x86-64-v3", "skylake", "znver3"}) {
    auto tm = createTargetMachine({cpu, 2});
    EXPECT_TRUE(bool(tm)) << cpu << ": " << (tm ? "" : llvm::toString(tm.takeError()));
  }
}

} // namespace
} // namespace mtl::backend
