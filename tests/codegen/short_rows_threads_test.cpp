// short_rows_threads_test.cpp: a batched element-wise op whose rows are
// shorter than Emitter::kThreadedRow keeps a plain loop while its work is
// under Emitter::kParallelWork and runs on the pool from there
// (Emitter::eachRow): here the gradient of the first relu, 40 floats a row,
// from 1,639 rows (65,536 / 40). The products split from 262,144
// multiply-adds: the heads' (120 a row) from 2,185 rows, the trunk's (320
// and 1,600 a row) from 820 and 164, so between 1,500 and 1,700 rows only
// that op changes its way. With two threads the step must give the bits it
// gives on one.
#include "CompiledText.h"
#include "CountingPool.h"
#include "StepRun.h"
#include "codegen/Emitter.h"
#include "mtlrt/Abi.h"
#include "mtlrt/Init.h"
#include "mtlrt/ThreadPool.h"

#include <gtest/gtest.h>

#include <random>

namespace mtl {
namespace short_rows_threads {

constexpr const char *kModel = R"(
model narrow {
  input x : f32[8]
  shared trunk = x -> dense(40) -> relu -> dense(40) -> relu
  task a : regress(3) { head = trunk -> dense(3) }
  task b : regress(3) { head = trunk -> dense(3) }
}
)";

constexpr int64_t kBelow = 1500, kAbove = 1700;
static_assert(kBelow * 40 < codegen::Emitter::kParallelWork &&
              kAbove * 40 >= codegen::Emitter::kParallelWork);
static_assert(kAbove * 120 < codegen::Emitter::kParallelProductWork &&
              kBelow * 320 >= codegen::Emitter::kParallelProductWork);
static_assert(40 < codegen::Emitter::kThreadedRow);

class ShortRowsThreads : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_NE(compiled.c.compiled, nullptr);
    const mtl_model &m = *compiled.c.compiled;
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0, 1);
    x.resize(size_t(kAbove * 8));
    for (float &v : x)
      v = normal(rng);
    ya.resize(size_t(kAbove * 3));
    yb.resize(size_t(kAbove * 3));
    for (float &v : ya)
      v = normal(rng);
    for (float &v : yb)
      v = normal(rng);
    params.resize(size_t(m.params_size));
    ASSERT_TRUE(mtlrt::initParams(m, params.data(), 7).ok());
  }

  test::StepRun step(int64_t rows, const mtl_parallel *parallel) {
    return test::runStep(*compiled.c.compiled, rows, {x.data()}, {ya.data(), yb.data()},
                         params.data(), parallel);
  }

  test::CompiledText compiled{kModel, "short_rows_threads"};
  std::vector<float> x, ya, yb, params;
};

TEST_F(ShortRowsThreads, TheShortRowsOpRunsOnThePoolOnlyPastTheWork) {
  mtlrt::ThreadPool pool(2);
  test::CountingPool below{pool.abi()}, above{pool.abi()};
  mtl_parallel belowAbi{&test::CountingPool::parallelFor, &below},
      aboveAbi{&test::CountingPool::parallelFor, &above};
  step(kBelow, &belowAbi);
  step(kAbove, &aboveAbi);
  EXPECT_GT(below.loops.load(), 0);
  EXPECT_EQ(above.loops.load(), below.loops.load() + 1);
}

TEST_F(ShortRowsThreads, TwoThreadsGiveTheBitsOfOne) {
  mtlrt::ThreadPool pool(2);
  mtl_parallel parallel = pool.abi();
  for (int64_t rows : {kBelow, kAbove}) {
    SCOPED_TRACE(rows);
    test::StepRun one = step(rows, nullptr), two = step(rows, &parallel);
    EXPECT_EQ(two.loss, one.loss);
    EXPECT_EQ(two.taskLosses, one.taskLosses);
    EXPECT_EQ(two.grads, one.grads);
    EXPECT_EQ(two.outputs, one.outputs);
  }
}

} // namespace short_rows_threads
} // namespace mtl
