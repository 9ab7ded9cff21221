// product_threads_test.cpp: a matrix product runs on the pool from
// Emitter::kParallelProductWork multiply-adds (codegen/Matrix.cpp), not
// from the element-wise ops' kParallelWork: halving a smaller product saves
// less than handing it to the other thread costs. Here the dense(100) on 50
// inputs and its weight gradient, 5,000 multiply-adds a row, split from 53
// rows (262,144 / 5,000) and not at 52; nothing else in the step has the
// work to split at either. With two threads the step must give the bits it
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
namespace product_threads {

constexpr const char *kModel = R"(
model wide {
  input x : f32[50]
  task y : regress { head = x -> dense(100) -> relu -> dense(1) }
}
)";

constexpr int64_t kBelow = 52, kAbove = 53;
static_assert(kBelow * 5000 < codegen::Emitter::kParallelProductWork &&
              kAbove * 5000 >= codegen::Emitter::kParallelProductWork);
static_assert(kBelow * 5000 >= codegen::Emitter::kParallelWork,
              "the products would split at the element-wise ops' threshold");

class ProductThreads : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_NE(compiled.c.compiled, nullptr);
    const mtl_model &m = *compiled.c.compiled;
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0, 1);
    x.resize(size_t(kAbove * 50));
    for (float &v : x)
      v = normal(rng);
    y.resize(size_t(kAbove));
    for (float &v : y)
      v = normal(rng);
    params.resize(size_t(m.params_size));
    ASSERT_TRUE(mtlrt::initParams(m, params.data(), 4).ok());
  }

  test::StepRun step(int64_t rows, const mtl_parallel *parallel) {
    return test::runStep(*compiled.c.compiled, rows, {x.data()}, {y.data()}, params.data(),
                         parallel);
  }

  test::CompiledText compiled{kModel, "product_threads"};
  std::vector<float> x, y, params;
};

TEST_F(ProductThreads, ProductsRunOnThePoolOnlyFromTheirOwnThreshold) {
  mtlrt::ThreadPool pool(2);
  test::CountingPool below{pool.abi()}, above{pool.abi()};
  mtl_parallel belowAbi{&test::CountingPool::parallelFor, &below},
      aboveAbi{&test::CountingPool::parallelFor, &above};
  step(kBelow, &belowAbi);
  step(kAbove, &aboveAbi);
  EXPECT_EQ(below.loops.load(), 0);
  EXPECT_GE(above.loops.load(), 2); // the forward product and the weight gradient
}

TEST_F(ProductThreads, TwoThreadsGiveTheBitsOfOne) {
  mtlrt::ThreadPool pool(2);
  mtl_parallel parallel = pool.abi();
  for (int64_t rows : {kBelow, kAbove}) {
    SCOPED_TRACE(rows);
    test::StepRun one = step(rows, nullptr), two = step(rows, &parallel);
    EXPECT_EQ(two.loss, one.loss);
    EXPECT_EQ(two.grads, one.grads);
    EXPECT_EQ(two.outputs, one.outputs);
  }
}

} // namespace product_threads
} // namespace mtl
