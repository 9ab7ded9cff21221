// thread_choice_test.cpp: which way a trainer runs its steps, from step times given by hand.
#include "train/ThreadChoice.h"

#include <gtest/gtest.h>

#include <vector>

using namespace mtlrt;
using Way = ThreadChoice::Way;

namespace {
/// Runs steps of `rows` rows through `c`, each taking `pool` or `one` seconds
/// by its way, until it stops measuring or `limit` steps ran; returns the steps.
int runUntilChosen(ThreadChoice &c, double pool, double one, int64_t rows = 32, int limit = 100) {
  int steps = 0;
  while (c.measuring() && steps < limit) {
    const Way way = c.next();
    c.record(rows, way, way == Way::Pool ? pool : one);
    ++steps;
  }
  return steps;
}
} // namespace

TEST(ThreadChoice, AClearlyFasterWayWinsAfterOneBlockEach) {
  ThreadChoice slowPool(2, true);
  EXPECT_EQ(runUntilChosen(slowPool, 30e-6, 18e-6), 2 * ThreadChoice::kBlock);
  EXPECT_EQ(slowPool.chosen(), Way::One);
  EXPECT_EQ(slowPool.next(), Way::One);
  const ThreadUse use = slowPool.use();
  EXPECT_EQ(use.threads, 1);
  EXPECT_EQ(use.pool, 2);
  EXPECT_DOUBLE_EQ(use.poolSeconds, 30e-6);
  EXPECT_DOUBLE_EQ(use.oneSeconds, 18e-6);

  ThreadChoice fastPool(2, true);
  EXPECT_EQ(runUntilChosen(fastPool, 1.0e-3, 1.9e-3), 2 * ThreadChoice::kBlock);
  EXPECT_EQ(fastPool.chosen(), Way::Pool);
  EXPECT_EQ(fastPool.use().threads, 2);
}

TEST(ThreadChoice, CloseWaysTakeEveryBlockAndTheLowerMedianWins) {
  const int all = 2 * ThreadChoice::kBlock * ThreadChoice::kBlocks;
  ThreadChoice poolAhead(2, true);
  EXPECT_EQ(runUntilChosen(poolAhead, 100e-6, 110e-6), all);
  EXPECT_EQ(poolAhead.chosen(), Way::Pool);
  ThreadChoice oneAhead(2, true);
  EXPECT_EQ(runUntilChosen(oneAhead, 110e-6, 100e-6), all);
  EXPECT_EQ(oneAhead.chosen(), Way::One);
  ThreadChoice tie(2, true); // the one thread leaves the other core free
  EXPECT_EQ(runUntilChosen(tie, 100e-6, 100e-6), all);
  EXPECT_EQ(tie.chosen(), Way::One);
}

TEST(ThreadChoice, BlocksAlternatePoolFirst) {
  ThreadChoice c(2, true);
  std::vector<Way> ways;
  while (c.measuring()) {
    ways.push_back(c.next());
    c.record(32, ways.back(), ways.back() == Way::Pool ? 100e-6 : 110e-6);
  }
  ASSERT_EQ(ways.size(), size_t(2 * ThreadChoice::kBlock * ThreadChoice::kBlocks));
  for (size_t i = 0; i < ways.size(); ++i)
    EXPECT_EQ(ways[i], (i / ThreadChoice::kBlock) % 2 == 0 ? Way::Pool : Way::One) << i;
}

TEST(ThreadChoice, ABlocksFirstStepDoesNotCount) {
  // Each block's first step brings the data into that way's caches. Counted,
  // the pool's slow first step and the one thread's fast one would leave
  // neither way clearly faster after a block each; uncounted, the pool is.
  ThreadChoice c(2, true);
  for (int step = 0; c.measuring(); ++step) {
    const Way way = c.next();
    const bool first = step % ThreadChoice::kBlock == 0;
    c.record(32, way, way == Way::Pool ? (first ? 900e-6 : 100e-6) : (first ? 10e-6 : 200e-6));
    ASSERT_LT(step, 2 * ThreadChoice::kBlock);
  }
  EXPECT_EQ(c.chosen(), Way::Pool);
  EXPECT_DOUBLE_EQ(c.use().poolSeconds, 100e-6);
  EXPECT_DOUBLE_EQ(c.use().oneSeconds, 200e-6);
}

TEST(ThreadChoice, StepsOfAnotherBatchSizeRunTheBlocksWayUntimed) {
  ThreadChoice c(2, true);
  c.record(32, c.next(), 1e-3); // the first step fixes the batch size timed
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(c.next(), Way::Pool); // an epoch's short last batches: the block goes on
    c.record(7, Way::Pool, 1.0);
  }
  EXPECT_TRUE(c.measuring());
  EXPECT_EQ(runUntilChosen(c, 20e-6, 10e-6), 2 * ThreadChoice::kBlock - 1);
  EXPECT_EQ(c.chosen(), Way::One);
  EXPECT_DOUBLE_EQ(c.use().poolSeconds, 20e-6); // the 1-second steps were not counted
}

TEST(ThreadChoice, NothingIsMeasuredWithOneThreadOrWhenNotAsked) {
  for (ThreadChoice c : {ThreadChoice(), ThreadChoice(1, true), ThreadChoice(2, false)}) {
    EXPECT_FALSE(c.measuring());
    EXPECT_EQ(c.next(), Way::Pool);
    c.record(32, Way::Pool, 1.0);
    EXPECT_EQ(c.chosen(), Way::Pool);
    EXPECT_EQ(c.use().poolSeconds, 0);
    c.restart();
    EXPECT_FALSE(c.measuring());
  }
}

TEST(ThreadChoice, RestartMeasuresAgain) {
  ThreadChoice c(2, true);
  runUntilChosen(c, 30e-6, 18e-6);
  ASSERT_EQ(c.chosen(), Way::One);
  c.restart(); // new code: its steps may split otherwise
  EXPECT_TRUE(c.measuring());
  EXPECT_EQ(c.next(), Way::Pool);
  EXPECT_EQ(c.use().poolSeconds, 0);
  runUntilChosen(c, 1e-3, 2e-3, 64);
  EXPECT_EQ(c.chosen(), Way::Pool);
}
