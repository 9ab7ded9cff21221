// update_threads_test.cpp: the update splits a tensor of 16,384 elements or
// more over the threads (codegen/Update.cpp), and its gradient's check too,
// where the gradient step before it (its rows, mtl_result.rows) split the
// tensor's gradient: from rows x elements of 262,144. With a pool of two
// threads it must store exactly what it stores on one, and a huge gradient
// in the half the other thread checks must still refuse the whole step.
#include "CompiledText.h"
#include "mtlrt/Abi.h"
#include "mtlrt/ThreadPool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace mtl {
namespace update_threads {

// dense(100) on 200 inputs: a weight of 20,000 elements, split; the rest
// not. The narrow task's tensors come first, so that the weight's choice
// does not follow theirs.
constexpr const char *kModel = R"(
model wide {
  input x : f32[200]
  task s : regress { head = x -> dense(1) }
  task y : regress { head = x -> dense(100) -> relu -> dense(1) }
  optimizer adam(lr = 0.01)
}
)";

// The weight's gradient splits from 14 rows (14 x 20,000 >= 262,144), not at 13.
constexpr int64_t kSplitRows = 14;

// A parallel_for that records the length of each loop it is handed and runs
// it in two chunks, the second first.
void recordingFor(void *loops, int64_t n, void (*body)(void *, int64_t, int64_t), void *ctx) {
  static_cast<std::vector<int64_t> *>(loops)->push_back(n);
  body(ctx, n / 2, n);
  body(ctx, 0, n / 2);
}

struct Arenas {
  std::vector<float> params, state, grads;
};

class UpdateThreads : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_NE(compiled.c.compiled, nullptr);
    const mtl_model &m = *compiled.c.compiled;
    weight = nullptr;
    for (int32_t k = 0; k < m.num_params; ++k)
      if (m.params[k].size == 20000)
        weight = &m.params[k];
    ASSERT_NE(weight, nullptr) << "no tensor of 20,000 elements";
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> unit(-1, 1);
    start.params.resize(size_t(m.params_size));
    start.grads.resize(size_t(m.grads_size));
    start.state.resize(size_t(m.state_size));
    for (float &v : start.params)
      v = unit(rng);
    for (float &v : start.grads)
      v = unit(rng);
    for (float &v : start.state) // exp_avg and exp_avg_sq (a mean of squares)
      v = std::fabs(unit(rng));
  }

  // One update of a copy of `start` after a gradient step of `rows` rows,
  // with `gradient` at element `at` of the weight's gradient; returns
  // result.skipped.
  int update(const mtl_parallel *parallel, Arenas &out, int64_t rows = kSplitRows,
             float gradient = NAN, int64_t at = 0) {
    const mtl_model &m = *compiled.c.compiled;
    out = start;
    if (!std::isnan(gradient))
      out.grads[size_t(weight->offset + at)] = gradient;
    float taskWeights[2] = {1, 1}, taskLosses[2] = {0, 0}, counts[2] = {0, 0};
    mtl_hyper hyper{0.01f, taskWeights, 3, 0, nullptr};
    mtl_result result{0.5f, taskLosses, counts, nullptr, 0, 0, nullptr, rows};
    m.update(&hyper, out.params.data(), out.state.data(), out.grads.data(), &result, parallel);
    return result.skipped;
  }

  test::CompiledText compiled{kModel, "update_threads"};
  const mtl_tensor_desc *weight = nullptr;
  Arenas start;
};

TEST_F(UpdateThreads, TwoThreadsStoreWhatOneStores) {
  mtlrt::ThreadPool pool(2);
  mtl_parallel parallel = pool.abi();
  Arenas one, two;
  ASSERT_EQ(update(nullptr, one), 0);
  ASSERT_EQ(update(&parallel, two), 0);
  EXPECT_NE(one.params, start.params);
  EXPECT_EQ(two.params, one.params); // float ==: bit for bit, NaN aside (there are none)
  EXPECT_EQ(two.state, one.state);
}

TEST_F(UpdateThreads, SplitsOnlyWhereTheGradientStepSplitTheGradient) {
  std::vector<int64_t> loops;
  mtl_parallel recording{&recordingFor, &loops};
  Arenas one, split, whole;
  ASSERT_EQ(update(nullptr, one), 0);
  ASSERT_EQ(update(&recording, split, kSplitRows), 0);
  // The weight's check and its update; no other tensor is large enough.
  EXPECT_EQ(loops, (std::vector<int64_t>{weight->size, weight->size}));
  EXPECT_EQ(split.params, one.params);
  EXPECT_EQ(split.state, one.state);
  loops.clear();
  ASSERT_EQ(update(&recording, whole, kSplitRows - 1), 0);
  EXPECT_TRUE(loops.empty()) << loops.size() << " loops split at " << kSplitRows - 1 << " rows";
  EXPECT_EQ(whole.params, one.params);
  EXPECT_EQ(whole.state, one.state);
}

TEST_F(UpdateThreads, AGradientStepWritesItsRowsForTheUpdate) {
  const mtl_model &m = *compiled.c.compiled;
  const int64_t rows = 5;
  std::vector<float> x(size_t(rows * 200), 0.5f), y(size_t(rows), 1.0f);
  const void *inputs[] = {x.data()};
  const float *targets[] = {y.data(), y.data()};
  mtl_batch batch{rows, inputs, targets};
  float taskWeights[2] = {1, 1}, taskLosses[2] = {0, 0}, counts[2] = {0, 0};
  mtl_hyper hyper{0.01f, taskWeights, 1, 0, nullptr};
  std::vector<float> workspace(size_t(m.workspace_fixed + rows * m.workspace_per_row));
  Arenas out = start;
  mtl_result result{0, taskLosses, counts, nullptr, 0, 0, nullptr, -1};
  m.grad_step(&batch, &hyper, out.params.data(), workspace.data(), out.grads.data(), &result,
              nullptr);
  EXPECT_EQ(result.rows, rows);
}

TEST_F(UpdateThreads, AHugeGradientInEitherHalfRefusesTheStep) {
  mtlrt::ThreadPool pool(2);
  mtl_parallel parallel = pool.abi();
  for (int64_t at : {int64_t(0), weight->size / 2 + 1, weight->size - 1}) {
    Arenas out;
    EXPECT_EQ(update(&parallel, out, kSplitRows, 1e30f, at), 1) << "element " << at;
    EXPECT_EQ(out.params, start.params) << "element " << at;
    EXPECT_EQ(out.state, start.state) << "element " << at;
  }
}

} // namespace update_threads
} // namespace mtl
