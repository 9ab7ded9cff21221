// balance_loss_methods_test.cpp: the methods that change the loss rather than
// combine gradients, trained end to end: uncertainty weighting's learned
// variances (compiled into the loss), and that a model compiled with or
// without them trains only with the method it was compiled for.
#include "CompiledText.h"
#include "driver/Pipeline.h"
#include "mtlrt/Abi.h"
#include "mtlrt/Trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <string>

namespace mtl {
namespace balance_loss_methods {

// Both heads are linear in x, as the targets are: the best fit leaves each
// task exactly its noise.
constexpr const char *kModel = R"(
model uw {
  input x : f32[3]
  shared trunk = x -> dense(8)
  task a : regress { head = trunk -> dense(1) }
  task b : regress { head = trunk -> dense(1) }
  balance uncertainty
  optimizer adam(lr = 0.01)
}
)";

using Compiled = test::CompiledText;

/// y_a = x·u + σ_a ε, y_b = x·v + σ_b ε, ε ~ N(0, 1).
mtlrt::Dataset noisyTargets(int64_t rows, double sigmaA, double sigmaB) {
  mtlrt::Dataset d;
  d.name = "noisy";
  d.rows = rows;
  d.inputWidths = {3};
  d.targetWidths = {1, 1};
  d.inputs.resize(1);
  d.targets.resize(2);
  d.classNames.resize(2);
  d.standardizeInputs = {0};
  d.standardizeTargets = {0, 0};
  std::mt19937 rng(7);
  std::normal_distribution<double> n;
  const double u[] = {1, -2, 0.5}, v[] = {0.5, 1, 1};
  for (int64_t r = 0; r < rows; ++r) {
    double a = 0, b = 0;
    for (int k = 0; k < 3; ++k) {
      const double x = n(rng);
      d.inputs[0].write().push_back(float(x));
      a += u[k] * x;
      b += v[k] * x;
    }
    d.targets[0].push_back(float(a + sigmaA * n(rng)));
    d.targets[1].push_back(float(b + sigmaB * n(rng)));
    d.sourceRows.push_back(r);
  }
  return d;
}

float param(const mtlrt::Trainer &t, const mtl_model &m, const std::string &name) {
  for (int32_t p = 0; p < m.num_params; ++p)
    if (name == m.params[p].name)
      return t.params()[size_t(m.params[p].offset)];
  ADD_FAILURE() << "no parameter " << name;
  return NAN;
}

mtlrt::TrainOptions options(const std::string &balance) {
  mtlrt::TrainOptions o;
  o.seed = 3;
  o.threads = 1;
  o.batch = 64;
  o.epochs = 25;
  o.lr = 0.01f;
  o.quiet = true;
  o.balance = balance;
  return o;
}

TEST(Uncertainty, LearnedVariancesApproachTheTasksNoise) {
  // exp(-s) L / 2 + s / 2 is least at exp(s) = L; a fitted task's L is its
  // noise variance, so exp(s_t) -> σ_t²: 0.09 and 2.25 here, 25 times apart.
  Compiled compiled(kModel, "uw_noise");
  ASSERT_NE(compiled.c.compiled, nullptr);
  const mtl_model &m = *compiled.c.compiled;
  auto trainer = mtlrt::Trainer::create(&m, options("uncertainty"));
  ASSERT_TRUE(trainer.ok()) << trainer.error();
  EXPECT_EQ(param(*trainer, m, "uncertainty.a.log_var"), 0.0f); // σ² = 1 at the start
  EXPECT_EQ(param(*trainer, m, "uncertainty.b.log_var"), 0.0f);
  mtlrt::Dataset data = noisyTargets(4000, 0.3, 1.5);
  auto result = trainer->fit(data);
  ASSERT_TRUE(result.ok()) << result.error();
  const double varA = std::exp(param(*trainer, m, "uncertainty.a.log_var"));
  const double varB = std::exp(param(*trainer, m, "uncertainty.b.log_var"));
  EXPECT_NEAR(varA, 0.09, 0.09 * 0.2);
  EXPECT_NEAR(varB, 2.25, 2.25 * 0.2);
  // The epoch's effective weight on L_t is w_t exp(-s_t) / 2: about 1 / (2 σ_t²).
  const mtlrt::BalanceStats &stats = result->epochs.back().balance;
  ASSERT_EQ(stats.weights.size(), 2u);
  EXPECT_NEAR(stats.weights[0], 0.5 / 0.09, 0.5 / 0.09 * 0.25);
  EXPECT_NEAR(stats.weights[1], 0.5 / 2.25, 0.5 / 2.25 * 0.25);
}

TEST(Uncertainty, TrainsOnlyWithTheMethodItWasCompiledFor) {
  Compiled withLogVars(kModel, "uw_only");
  ASSERT_NE(withLogVars.c.compiled, nullptr);
  auto other = mtlrt::Trainer::create(withLogVars.c.compiled, options("static"));
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().find("compiled with balance 'uncertainty'"), std::string::npos)
      << other.error();

  std::string plain = kModel;
  plain.erase(plain.find("  balance"), plain.find("  optimizer") - plain.find("  balance"));
  Compiled without(plain, "uw_plain");
  ASSERT_NE(without.c.compiled, nullptr);
  for (int32_t p = 0; p < without.c.compiled->num_params; ++p)
    EXPECT_EQ(std::string(without.c.compiled->params[p].name).find("uncertainty."),
              std::string::npos);
  auto uw = mtlrt::Trainer::create(without.c.compiled, options("uncertainty"));
  ASSERT_FALSE(uw.ok());
  EXPECT_NE(uw.error().find("compiled without them"), std::string::npos) << uw.error();
}

TEST(Uncertainty, TheRunsMethodDecidesWhatIsCompiled) {
  // mtlc train --balance and :set balance pass the run's method to the
  // pipeline: uncertainty adds the log-variances to a static model, another
  // method takes them out of an uncertainty model.
  const std::string path = ::testing::TempDir() + "uw_override.mtl";
  std::ofstream(path) << kModel;
  auto logVars = [&](std::optional<std::string> balance) {
    driver::PipelineOptions o;
    o.balance = balance;
    driver::Compilation c;
    EXPECT_TRUE(driver::runPipeline(path, driver::Stage::Lower, c, o)) << c.diags.render(false);
    int n = 0;
    for (ir::ValueId p : c.step.graph.params())
      n += c.step.graph.op(p).name.ends_with(".log_var") ? 1 : 0;
    return n;
  };
  EXPECT_EQ(logVars(std::nullopt), 2);
  EXPECT_EQ(logVars("pcgrad"), 0);
  EXPECT_EQ(logVars("uncertainty"), 2);
}

} // namespace balance_loss_methods
} // namespace mtl
