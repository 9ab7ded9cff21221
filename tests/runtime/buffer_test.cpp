// buffer_test.cpp: the trainer's arenas are 64-byte aligned and zeroed, and a
// large one costs memory only where it is touched (a batch far larger than
// the data once zeroed gigabytes that no step read).
#include "train/TrainerImpl.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <unistd.h>

namespace {

int64_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * int64_t(::sysconf(_SC_PAGESIZE));
}

TEST(Buffer, IsAlignedAndZeroed) {
  for (int64_t n : {0, 1, 7, 16, 1000, 100000}) {
    mtlrt::Buffer b(n);
    ASSERT_TRUE(b.ok()) << n;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.floats()) % 64, 0u) << n;
    for (int64_t k = 0; k < n + 16; ++k) // and the spare line past the end
      ASSERT_EQ(b.floats()[k], 0.0f) << n << " " << k;
  }
}

TEST(Buffer, LargeOneCostsMemoryOnlyWhereTouched) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer's allocator keeps memory of its own";
#endif
  const int64_t before = residentBytes();
  const int64_t count = int64_t(1) << 26; // 256 MiB of floats
  mtlrt::Buffer b(count);
  ASSERT_TRUE(b.ok());
  EXPECT_LT(residentBytes() - before, int64_t(64) << 20);
  EXPECT_EQ(b.floats()[0], 0.0f);
  EXPECT_EQ(b.floats()[count / 2], 0.0f);
  EXPECT_EQ(b.floats()[count - 1], 0.0f);
}

TEST(Buffer, RefusesAnOverflowedSize) { EXPECT_FALSE(mtlrt::Buffer(-1).ok()); }

} // namespace
