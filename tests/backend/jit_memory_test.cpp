// jit_memory_test.cpp: the JIT's sections share pages, are protected when sealed, and stay in
// range.
#include "backend/JitMemory.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace mtl::backend {
namespace {

// The protection of the page at `p` as /proc/self/maps lists it ("r-xp").
std::string protectionAt(const void *p) {
  auto at = reinterpret_cast<uintptr_t>(p);
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    std::istringstream in(line);
    std::string range, perms;
    in >> range >> perms;
    size_t dash = range.find('-');
    uintptr_t begin = std::stoull(range.substr(0, dash), nullptr, 16);
    uintptr_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (at >= begin && at < end)
      return perms;
  }
  return "unmapped";
}

TEST(JitMemory, SmallSectionsShareAPageAndAreAligned) {
  auto memory = JitMemory::create(size_t(64) << 20);
  ASSERT_TRUE(bool(memory)) << llvm::toString(memory.takeError());
  JitMemory &m = **memory;
  uint8_t *first = m.allocate(JitMemory::Kind::Code, 100, 16);
  ASSERT_NE(first, nullptr);
  uint8_t *last = first;
  for (int i = 0; i < 20; ++i) {
    uint8_t *p = m.allocate(JitMemory::Kind::Code, 100, 64);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
    EXPECT_GE(p, last + 100); // no overlap
    last = p;
  }
  // 21 sections of 100 bytes in a few kilobytes, not a page each.
  EXPECT_LT(last - first, 4 * static_cast<long>(m.pageSize()));
}

TEST(JitMemory, SealMakesCodeExecutableAndConstantsReadOnly) {
  auto memory = JitMemory::create(size_t(64) << 20);
  ASSERT_TRUE(bool(memory)) << llvm::toString(memory.takeError());
  JitMemory &m = **memory;
  uint8_t *code = m.allocate(JitMemory::Kind::Code, 64, 16);
  uint8_t *constants = m.allocate(JitMemory::Kind::ReadOnly, 64, 16);
  uint8_t *data = m.allocate(JitMemory::Kind::ReadWrite, 64, 16);
  ASSERT_TRUE(code && constants && data);
  code[0] = 0xc3; // written while linking
  constants[0] = 1;
  data[0] = 2;
  EXPECT_EQ(protectionAt(code).substr(0, 3), "rw-");
  ASSERT_FALSE(bool(m.seal()));
  EXPECT_EQ(protectionAt(code).substr(0, 3), "r-x");
  EXPECT_EQ(protectionAt(constants).substr(0, 3), "r--");
  EXPECT_EQ(protectionAt(data).substr(0, 3), "rw-");
  EXPECT_EQ(code[0], 0xc3);
  // The next code goes to a page after the sealed one, still writable.
  uint8_t *more = m.allocate(JitMemory::Kind::Code, 64, 16);
  ASSERT_NE(more, nullptr);
  EXPECT_GE(reinterpret_cast<uintptr_t>(more) / m.pageSize(),
            reinterpret_cast<uintptr_t>(code) / m.pageSize() + 1);
  EXPECT_EQ(protectionAt(more).substr(0, 3), "rw-");
  more[0] = 0xc3;
}

TEST(JitMemory, FullRunsAreSealedAndTheRangeEndsInANull) {
  auto memory = JitMemory::create(size_t(2) << 20);
  ASSERT_TRUE(bool(memory)) << llvm::toString(memory.takeError());
  JitMemory &m = **memory;
  // A section larger than a run gets a run of its own; the run it left is
  // sealed as well.
  uint8_t *small = m.allocate(JitMemory::Kind::Code, 64, 16);
  uint8_t *big = m.allocate(JitMemory::Kind::Code, size_t(600) << 10, 16);
  ASSERT_TRUE(small && big);
  ASSERT_FALSE(bool(m.seal()));
  EXPECT_EQ(protectionAt(small).substr(0, 3), "r-x");
  EXPECT_EQ(protectionAt(big).substr(0, 3), "r-x");
  // Past the reserved 2 MiB there is nothing to give.
  EXPECT_EQ(m.allocate(JitMemory::Kind::ReadOnly, size_t(4) << 20, 16), nullptr);
}

TEST(JitMemory, AnAlignmentPastTheRunsEndGetsARunOfItsOwn) {
  auto memory = JitMemory::create(size_t(16) << 20);
  ASSERT_TRUE(bool(memory)) << llvm::toString(memory.takeError());
  JitMemory &m = **memory;
  ASSERT_NE(m.allocate(JitMemory::Kind::ReadOnly, 64, 16), nullptr);
  // Aligned to 1 MiB, the next address of the run (256 KB long) lies past
  // its end: the section goes to a new run, aligned, and can be written.
  const size_t align = size_t(1) << 20;
  uint8_t *p = m.allocate(JitMemory::Kind::ReadOnly, 64, static_cast<unsigned>(align));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u);
  EXPECT_EQ(protectionAt(p).substr(0, 3), "rw-");
  p[63] = 1;
}

} // namespace
} // namespace mtl::backend
