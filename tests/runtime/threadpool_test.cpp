// threadpool_test.cpp: the pool covers every index once, chunks as documented, nests safely
// and runs loops in the caller's floating-point mode.
#include "mtlrt/ThreadPool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>
#include <xmmintrin.h>

using namespace mtlrt;

namespace {
struct Hits {
  std::vector<std::atomic<int>> counts;
  explicit Hits(size_t n) : counts(n) {}
};

void countHits(void *ctx, int64_t begin, int64_t end) {
  auto *hits = static_cast<Hits *>(ctx);
  for (int64_t i = begin; i < end; ++i)
    hits->counts[size_t(i)].fetch_add(1);
}

struct Chunks {
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> seen;
};

void recordChunk(void *ctx, int64_t begin, int64_t end) {
  auto *chunks = static_cast<Chunks *>(ctx);
  std::lock_guard<std::mutex> lock(chunks->mutex);
  chunks->seen.emplace_back(begin, end);
}
} // namespace

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (int64_t n : {1, 2, 3, 7, 64, 1000}) {
      Hits hits{size_t(n)};
      pool.parallelFor(n, countHits, &hits);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits.counts[size_t(i)].load(), 1) << "threads " << threads << " n " << n;
    }
  }
}

TEST(ThreadPool, ZeroOrNegativeSizeDoesNothing) {
  ThreadPool pool(2);
  Chunks chunks;
  pool.parallelFor(0, recordChunk, &chunks);
  pool.parallelFor(-5, recordChunk, &chunks);
  EXPECT_TRUE(chunks.seen.empty());
}

TEST(ThreadPool, StaticChunksAreTheDocumentedOnes) {
  ThreadPool pool(3);
  Chunks chunks;
  pool.parallelFor(10, recordChunk, &chunks);
  std::sort(chunks.seen.begin(), chunks.seen.end());
  std::vector<std::pair<int64_t, int64_t>> expected{{0, 3}, {3, 6}, {6, 10}};
  EXPECT_EQ(chunks.seen, expected);

  // Fewer items than threads: empty chunks are skipped, not called.
  Chunks small;
  pool.parallelFor(2, recordChunk, &small);
  std::sort(small.seen.begin(), small.seen.end());
  std::vector<std::pair<int64_t, int64_t>> expectedSmall{{0, 1}, {1, 2}};
  EXPECT_EQ(small.seen, expectedSmall);
}

TEST(ThreadPool, SingleThreadRunsInlineAsOneChunk) {
  ThreadPool pool(0); // below 1 means 1
  EXPECT_EQ(pool.threads(), 1);
  Chunks chunks;
  pool.parallelFor(100, recordChunk, &chunks);
  ASSERT_EQ(chunks.seen.size(), 1u);
  EXPECT_EQ(chunks.seen[0], std::make_pair(int64_t(0), int64_t(100)));
}

namespace {
struct Nested {
  ThreadPool *pool;
  std::atomic<int64_t> sum{0};
};

void addIndices(void *ctx, int64_t begin, int64_t end) {
  auto *nested = static_cast<Nested *>(ctx);
  for (int64_t i = begin; i < end; ++i)
    nested->sum.fetch_add(i);
}

void outerBody(void *ctx, int64_t begin, int64_t end) {
  auto *nested = static_cast<Nested *>(ctx);
  for (int64_t i = begin; i < end; ++i)
    nested->pool->parallelFor(10, addIndices, nested); // runs inline: no deadlock
}
} // namespace

TEST(ThreadPool, NestedLoopsRunInline) {
  ThreadPool pool(2);
  Nested nested{&pool};
  pool.parallelFor(8, outerBody, &nested);
  EXPECT_EQ(nested.sum.load(), 8 * 45);
}

TEST(ThreadPool, ManyShortLoopsAndTheAbiEntryPoint) {
  ThreadPool pool(2);
  mtl_parallel abi = pool.abi();
  Hits hits(16);
  for (int k = 0; k < 20000; ++k)
    abi.parallel_for(abi.pool, 16, countHits, &hits);
  for (auto &c : hits.counts)
    EXPECT_EQ(c.load(), 20000);
}

TEST(ThreadPool, ConcurrentCallersBothFinish) {
  ThreadPool pool(2);
  Hits a(1000), b(1000);
  std::thread other([&] {
    for (int k = 0; k < 500; ++k)
      pool.parallelFor(1000, countHits, &b);
  });
  for (int k = 0; k < 500; ++k)
    pool.parallelFor(1000, countHits, &a);
  other.join();
  for (size_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(a.counts[i].load(), 500);
    EXPECT_EQ(b.counts[i].load(), 500);
  }
}

namespace {
// Records each chunk's thread MXCSR: a worker must run the loop in the caller's mode.
struct Modes {
  std::mutex mutex;
  std::vector<unsigned> seen;
};

void recordMode(void *ctx, int64_t, int64_t) {
  auto *modes = static_cast<Modes *>(ctx);
  std::lock_guard<std::mutex> lock(modes->mutex);
  modes->seen.push_back(_mm_getcsr());
}
} // namespace

TEST(ThreadPool, WorkersRunEachLoopInTheCallersFloatMode) {
  ThreadPool pool(3);
  const unsigned plain = _mm_getcsr();
  // Flush-to-zero and denormals-are-zero, then round toward zero, then back.
  for (unsigned mode : {plain | 0x8040u, (plain & ~0x6000u) | 0x6000u, plain}) {
    _mm_setcsr(mode);
    Modes modes;
    pool.parallelFor(3, &recordMode, &modes);
    _mm_setcsr(plain);
    ASSERT_EQ(modes.seen.size(), 3u);
    for (unsigned seen : modes.seen)
      EXPECT_EQ(seen, mode);
  }
}
