// jit_guards_test.cpp: generated steps against numbers worked out by hand:
// a pool's gradient on ties, gate sums, class ids outside the classes, an
// update refused for a huge gradient in every kind of tensor, a learned
// gate's initial values.
#include "CompiledText.h"
#include "JitBatch.h"

#include "mtlrt/Init.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace mtl {
namespace {

using test::Batch;
using test::compile;
using test::Compiled;
using test::makeBatch;
using test::paramNamed;
using test::randomParams;

TEST(JitPools, AWindowsGradientGoesToItsFirstMaximum) {
  // pool_ties: y = x0 + x1 (a 1 x 1 convolution with weights 1, 1), then
  // max_pool(2). Window 0 holds y = 1 at (0, 0) from channel 0 and at (1, 1)
  // from channel 1; window 1 holds y = 0.75 at (0, 2) from x = (0.25, 0.5)
  // and at (1, 2) from (0.5, 0.25). Against zero targets the MSE's gradient
  // is the output itself (its mean has 2 elements), so the first maxima give
  // d w = 1 (1, 0) + 0.75 (0.25, 0.5) = (1.1875, 0.375) and the last ones
  // would give (0.375, 1.1875). Random inputs never tie; these do, with
  // the vector pools (x86-64-v3) and the element-by-element ones (x86-64-v2).
  const float x[2 * 2 * 4] = {1, 0, 0.25f, 0.5f, 0, 0, 0.5f,  0,      // channel 0
                              0, 0, 0.5f,  0,    0, 1, 0.25f, 0.25f}; // channel 1
  const float target[2] = {0, 0}, weight = 1;
  for (const char *cpu : {"x86-64-v2", "x86-64-v3"}) {
    SCOPED_TRACE(cpu);
    Compiled own;
    compile("tests/codegen/models/pool_ties.mtl", own, nullptr, cpu);
    ASSERT_TRUE(own.ok) << own.c.diags.render(false);
    const mtl_model &m = *own.c.compiled;
    const mtl_tensor_desc *w = paramNamed(m, "a.0.weight");
    ASSERT_NE(w, nullptr);
    ASSERT_EQ(w->size, 2);
    std::vector<float> params(m.params_size, 1.0f), grads(m.grads_size, NAN);
    const void *inputs[] = {x};
    const float *targets[] = {target};
    mtl_batch mb{1, inputs, targets};
    mtl_hyper hyper{0.1f, &weight, 1, 0, nullptr};
    std::vector<float> workspace(m.workspace_fixed + m.workspace_per_row);
    float taskLoss = 0, count = 0;
    mtl_result result{0, &taskLoss, &count, nullptr, 0, 0, nullptr, 0};
    m.grad_step(&mb, &hyper, params.data(), workspace.data(), grads.data(), &result, nullptr);
    EXPECT_FLOAT_EQ(grads[w->offset], 1.1875f);
    EXPECT_FLOAT_EQ(grads[w->offset + 1], 0.375f);
    EXPECT_FLOAT_EQ(result.total_loss, (1.0f + 0.5625f) / 2);
  }
}

TEST(GateSums, SoftmaxGatesAverageToOneAndNullAsksForNothing) {
  // digits_mmoe: one softmax gate per task, so each gate's weights on a row
  // sum to 1 and its means over the labelled rows do too.
  Compiled own;
  compile("examples/digits_mmoe.mtl", own);
  ASSERT_TRUE(own.ok) << own.c.diags.render(false);
  const mtl_model &m = *own.c.compiled;
  ASSERT_EQ(m.num_gates, 3);
  constexpr int64_t kRows = 37;
  std::mt19937 rng(5);
  Batch batch = makeBatch(m, own.c.step, kRows, rng);
  std::vector<float> params = randomParams(m, rng);
  mtl_batch mb{kRows, batch.inputPtrs.data(), batch.targetPtrs.data()};
  mtl_hyper hyper{1.0f, batch.weights.data(), 1, 0, nullptr};
  std::vector<float> workspace(m.workspace_fixed + kRows * m.workspace_per_row);
  std::vector<float> taskLosses(m.num_tasks), counts(m.num_tasks), sums(9, NAN);
  mtl_result result{0, taskLosses.data(), counts.data(), nullptr, 0, 0, sums.data(), 0};
  m.eval_step(&mb, &hyper, params.data(), workspace.data(), &result, nullptr);
  const char *names[] = {"digit_gate", "odd_gate", "high_gate"};
  const char *experts[] = {"e1", "e2", "e3"};
  for (int32_t g = 0; g < 3; ++g) {
    const mtl_gate_desc &gate = m.gates[g];
    EXPECT_STREQ(gate.name, names[g]);
    EXPECT_EQ(gate.task, g) << "each gate belongs to the task whose head mixes with it";
    ASSERT_EQ(gate.experts, 3);
    double total = 0;
    for (int32_t j = 0; j < 3; ++j) {
      EXPECT_STREQ(gate.expert_names[j], experts[j]);
      EXPECT_GT(sums[size_t(3 * g + j)], 0.0f);
      total += sums[size_t(3 * g + j)] / counts[size_t(g)];
    }
    EXPECT_NEAR(total, 1.0, 1e-5) << gate.name;
  }
  result.gate_sums = nullptr; // not wanted: a step that wrote through it would crash here
  m.eval_step(&mb, &hyper, params.data(), workspace.data(), &result, nullptr);
  EXPECT_EQ(result.gate_sums, nullptr);
}

// Generated cross-entropy reads a class id only inside [0, classes): an id
// outside (the class count itself, or -1, which only a caller of the C
// interface can pass; the interpreter refuses them) counts as a missing
// label, so the step's loss and gradients equal those with NaN there.
TEST(JitGuards, CrossEntropyTreatsAnIdOutsideTheClassesAsMissing) {
  Compiled own;
  compile("tests/codegen/models/combine.mtl", own);
  ASSERT_TRUE(own.ok) << own.c.diags.render(false);
  const mtl_model &m = *own.c.compiled;
  constexpr int64_t kRows = 8;
  std::mt19937 rng(7);
  Batch batch = makeBatch(m, own.c.step, kRows, rng);
  std::vector<float> params = randomParams(m, rng);
  int classify = -1;
  for (int t = 0; t < m.num_tasks; ++t)
    if (m.tasks[t].kind == MTL_CLASSIFY)
      classify = t;
  ASSERT_GE(classify, 0);
  auto step = [&](float row3, float row5, float &loss) {
    std::vector<float> y = batch.targets[size_t(classify)];
    y[3] = row3, y[5] = row5;
    std::vector<const float *> targets = batch.targetPtrs;
    targets[size_t(classify)] = y.data();
    mtl_batch mb{kRows, batch.inputPtrs.data(), targets.data()};
    mtl_hyper hyper{1.0f, batch.weights.data(), 1, 1, nullptr};
    std::vector<float> workspace(m.workspace_fixed + kRows * m.workspace_per_row);
    std::vector<float> taskLosses(m.num_tasks), counts(m.num_tasks), grads(m.grads_size, NAN);
    mtl_result result{0, taskLosses.data(), counts.data(), nullptr, 0, 0, nullptr, 0};
    m.grad_step(&mb, &hyper, params.data(), workspace.data(), grads.data(), &result, nullptr);
    loss = taskLosses[size_t(classify)];
    return grads;
  };
  const auto classes = static_cast<float>(m.tasks[classify].classes);
  float missingLoss = 0, outsideLoss = 0, labelledLoss = 0;
  std::vector<float> missing = step(NAN, NAN, missingLoss);
  std::vector<float> outside = step(classes, -1, outsideLoss);
  std::vector<float> labelled = step(classes - 1, 0, labelledLoss);
  EXPECT_EQ(outsideLoss, missingLoss);
  EXPECT_NE(labelledLoss, missingLoss); // the rows matter when they are labelled
  ASSERT_EQ(outside.size(), missing.size());
  for (size_t i = 0; i < missing.size(); ++i) // NaN: padding the step does not write
    EXPECT_TRUE(outside[i] == missing[i] || (std::isnan(outside[i]) && std::isnan(missing[i])))
        << "gradient " << i << ": " << outside[i] << " and " << missing[i];
}

// A gradient of 2^60 or more, though finite, would overflow the update: the
// step is refused (skipped = 1) and the parameters and optimizer state stay
// as they were; one just under the bound is applied.
TEST(JitGuards, UpdateRefusesAHugeFiniteGradient) {
  Compiled own;
  compile("tests/codegen/models/combine.mtl", own);
  ASSERT_TRUE(own.ok) << own.c.diags.render(false);
  const mtl_model &m = *own.c.compiled;
  std::mt19937 rng(3);
  const std::vector<float> before = randomParams(m, rng);
  auto update = [&](float gradient, std::vector<float> &params) {
    params = before;
    std::vector<float> state(size_t(m.state_size), 0.0f), grads(size_t(m.grads_size), 0.0f);
    grads[size_t(m.params[0].offset)] = gradient;
    std::vector<float> weights(size_t(m.num_tasks), 1.0f);
    mtl_hyper hyper{1e-3f, weights.data(), 1, 1, nullptr};
    mtl_result result{};
    m.update(&hyper, params.data(), state.data(), grads.data(), &result, nullptr);
    return result.skipped;
  };
  std::vector<float> params;
  EXPECT_EQ(update(1e30f, params), 1); // finite, and past 2^60
  EXPECT_EQ(params, before);
  EXPECT_EQ(update(1e17f, params), 0); // under 2^60 (1.15e18)
  EXPECT_NE(params, before);
}

// The same bound in every tensor, at its last element: a weight of 64 x 256
// (16,384 elements: checked and updated by kernels that split over threads,
// through the largest magnitude), its bias of 256 and a weight of 256 x 5
// (loops in the update, the largest magnitude again), a bias of 5 (value by
// value). 2^60 itself refuses the step, the float below it does not, nor
// do infinity or NaN get through; a parameter that is already infinite
// stores a non-finite value, which the update reports (skipped = 2).
TEST(JitGuards, EveryTensorRefusesFromTwoToTheSixtyAndReportsAnInfiniteValue) {
  test::CompiledText own(R"(model bounds {
  input x : f32[64]
  task y : regress(5) { head = x -> dense(256) -> relu -> dense(5) }
  optimizer adam(lr = 1e-3)
}
)",
                         "bounds");
  ASSERT_NE(own.c.compiled, nullptr);
  const mtl_model &m = *own.c.compiled;
  ASSERT_EQ(m.num_params, 4);
  std::mt19937 rng(5);
  const std::vector<float> before = randomParams(m, rng);
  // Runs the update with `gradient` at element `at` (its parameter set to
  // `param` when given); the step's `skipped`, and whether the parameters changed.
  auto update = [&](int64_t at, float gradient, float param = NAN) {
    std::vector<float> params = before;
    if (!std::isnan(param))
      params[size_t(at)] = param;
    std::vector<float> state(size_t(m.state_size), 0.0f), grads(size_t(m.grads_size), 0.0f);
    grads[size_t(at)] = gradient;
    std::vector<float> weights(size_t(m.num_tasks), 1.0f);
    mtl_hyper hyper{1e-3f, weights.data(), 1, 1, nullptr};
    mtl_result result{};
    m.update(&hyper, params.data(), state.data(), grads.data(), &result, nullptr);
    return std::pair(result.skipped, params != before);
  };
  const float bound = 0x1p60f, below = std::nextafter(bound, 0.0f);
  for (int p = 0; p < m.num_params; ++p) {
    SCOPED_TRACE(m.params[p].name);
    const int64_t last = m.params[p].offset + m.params[p].size - 1;
    EXPECT_EQ(update(last, bound), std::pair(1, false));
    EXPECT_EQ(update(last, -bound), std::pair(1, false));
    EXPECT_EQ(update(last, INFINITY), std::pair(1, false));
    EXPECT_EQ(update(last, NAN), std::pair(1, false));
    EXPECT_EQ(update(last, below), std::pair(0, true));
    EXPECT_EQ(update(last, 1.0f, INFINITY).first, 2);
  }
}

// A learned(...) gate starts at the numbers written: the descriptor carries
// them (MTL_INIT_VALUES) and the runtime's initialisation copies them.
TEST(JitInit, LearnedGateStartsAtTheNumbersWritten) {
  Compiled own;
  compile("tests/codegen/models/stacks.mtl", own);
  ASSERT_TRUE(own.ok) << own.c.diags.render(false);
  const mtl_model &m = *own.c.compiled;
  const mtl_tensor_desc *gate = paramNamed(m, "d.0.weight");
  ASSERT_NE(gate, nullptr);
  EXPECT_EQ(gate->init, MTL_INIT_VALUES);
  std::vector<float> params(size_t(m.params_size), NAN);
  ASSERT_TRUE(mtlrt::initParams(m, params.data(), 5).ok());
  const std::vector<float> written = {0.9f, 0.1f, -0.3f};
  EXPECT_EQ(
      std::vector<float>(params.begin() + gate->offset, params.begin() + gate->offset + gate->size),
      written);
}

} // namespace
} // namespace mtl
