// loss_threads_test.cpp: cross-entropy and BCE split their targets over the
// threads once their exp, log and log1p reach Emitter::kParallelWork (codegen/Loss.cpp):
// the gradients directly, the loss values through a buffer of per-target
// losses that is then summed in target order. At a batch that takes those
// paths, the losses and gradients with a pool of two threads must be bit for
// bit those without one, and the losses must be the mean over labelled rows
// of the formulas, computed here in double from the heads' outputs.
#include "CompiledText.h"
#include "StepRun.h"
#include "mtlrt/Abi.h"
#include "mtlrt/Init.h"
#include "mtlrt/ThreadPool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace mtl {
namespace loss_threads {

constexpr const char *kModel = R"(
model heads {
  input x : f32[8]
  task c : classify(10) { head = x -> dense(10) }
  task b : binary { head = x -> dense(1) }
}
)";

// 2,100 rows: cross-entropy's value is 2,100 x 10 exps (counted as 32
// multiply-adds each), BCE's 2,100 x 2 of exp and log1p, both past
// Emitter::kParallelWork (65,536).
// Each thread's share, 1,050 rows, ends in 10 targets that one thread
// computes in a full vector of 16 and two threads in a masked one.
constexpr int64_t kRows = 2100;

class LossThreads : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_NE(compiled.c.compiled, nullptr);
    const mtl_model &m = *compiled.c.compiled;
    ASSERT_EQ(m.num_tasks, 2);
    std::mt19937 rng(17);
    std::normal_distribution<float> normal(0, 2);
    x.resize(size_t(kRows * 8));
    for (float &v : x)
      v = normal(rng);
    for (int64_t r = 0; r < kRows; ++r) {
      // Every 7th row unlabelled for c, every 5th for b: left out of the means.
      cls.push_back(r % 7 == 3 ? NAN : float(rng() % 10));
      bin.push_back(r % 5 == 1 ? NAN : float(rng() % 2));
    }
    params.resize(size_t(m.params_size));
    ASSERT_TRUE(mtlrt::initParams(m, params.data(), 3).ok());
  }

  test::StepRun step(const mtl_parallel *parallel) {
    return test::runStep(*compiled.c.compiled, kRows, {x.data()}, {cls.data(), bin.data()},
                         params.data(), parallel);
  }

  test::CompiledText compiled{kModel, "loss_threads"};
  std::vector<float> x, cls, bin, params;
};

TEST_F(LossThreads, TwoThreadsGiveTheBitsOfOne) {
  mtlrt::ThreadPool pool(2);
  mtl_parallel parallel = pool.abi();
  test::StepRun one = step(nullptr), two = step(&parallel);
  EXPECT_EQ(two.loss, one.loss);
  EXPECT_EQ(two.taskLosses, one.taskLosses);
  EXPECT_EQ(two.grads, one.grads);
}

TEST_F(LossThreads, LossesAreTheMeansOverLabelledRows) {
  mtlrt::ThreadPool pool(2);
  mtl_parallel parallel = pool.abi();
  test::StepRun two = step(&parallel);
  double ce = 0, bce = 0;
  int ceRows = 0, bceRows = 0;
  for (int64_t r = 0; r < kRows; ++r) {
    if (!std::isnan(cls[size_t(r)])) {
      const float *z = &two.outputs[0][size_t(r * 10)];
      double mx = z[0], s = 0;
      for (int j = 1; j < 10; ++j)
        mx = std::max(mx, double(z[j]));
      for (int j = 0; j < 10; ++j)
        s += std::exp(double(z[j]) - mx);
      ce += mx + std::log(s) - z[int(cls[size_t(r)])];
      ++ceRows;
    }
    if (!std::isnan(bin[size_t(r)])) {
      const double p = two.outputs[1][size_t(r)], t = bin[size_t(r)];
      bce += std::max(p, 0.0) - p * t + std::log1p(std::exp(-std::fabs(p)));
      ++bceRows;
    }
  }
  ASSERT_EQ(ceRows, kRows - 300);  // rows 3, 10, ..., 2096
  ASSERT_EQ(bceRows, kRows - 420); // rows 1, 6, ..., 2096
  EXPECT_NEAR(two.taskLosses[0], ce / ceRows, 1e-5 * ce / ceRows);
  EXPECT_NEAR(two.taskLosses[1], bce / bceRows, 1e-5 * bce / bceRows);
  EXPECT_NEAR(two.loss, ce / ceRows + bce / bceRows, 1e-5 * (ce / ceRows + bce / bceRows));
}

} // namespace loss_threads
} // namespace mtl
