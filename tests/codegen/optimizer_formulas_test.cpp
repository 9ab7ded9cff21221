// optimizer_formulas_test.cpp: three generated training steps of each
// optimizer against PyTorch's update rules, written out here in doubles.
//
// The model is one linear unit with MSE, so its gradient is known in closed
// form and the reference needs neither the interpreter nor autodiff: on rows
// (x_i, y_i), i < N, with e_i = w x_i + b - y_i and L = (1/N) Σ e_i²,
//   dL/dw = (2/N) Σ e_i x_i,   dL/db = (2/N) Σ e_i.
// Three steps reach momentum's buffer and Adam's bias corrections beyond
// their first-step shortcuts (Adam's first step is lr · sign(g)). Learning-rate
// scales per tensor (mtl_hyper.lr_scales) multiply lr, and a scale of 0
// leaves the tensor and its optimizer state untouched (a frozen tensor).
#include "CompiledText.h"
#include "mtlrt/Abi.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>

namespace mtl {
namespace optimizer_formulas {

constexpr const char *kModel = R"(
model unit {
  input x : f32[1]
  task y : regress {
    head = x -> dense(1)
  }
}
)";

constexpr std::array<float, 3> kX = {1, 2, -0.5f}, kY = {1, -1, 0.25f};
constexpr int kSteps = 3;
constexpr double kLr = 0.1;

/// PyTorch's rules: SGD (buf = μ buf + g; p -= lr buf), Adam and AdamW
/// (m = β1 m + (1 - β1) g; v = β2 v + (1 - β2) g²; p -= lr m̂ / (√v̂ + ε) with
/// m̂ = m / (1 - β1^t), v̂ = v / (1 - β2^t); AdamW first scales p by 1 - lr·wd).
struct Reference {
  sema::Optimizer opt;
  std::array<float, 2> scale{1, 1}; ///< per tensor: weight, bias
  std::array<double, 2> p{0.5, -0.25}, m{}, v{};
  std::array<bool, 2> started{}; ///< whether the tensor has taken a step (momentum's first)

  void step(int t) {
    std::array<double, 2> g{};
    for (size_t i = 0; i < kX.size(); ++i) {
      double e = p[0] * kX[i] + p[1] - kY[i];
      g[0] += 2.0 / kX.size() * e * kX[i];
      g[1] += 2.0 / kX.size() * e;
    }
    for (size_t k = 0; k < 2; ++k) {
      if (scale[k] == 0)
        continue; // frozen: no step, no state
      const double lr = double(float(kLr) * scale[k]);
      if (opt.kind == sema::OptimizerKind::Sgd) {
        m[k] = !started[k] ? g[k] : opt.momentum * m[k] + g[k];
        started[k] = true;
        p[k] -= lr * m[k];
        continue;
      }
      if (opt.kind == sema::OptimizerKind::AdamW)
        p[k] *= 1 - lr * opt.weightDecay;
      m[k] = opt.beta1 * m[k] + (1 - opt.beta1) * g[k];
      v[k] = opt.beta2 * v[k] + (1 - opt.beta2) * g[k] * g[k];
      double mhat = m[k] / (1 - std::pow(opt.beta1, t));
      double vhat = v[k] / (1 - std::pow(opt.beta2, t));
      p[k] -= lr * mhat / (std::sqrt(vhat) + opt.eps);
    }
  }
};

/// Compiles the model with `opt`, runs kSteps train steps on the rows at
/// learning-rate scales `scales` (null: none given) and compares weight and
/// bias after each with the reference.
void checkOptimizer(const sema::Optimizer &opt, const std::array<float, 2> *scales = nullptr) {
  driver::PipelineOptions options;
  options.adjust = [&](sema::Model &model) { model.optimizer = opt; };
  test::CompiledText compiled(kModel, "optimizer_formulas", options);
  ASSERT_NE(compiled.c.compiled, nullptr);
  const mtl_model &m = *compiled.c.compiled;
  ASSERT_EQ(m.num_params, 2);
  ASSERT_STREQ(m.params[0].name, "y.0.weight");
  ASSERT_STREQ(m.params[1].name, "y.0.bias");

  Reference ref{opt};
  if (scales)
    ref.scale = *scales;
  std::vector<float> params(size_t(m.params_size)), state(size_t(m.state_size), 0.0f);
  std::vector<float> grads(size_t(m.grads_size));
  params[size_t(m.params[0].offset)] = float(ref.p[0]);
  params[size_t(m.params[1].offset)] = float(ref.p[1]);
  const auto rows = int64_t(kX.size());
  std::vector<float> workspace(size_t(m.workspace_fixed + rows * m.workspace_per_row));
  const void *inputs[] = {kX.data()};
  const float *targets[] = {kY.data()};
  float weight = 1, taskLoss = 0, count = 0;
  mtl_batch batch{rows, inputs, targets};
  for (int t = 1; t <= kSteps; ++t) {
    mtl_hyper hyper{float(kLr), &weight, t, 0, scales ? scales->data() : nullptr};
    mtl_result result{0, &taskLoss, &count, nullptr, 0, 0, nullptr, 0};
    m.grad_step(&batch, &hyper, params.data(), workspace.data(), grads.data(), &result, nullptr);
    m.update(&hyper, params.data(), state.data(), grads.data(), &result, nullptr);
    ASSERT_EQ(result.skipped, 0);
    ref.step(t);
    EXPECT_NEAR(params[size_t(m.params[0].offset)], ref.p[0], 1e-5) << "weight after step " << t;
    EXPECT_NEAR(params[size_t(m.params[1].offset)], ref.p[1], 1e-5) << "bias after step " << t;
  }
  // A frozen tensor keeps its value exactly, and its optimizer state stays 0.
  for (int k = 0; k < 2 && scales; ++k) {
    if ((*scales)[size_t(k)] != 0)
      continue;
    EXPECT_EQ(params[size_t(m.params[k].offset)], float(ref.p[size_t(k)]));
    int slots = 0;
    for (int32_t s = 0; s < m.num_state; ++s)
      if (std::string(m.state[s].name).rfind(std::string(m.params[k].name) + ".", 0) == 0) {
        EXPECT_EQ(state[size_t(m.state[s].offset)], 0.0f) << m.state[s].name;
        ++slots;
      }
    EXPECT_EQ(slots, opt.kind == sema::OptimizerKind::Sgd ? 1 : 2) << m.params[k].name;
  }
}

sema::Optimizer optimizer(sema::OptimizerKind kind) {
  sema::Optimizer o;
  o.kind = kind;
  o.lr = kLr;
  return o;
}

TEST(OptimizerFormulas, Sgd) { checkOptimizer(optimizer(sema::OptimizerKind::Sgd)); }

TEST(OptimizerFormulas, SgdWithMomentum) {
  sema::Optimizer o = optimizer(sema::OptimizerKind::Sgd);
  o.momentum = 0.9;
  checkOptimizer(o);
}

TEST(OptimizerFormulas, Adam) {
  sema::Optimizer o = optimizer(sema::OptimizerKind::Adam);
  o.beta1 = 0.8;
  o.beta2 = 0.9; // far from 1, so the bias corrections matter at every step
  checkOptimizer(o);
}

TEST(OptimizerFormulas, AdamW) {
  sema::Optimizer o = optimizer(sema::OptimizerKind::AdamW);
  o.beta1 = 0.8;
  o.beta2 = 0.9;
  o.weightDecay = 0.5;
  checkOptimizer(o);
}

TEST(OptimizerFormulas, SgdWithMomentumAtScaledRates) {
  sema::Optimizer o = optimizer(sema::OptimizerKind::Sgd);
  o.momentum = 0.9;
  const std::array<float, 2> scales{0.25f, 0};
  checkOptimizer(o, &scales);
}

TEST(OptimizerFormulas, AdamWAtScaledRates) {
  sema::Optimizer o = optimizer(sema::OptimizerKind::AdamW);
  o.beta1 = 0.8;
  o.beta2 = 0.9;
  o.weightDecay = 0.5;
  const std::array<float, 2> scales{0, 3};
  checkOptimizer(o, &scales);
}

} // namespace optimizer_formulas
} // namespace mtl
