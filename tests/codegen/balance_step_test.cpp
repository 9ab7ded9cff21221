// balance_step_test.cpp: one training step under each balancing method, as
// the Trainer takes it, against the step assembled here from its parts: the
// generated task_grad_step's arena (checked against the interpreter in
// jit_vs_interpreter_test) and the methods' coefficients (checked against
// hand-derived values in balance_methods_test), combined and applied with
// SGD by this test. What it pins is the plumbing between them: which
// parameters are shared and where their blocks lie, the penalty's part, the
// task weights handed to the gradient step, the scaling by the task count.
#include "CompiledText.h"
#include "balance/Method.h"
#include "balance/Methods.h"
#include "driver/Pipeline.h"
#include "mtlrt/Abi.h"
#include "mtlrt/Trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <string>

namespace mtl {
namespace balance_step {

// Two tasks share a trunk; task b weighs 0.5; an l2 penalty reaches the
// shared parameters too.
constexpr const char *kModel = R"(
model two {
  input x : f32[3]
  shared trunk = x -> dense(4) -> tanh
  task a : regress { head = trunk -> dense(1) }
  task b : regress(2) { head = trunk -> dense(2) weight = 0.5 }
  regularize l2(0.01)
  optimizer sgd(lr = 0.1)
}
)";

constexpr int64_t kRows = 6;
constexpr uint64_t kSeed = 11;
constexpr float kLr = 0.1f;

struct Fixture {
  driver::Compilation c;
  std::vector<float> x, ya, yb;

  /// With `penalty` false, the model without its l2 term: task_grad_step
  /// then leaves the shared parameters' place in the arena to the runtime.
  void compile(bool penalty) {
    const std::string path = test::testFile(penalty ? "balance_step" : "balance_step_np");
    std::string text = kModel;
    if (!penalty)
      text.erase(text.find("  regularize"), text.find("  optimizer") - text.find("  regularize"));
    std::ofstream(path) << text;
    driver::PipelineOptions options;
    options.taskGradients = true; // the model says static; the test runs every method
    ASSERT_TRUE(driver::runPipeline(path, driver::Stage::Jit, c, options)) << c.diags.render(false);
    std::mt19937 rng(5);
    std::normal_distribution<float> n;
    for (int64_t r = 0; r < kRows; ++r) {
      for (int k = 0; k < 3; ++k)
        x.push_back(n(rng));
      ya.push_back(n(rng));
      // Row 2 has no label for b: a method must take the mask in its stride.
      yb.push_back(r == 2 ? NAN : n(rng));
      yb.push_back(r == 2 ? NAN : n(rng));
    }
  }
};

/// The fixture's batch as the generated functions take it (the run's
/// weights, step 1), with room for what they write.
struct RawStep {
  RawStep(const Fixture &f, const mtl_model &m)
      : inputs{f.x.data()}, targets{f.ya.data(), f.yb.data()}, batch{kRows, inputs, targets},
        weights{1.0f, 0.5f}, hyper{kLr, weights.data(), 1, kSeed, nullptr}, losses(2), counts(2),
        grads(size_t(m.grads_size)),
        workspace(size_t(m.workspace_fixed + kRows * m.workspace_per_row)),
        result{0, losses.data(), counts.data(), nullptr, 0, 0, nullptr, 0} {}
  RawStep(const RawStep &) = delete; // batch and result point into it

  const void *inputs[1];
  const float *targets[2];
  mtl_batch batch;
  std::vector<float> weights;
  mtl_hyper hyper;
  std::vector<float> losses, counts, grads, workspace;
  mtl_result result;
};

/// The method's coefficients on the task gradients, as Balancer.cpp documents them.
std::vector<double> coefficients(const std::string &method, const std::vector<double> &gram) {
  using namespace mtlrt::balance;
  auto times2 = [](std::vector<double> v) {
    for (double &c : v)
      c *= 2;
    return v;
  };
  if (method == "pcgrad")
    return pcgrad(gram, 2, kSeed, 1);
  if (method == "mgda")
    return times2(minNorm(gram, 2));
  if (method == "cagrad")
    return times2(cagrad(gram, 2, 0.5));
  if (method == "imtl")
    return times2(imtl(gram, 2));
  if (method == "aligned_mtl")
    return alignedMtl(gram, 2);
  if (method == "nash_mtl")
    return nashMtl(gram, 2, NashScale::LibMtl);
  return {1.0, 1.0};
}

/// The method's factor on each task weight at the first step; `losses` are
/// the batch's task losses before the step.
std::vector<float> factors(const std::string &method, const std::vector<float> &losses) {
  if (method == "rlw") {
    std::vector<double> l = mtlrt::balance::rlw(2, kSeed, 1);
    return {float(2 * l[0]), float(2 * l[1])};
  }
  if (method == "famo") {
    // Equal shares z = 1/2 at the start: λ_t = z_t / (L_t c), c = Σ z_k / L_k,
    // i.e. λ_t = (1/L_t) / Σ_k (1/L_k), times T = 2.
    const double inv0 = 1 / double(losses[0]), inv1 = 1 / double(losses[1]);
    return {float(2 * inv0 / (inv0 + inv1)), float(2 * inv1 / (inv0 + inv1))};
  }
  return {1.0f, 1.0f}; // dwa and gradnorm start at 1
}

mtlrt::TrainOptions options(const std::string &method, bool gradStats) {
  mtlrt::TrainOptions o;
  o.seed = kSeed;
  o.threads = 1;
  o.batch = kRows;
  o.lr = kLr;
  o.quiet = true;
  o.balance = method;
  o.gradStats = gradStats;
  return o;
}

class BalanceStep : public ::testing::TestWithParam<std::string> {};

void checkStep(const Fixture &f, const std::string &method) {
  ASSERT_NE(f.c.compiled, nullptr);
  const mtl_model &m = *f.c.compiled;
  ASSERT_NE(m.task_grad_step, nullptr);
  ASSERT_EQ(m.num_shared, 2); // trunk.0.weight, trunk.0.bias
  EXPECT_STREQ(m.shared[0].name, "trunk.0.weight");
  EXPECT_STREQ(m.shared[1].name, "trunk.0.bias");
  auto trainer = mtlrt::Trainer::create(&m, options(method, false));
  ASSERT_TRUE(trainer.ok()) << trainer.error();
  std::vector<float> before(trainer->params().begin(), trainer->params().end());

  // The step assembled here: task_grad_step with the run's weights times the
  // method's factors, then the shared gradient combined.
  RawStep raw(f, m);
  auto &[inputs, targets, batch, weights, hyper, losses, counts, grads, workspace, result] = raw;
  m.eval_step(&batch, &hyper, before.data(), workspace.data(), &result, nullptr);
  std::vector<float> f0 = factors(method, losses);
  // The unshared parameters' gradients with the run's weights: mgda(rep)
  // weighs only the shared parameters' (as MGDA-UB does).
  std::vector<float> ownGrads(size_t(m.grads_size));
  m.grad_step(&batch, &hyper, before.data(), workspace.data(), ownGrads.data(), &result, nullptr);
  if (method == "mgda(rep)") { // the min-norm weights of the representation's Gram matrix, times T
    ASSERT_NE(m.rep_grad_step, nullptr);
    std::vector<float> arena(size_t(m.grads_size));
    m.rep_grad_step(&batch, &hyper, before.data(), workspace.data(), arena.data(), &result,
                    nullptr);
    std::vector<double> repGram(arena.begin() + m.rep_gram_offset,
                                arena.begin() + m.rep_gram_offset + 4);
    const std::vector<double> alpha = mtlrt::balance::minNorm(repGram, 2);
    f0 = {float(2 * alpha[0]), float(2 * alpha[1])};
  }
  weights = {1.0f * f0[0], 0.5f * f0[1]};
  m.task_grad_step(&batch, &hyper, before.data(), workspace.data(), grads.data(), &result, nullptr);
  const float *blocks = grads.data() + m.params_size;
  std::vector<double> gram(4);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int64_t k = 0; k < m.shared_size; ++k)
        gram[size_t(i * 2 + j)] +=
            double(blocks[i * m.shared_size + k]) * double(blocks[j * m.shared_size + k]);
  EXPECT_GT(gram[0], 0);
  EXPECT_GT(gram[3], 0);
  const std::vector<double> c = coefficients(method, gram);
  std::vector<double> expected(before.begin(), before.end());
  for (int32_t p = 0; p < m.num_params; ++p) {
    const mtl_tensor_desc &d = m.params[p];
    for (int64_t i = 0; i < d.size; ++i) {
      bool shared = false;
      for (int32_t s = 0; s < m.num_shared; ++s)
        shared = shared || m.shared_params[s] == p;
      // The penalty's part, for shared ones (none without a penalty).
      double g = shared && !m.has_penalty ? 0.0 : grads[size_t(d.offset + i)];
      if (!shared && method == "mgda(rep)")
        g = ownGrads[size_t(d.offset + i)];
      for (int32_t s = 0; s < m.num_shared; ++s)
        if (m.shared_params[s] == p)
          for (int t = 0; t < 2; ++t)
            g += c[size_t(t)] * blocks[t * m.shared_size + m.shared[s].offset + i];
      expected[size_t(d.offset + i)] -= double(kLr) * g;
    }
  }

  std::vector<float> taskLosses(2);
  const float *rawInputs[] = {f.x.data()};
  ASSERT_TRUE(trainer->trainBatch(kRows, rawInputs, targets, taskLosses).ok());
  EXPECT_NEAR(taskLosses[0], losses[0], 1e-6);
  EXPECT_NEAR(taskLosses[1], losses[1], 1e-6);
  bool moved = false;
  for (int32_t p = 0; p < m.num_params; ++p) {
    const mtl_tensor_desc &d = m.params[p];
    for (int64_t i = 0; i < d.size; ++i) {
      const size_t k = size_t(d.offset + i);
      EXPECT_NEAR(trainer->params()[k], expected[k], 1e-5 + 1e-4 * std::fabs(expected[k]))
          << d.name << "[" << i << "]";
      moved = moved || trainer->params()[k] != before[k];
    }
  }
  EXPECT_TRUE(moved);
}

TEST_P(BalanceStep, IsTheTaskGradientsCombinedThenAnSgdStep) {
  for (bool penalty : {true, false}) {
    SCOPED_TRACE(penalty ? "with a penalty" : "without a penalty");
    Fixture f;
    f.compile(penalty);
    EXPECT_EQ(f.c.compiled ? f.c.compiled->has_penalty : -1, penalty ? 1 : 0);
    checkStep(f, GetParam());
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, BalanceStep,
                         ::testing::Values("static", "dwa", "rlw", "famo", "gradnorm", "pcgrad",
                                           "mgda", "mgda(rep)", "cagrad", "imtl", "aligned_mtl",
                                           "nash_mtl"));

TEST(BalanceStep, StaticIsTheSameWithTheGradientsSplit) {
  // gradStats makes static run task_grad_step and sum the blocks: the same
  // step as grad_step's, to float rounding.
  Fixture f;
  f.compile(true);
  ASSERT_NE(f.c.compiled, nullptr);
  std::vector<std::vector<float>> after;
  for (bool split : {false, true}) {
    auto trainer = mtlrt::Trainer::create(f.c.compiled, options("static", split));
    ASSERT_TRUE(trainer.ok()) << trainer.error();
    const float *inputs[] = {f.x.data()};
    const float *targets[] = {f.ya.data(), f.yb.data()};
    std::vector<float> losses(2);
    ASSERT_TRUE(trainer->trainBatch(kRows, inputs, targets, losses).ok());
    after.emplace_back(trainer->params().begin(), trainer->params().end());
  }
  for (size_t k = 0; k < after[0].size(); ++k)
    EXPECT_NEAR(after[0][k], after[1][k], 1e-6) << k;
}

TEST(BalanceStep, ATaskWithoutLabelsIsLeftOutOfTheCombination) {
  // A batch that labels only task a (as a batch of a's data set does when
  // the tasks have their own): the gradient methods combine a's gradient
  // alone, which is static's step. Before, b's zero gradient made MGDA's
  // minimum-norm point zero, and the shared parameters stood still. FAMO
  // gives a task alone its share of one task, 1 (it gave T = 2).
  Fixture f;
  f.compile(false);
  ASSERT_NE(f.c.compiled, nullptr);
  std::vector<float> none(f.yb.size(), NAN);
  auto stepWith = [&](const std::string &method) {
    auto trainer = mtlrt::Trainer::create(f.c.compiled, options(method, false));
    EXPECT_TRUE(trainer.ok()) << trainer.error();
    const float *inputs[] = {f.x.data()};
    const float *targets[] = {f.ya.data(), none.data()};
    std::vector<float> losses(2);
    EXPECT_TRUE(trainer->trainBatch(kRows, inputs, targets, losses).ok());
    return std::vector<float>(trainer->params().begin(), trainer->params().end());
  };
  const std::vector<float> before = [&] {
    auto trainer = mtlrt::Trainer::create(f.c.compiled, options("static", false));
    return std::vector<float>(trainer->params().begin(), trainer->params().end());
  }();
  const std::vector<float> reference = stepWith("static");
  const mtl_tensor_desc &shared = f.c.compiled->params[f.c.compiled->shared_params[0]];
  EXPECT_NE(reference[size_t(shared.offset)], before[size_t(shared.offset)]);
  for (const char *method :
       {"famo", "pcgrad", "mgda", "mgda(rep)", "cagrad", "imtl", "aligned_mtl", "nash_mtl"}) {
    const std::vector<float> after = stepWith(method);
    for (size_t k = 0; k < after.size(); ++k)
      EXPECT_NEAR(after[k], reference[k], 1e-6) << method << " [" << k << "]";
  }
}

TEST(BalanceStep, UncertaintyKeepsTheLogVarianceOfATaskWithoutLabels) {
  // A batch that labels no row of b: b's term (exp(-s) L + s) / 2 still had
  // the gradient 1/2 on s_b, which then drifted down on every such batch.
  const std::string path = ::testing::TempDir() + "balance_step_uncertainty.mtl";
  std::string text = kModel;
  text.insert(text.find("  optimizer"), "  balance uncertainty\n");
  std::ofstream(path) << text;
  driver::Compilation c;
  ASSERT_TRUE(driver::runPipeline(path, driver::Stage::Jit, c, {})) << c.diags.render(false);
  Fixture f;
  f.compile(true); // for its rows
  auto trainer = mtlrt::Trainer::create(c.compiled, options("uncertainty", false));
  ASSERT_TRUE(trainer.ok()) << trainer.error();
  auto logVar = [&](const std::string &task) {
    for (int32_t p = 0; p < c.compiled->num_params; ++p)
      if (c.compiled->params[p].name == "uncertainty." + task + ".log_var")
        return trainer->params()[size_t(c.compiled->params[p].offset)];
    ADD_FAILURE() << "no log-variance of " << task;
    return NAN;
  };
  const float a0 = logVar("a"), b0 = logVar("b");
  std::vector<float> none(f.yb.size(), NAN);
  const float *inputs[] = {f.x.data()};
  const float *targets[] = {f.ya.data(), none.data()};
  std::vector<float> losses(2);
  ASSERT_TRUE(trainer->trainBatch(kRows, inputs, targets, losses).ok());
  EXPECT_NE(logVar("a"), a0);
  EXPECT_EQ(logVar("b"), b0);
}

TEST(BalanceStep, ATaskOfWeightZeroIsLeftOutOfTheCombination) {
  // b's weight 0 makes its gradient zero: MGDA's minimum-norm point was that
  // zero, and the shared parameters stood still. The methods now combine
  // a's gradient alone, which is static's step with the same weights.
  Fixture f;
  f.compile(false);
  ASSERT_NE(f.c.compiled, nullptr);
  auto stepWith = [&](const std::string &method) {
    mtlrt::TrainOptions o = options(method, false);
    o.taskWeights = {{"b", 0.0}};
    auto trainer = mtlrt::Trainer::create(f.c.compiled, o);
    EXPECT_TRUE(trainer.ok()) << trainer.error();
    const float *inputs[] = {f.x.data()};
    const float *targets[] = {f.ya.data(), f.yb.data()};
    std::vector<float> losses(2);
    EXPECT_TRUE(trainer->trainBatch(kRows, inputs, targets, losses).ok());
    return std::vector<float>(trainer->params().begin(), trainer->params().end());
  };
  const std::vector<float> reference = stepWith("static");
  const mtl_tensor_desc &shared = f.c.compiled->params[f.c.compiled->shared_params[0]];
  for (const char *method : {"pcgrad", "mgda", "mgda(rep)", "cagrad", "imtl", "nash_mtl"}) {
    const std::vector<float> after = stepWith(method);
    for (int64_t k = 0; k < shared.size; ++k)
      EXPECT_NEAR(after[size_t(shared.offset + k)], reference[size_t(shared.offset + k)], 1e-6)
          << method << " [" << k << "]";
  }
}

TEST(BalanceStep, FrozenSharedTensorsAreLeftOutOfTheGramMatrix) {
  // With trunk.0.bias frozen, MGDA balances the directions on trunk.0.weight
  // alone, the part the update changes: its coefficients come from the Gram
  // matrix of the weight's part of each task block.
  Fixture f;
  f.compile(false);
  ASSERT_NE(f.c.compiled, nullptr);
  const mtl_model &m = *f.c.compiled;
  mtlrt::TrainOptions o = options("mgda", false);
  o.freeze = {"trunk.0.bias"};
  auto trainer = mtlrt::Trainer::create(&m, o);
  ASSERT_TRUE(trainer.ok()) << trainer.error();
  std::vector<float> before(trainer->params().begin(), trainer->params().end());

  RawStep raw(f, m);
  auto &[inputs, targets, batch, weights, hyper, losses, counts, grads, workspace, result] = raw;
  m.task_grad_step(&batch, &hyper, before.data(), workspace.data(), grads.data(), &result, nullptr);
  const float *blocks = grads.data() + m.params_size;
  auto gramOver = [&](int64_t size) {
    std::vector<double> gram(4);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j)
        for (int64_t k = 0; k < size; ++k)
          gram[size_t(i * 2 + j)] +=
              double(blocks[i * m.shared_size + k]) * double(blocks[j * m.shared_size + k]);
    return gram;
  };
  ASSERT_EQ(m.shared[0].offset, 0);
  const std::vector<double> c = mtlrt::balance::minNorm(gramOver(m.shared[0].size), 2);
  const std::vector<double> whole = mtlrt::balance::minNorm(gramOver(m.shared_size), 2);
  ASSERT_GT(std::fabs(c[0] - whole[0]), 1e-3); // the test tells the two apart

  const float *rawInputs[] = {f.x.data()};
  std::vector<float> taskLosses(2);
  ASSERT_TRUE(trainer->trainBatch(kRows, rawInputs, targets, taskLosses).ok());
  const mtl_tensor_desc &w = m.params[m.shared_params[0]], &b = m.params[m.shared_params[1]];
  for (int64_t i = 0; i < w.size; ++i) {
    double g = 0;
    for (int t = 0; t < 2; ++t)
      g += 2 * c[size_t(t)] * blocks[t * m.shared_size + m.shared[0].offset + i];
    const size_t k = size_t(w.offset + i);
    EXPECT_NEAR(trainer->params()[k], before[k] - double(kLr) * g, 1e-6)
        << "trunk.0.weight[" << i << "]";
  }
  for (int64_t i = 0; i < b.size; ++i)
    EXPECT_EQ(trainer->params()[size_t(b.offset + i)], before[size_t(b.offset + i)]);
}

TEST(BalanceStep, SemaAndRuntimeKnowTheSameMethods) {
  // sema (compiler/sema/Settings.cpp) and the runtime (balance/Method.cpp)
  // each list the methods: every runtime method must check in .mtl, give the
  // text the runtime prints, and agree on whether it needs task gradients.
  const std::string path = ::testing::TempDir() + "balance_names.mtl";
  for (const std::string &name : mtlrt::balance::methodNames()) {
    SCOPED_TRACE(name);
    std::string text = kModel;
    text.insert(text.find("  optimizer"), "  balance " + name + "\n");
    std::ofstream(path) << text;
    driver::Compilation c;
    ASSERT_TRUE(driver::runPipeline(path, driver::Stage::Check, c, {})) << c.diags.render(false);
    auto method = mtlrt::balance::parseMethod(name);
    ASSERT_TRUE(method.ok()) << method.error();
    EXPECT_EQ(c.models[0].balance.text, method->text());
    EXPECT_EQ(c.models[0].balance.combinesGradients(), method->combinesGradients());
  }
}

} // namespace balance_step
} // namespace mtl
