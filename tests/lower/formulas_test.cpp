// formulas_test.cpp: every loss and penalty of a lowered step against a
// number worked out by hand.
//
// The other lowering tests compare the total with the interpreter's own task
// losses, and the JIT tests compare the JIT with the interpreter: a wrong
// formula in lowering passes both. Here each model is small enough that
// every expected value is derived in the comment beside it, from the
// formula's definition (PyTorch's, where the language follows PyTorch).
#include "../autodiff/GradCheck.h"
#include "LowerText.h"
#include "ir/Interpreter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <set>

using namespace mtl;
using namespace mtl::ir;
using mtl::test::lowerText;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The names of the step's parameters, so a test states exactly what it feeds.
std::set<std::string> paramNames(const lower::LoweredStep &step) {
  std::set<std::string> names;
  for (ValueId p : step.graph.params())
    names.insert(step.graph.op(p).name);
  return names;
}

/// Runs the step on `rows` rows (no dropout); task weights default to 1.
Execution run(const lower::LoweredStep &step, Feeds feeds, int64_t rows) {
  for (ValueId w : step.signature.taskWeights)
    feeds.try_emplace(step.graph.op(w).name, std::vector<double>{1.0});
  if (step.signature.step >= 0)
    feeds[step.graph.op(step.signature.step).name] = {1};
  return interpret(step.graph, feeds, {rows, false});
}

} // namespace

TEST(Formulas, RegressionLossesAreMeansOverLabelledRowsAndOutputs) {
  std::optional<lower::LoweredStep> step = lowerText(R"(
model r {
  input x : f32[2]
  task a : regress(2) {
    head = x -> dense(2)
    loss = mse
  }
  task b : regress(2) {
    head = x -> dense(2)
    loss = mae
  }
  task c : regress(2) {
    head = x -> dense(2)
    loss = huber(0.5)
  }
}
)");
  ASSERT_TRUE(step);
  EXPECT_EQ(paramNames(*step), (std::set<std::string>{"a.0.weight", "a.0.bias", "b.0.weight",
                                                      "b.0.bias", "c.0.weight", "c.0.bias"}));
  // Identity heads: every output is its input. Row 3 has no labels.
  Feeds f;
  f["x"] = {1, 2, 3, -1, 0.5, 0.5};
  for (const char *t : {"a", "b", "c"}) {
    f[std::string(t) + ".0.weight"] = {1, 0, 0, 1};
    f[std::string(t) + ".0.bias"] = {0, 0};
    f[std::string("target.") + t] = {0, 2.25, 1, 1, kNaN, kNaN};
  }
  f["weight.b"] = {2};
  f["weight.c"] = {0.5};
  Execution ex = run(*step, f, 3);
  ASSERT_TRUE(ex.ok()) << ex.error;
  const StepSignature &sig = step->signature;
  // Errors over the 4 labelled outputs: 1, -0.25, 2, -2.
  // mse = (1 + 0.0625 + 4 + 4) / 4.
  EXPECT_DOUBLE_EQ(ex[sig.taskLosses[0]][0], 9.0625 / 4);
  // mae = (1 + 0.25 + 2 + 2) / 4.
  EXPECT_DOUBLE_EQ(ex[sig.taskLosses[1]][0], 5.25 / 4);
  // huber(δ = 0.5), as torch.nn.HuberLoss: 0.5 d² for |d| < δ, else δ (|d| - δ/2):
  // 0.5 (1 - 0.25) + 0.5 · 0.0625 + 0.5 (2 - 0.25) + 0.5 (2 - 0.25) = 2.15625, over 4.
  EXPECT_DOUBLE_EQ(ex[sig.taskLosses[2]][0], 2.15625 / 4);
  // Σ w_t L_t with weights 1, 2, 0.5; no penalty.
  EXPECT_DOUBLE_EQ(ex[sig.loss][0], 9.0625 / 4 + 2 * 5.25 / 4 + 0.5 * 2.15625 / 4);
  EXPECT_EQ(sig.penalty, -1);
}

TEST(Formulas, ValuesThatCombine) {
  // Identity-free heads would hide the combination: each head is one dense
  // layer whose weights the test sets, so each output is a known sum.
  std::optional<lower::LoweredStep> step = lowerText(R"(
model c {
  input x : f32[2]
  input y : f32[1]
  shared g = x -> softmax
  task cat : regress { head = concat(x, y, 3 * y) -> dense(1) }
  task ops : regress(2) { head = (x + x * x) - x / 2 -> dense(2) }
  task mixed : regress(2) { head = mix(g, x, -x) -> dense(2) }
}
)");
  ASSERT_TRUE(step);
  Feeds f;
  f["x"] = {1, 2};
  f["y"] = {4};
  f["cat.0.weight"] = {1, 10, 100, 1000}; // reads the 4 columns apart
  f["cat.0.bias"] = {0};
  for (const char *t : {"ops", "mixed"}) {
    f[std::string(t) + ".0.weight"] = {1, 0, 0, 1}; // identity
    f[std::string(t) + ".0.bias"] = {0, 0};
  }
  f["target.cat"] = {0};
  f["target.ops"] = {0, 0};
  f["target.mixed"] = {0, 0};
  Execution ex = run(*step, f, 1);
  ASSERT_TRUE(ex.ok()) << ex.error;
  const StepSignature &sig = step->signature;
  // concat(x, y, 3y) = [1, 2, 4, 12]: 1 + 20 + 400 + 12000.
  EXPECT_DOUBLE_EQ(ex[sig.outputs[0]][0], 12421);
  // (x + x²) - x/2 = [1 + 1 - 0.5, 2 + 4 - 1] = [1.5, 5].
  EXPECT_EQ(ex[sig.outputs[1]], (std::vector<double>{1.5, 5}));
  // g = softmax([1, 2]) = [1, e] / (1 + e); mix = g0 x + g1 (-x) = (g0 - g1) x.
  const double g0 = 1 / (1 + std::exp(1.0)), g1 = 1 - g0;
  EXPECT_NEAR(ex[sig.outputs[2]][0], (g0 - g1) * 1, 1e-15);
  EXPECT_NEAR(ex[sig.outputs[2]][1], (g0 - g1) * 2, 1e-15);
}

TEST(Formulas, MixGradientsByCentralDifferences) {
  std::optional<lower::LoweredStep> step = lowerText(R"(
model m {
  input x : f32[4]
  shared e1 = x -> dense(3)
  shared e2 = x -> dense(3) -> tanh
  shared g = x -> dense(2) -> softmax
  task a : classify(3) { head = mix(g, e1, e2) }
}
)");
  ASSERT_TRUE(step);
  gradcheck::Case c;
  c.batch = 4;
  c.graph = step->graph;
  c.loss = step->signature.loss;
  c.feeds["weight.a"] = {1};
  c.feeds["target.a"] = {0, 2, 1, 2};
  EXPECT_LT(gradcheck::check(c), 1e-6);
}

TEST(Formulas, EachMixGateIsAProbeOfTheTaskThatReadsIt) {
  std::optional<lower::LoweredStep> step = lowerText(R"(
model gates {
  input x : f32[5]
  shared e1 = x -> dense(3) -> relu
  shared e2 = x -> dense(3) -> gelu
  shared g = x -> softmax -> dense(2) -> softmax
  shared gh = x -> dense(2) -> sigmoid
  shared both = mix(gh, e1, e2)
  task a : regress(3) { head = mix(g, e1, e2) }
  task b : regress(3) { head = mix(g, e2, e1) + both }
  task c : regress(3) { head = both }
}
)");
  ASSERT_TRUE(step);
  const std::vector<GateProbe> &gates = step->signature.gates;
  ASSERT_EQ(gates.size(), 3u);
  // One probe per mix: the same gate in two tasks' heads is two, named apart.
  EXPECT_EQ(gates[0].name, "g.a");
  EXPECT_EQ(gates[0].task, 0);
  EXPECT_EQ(gates[0].experts, (std::vector<std::string>{"e1", "e2"}));
  EXPECT_EQ(gates[1].name, "g.b");
  EXPECT_EQ(gates[1].task, 1);
  EXPECT_EQ(gates[1].experts, (std::vector<std::string>{"e2", "e1"}));
  EXPECT_EQ(gates[2].name, "gh");
  EXPECT_EQ(gates[2].task, -1) << "b and c both read the shared mix";
  for (const GateProbe &gate : gates) {
    EXPECT_EQ(step->graph.type(gate.gate).rowElements(), 2) << gate.name;
    EXPECT_TRUE(step->graph.type(gate.gate).batched) << gate.name;
  }
  EXPECT_NE(gates[0].gate, gates[2].gate);
}

TEST(Formulas, ClassificationLossesTakeLogitsLikePyTorch) {
  std::optional<lower::LoweredStep> step = lowerText(R"(
model k {
  input x : f32[3]
  task s : classify(3) {
    head = x -> dense(3)
  }
  task f : binary {
    head = x -> dense(1)
  }
  task m : multilabel(2) {
    head = x -> dense(2)
  }
}
)");
  ASSERT_TRUE(step);
  // Heads pick inputs: s's logits are x, f's is x0, m's are x0 and x1.
  Feeds f;
  f["x"] = {0, 0, 0, 0, std::log(2.0), std::log(5.0), std::log(3.0), 0, 1};
  f["s.0.weight"] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  f["s.0.bias"] = {0, 0, 0};
  f["f.0.weight"] = {1, 0, 0};
  f["f.0.bias"] = {0};
  f["m.0.weight"] = {1, 0, 0, 0, 1, 0};
  f["m.0.bias"] = {0, 0};
  f["target.s"] = {1, 2, kNaN};
  f["target.f"] = {0, kNaN, 1};
  f["target.m"] = {1, 0, 0, 1, kNaN, kNaN};
  Execution ex = run(*step, f, 3);
  ASSERT_TRUE(ex.ok()) << ex.error;
  const StepSignature &sig = step->signature;
  // cross_entropy = -log softmax(z)[y]. Row 1: logits 0 0 0, -log(1/3) = log 3.
  // Row 2: softmax of (0, log 2, log 5) is (1, 2, 5) / 8, -log(5/8) = log 1.6.
  EXPECT_NEAR(ex[sig.taskLosses[0]][0], (std::log(3.0) + std::log(1.6)) / 2, 1e-15);
  // bce on a logit z: -(y log σ(z) + (1 - y) log(1 - σ(z))). Row 1: z = 0, y = 0:
  // log 2. Row 3: z = log 3, σ = 3/4, y = 1: log(4/3).
  EXPECT_NEAR(ex[sig.taskLosses[1]][0], (std::log(2.0) + std::log(4.0 / 3)) / 2, 1e-15);
  // Multilabel bce, a mean over labelled rows and outputs. Row 1: z = (0, 0):
  // log 2 twice. Row 2: z = (0, log 2), y = (0, 1): log 2, and σ = 2/3 gives
  // log(3/2). Sum log(2³ · 3/2) = log 12, over 4.
  EXPECT_NEAR(ex[sig.taskLosses[2]][0], std::log(12.0) / 4, 1e-15);
}

TEST(Formulas, L1AndL2PenaltiesOverTheNamedParameters) {
  std::optional<lower::LoweredStep> step = lowerText(R"(
model p {
  input x : f32[2]
  shared trunk = x -> dense(2)
  task a : regress {
    head = trunk -> dense(1)
  }
  regularize l2(0.1) on trunk
  regularize l1(0.01)
}
)");
  ASSERT_TRUE(step);
  EXPECT_EQ(paramNames(*step),
            (std::set<std::string>{"trunk.0.weight", "trunk.0.bias", "a.0.weight", "a.0.bias"}));
  Feeds f;
  f["x"] = {0, 0};
  f["trunk.0.weight"] = {1, -2, 0.5, 0};
  f["trunk.0.bias"] = {1, 0};
  f["a.0.weight"] = {3, -1};
  f["a.0.bias"] = {0.5};
  // The trunk gives its bias (1, 0); the head 3 · 1 - 1 · 0 + 0.5 = 3.5: no error.
  f["target.a"] = {3.5};
  Execution ex = run(*step, f, 1);
  ASSERT_TRUE(ex.ok()) << ex.error;
  const StepSignature &sig = step->signature;
  EXPECT_DOUBLE_EQ(ex[sig.taskLosses[0]][0], 0);
  // l2 on the trunk: 0.1 (1 + 4 + 0.25 + 0 + 1 + 0) = 0.625.
  // l1 on everything: 0.01 (1 + 2 + 0.5 + 0 + 1 + 0 + 3 + 1 + 0.5) = 0.09.
  ASSERT_GE(sig.penalty, 0);
  EXPECT_NEAR(ex[sig.penalty][0], 0.715, 1e-15);
  EXPECT_NEAR(ex[sig.loss][0], 0.715, 1e-15);
}

TEST(Formulas, SoftSharingPullsCopiesTowardsTheirMean) {
  std::optional<lower::LoweredStep> step = lowerText(R"(
model s {
  input x : f32[1]
  shared soft(0.5) t = x -> dense(1)
  task a : regress {
    head = t -> dense(1)
  }
  task b : regress {
    head = t -> dense(1)
  }
}
)");
  ASSERT_TRUE(step);
  EXPECT_EQ(paramNames(*step),
            (std::set<std::string>{"t.a.0.weight", "t.a.0.bias", "t.b.0.weight", "t.b.0.bias",
                                   "a.0.weight", "a.0.bias", "b.0.weight", "b.0.bias"}));
  Feeds f;
  f["x"] = {0};
  f["t.a.0.weight"] = {1};
  f["t.a.0.bias"] = {0};
  f["t.b.0.weight"] = {3};
  f["t.b.0.bias"] = {2};
  for (const char *t : {"a", "b"}) {
    f[std::string(t) + ".0.weight"] = {1};
    f[std::string(t) + ".0.bias"] = {0};
  }
  // On x = 0 each copy gives its bias, and each head passes it on: 0 and 2.
  f["target.a"] = {0};
  f["target.b"] = {2};
  Execution ex = run(*step, f, 1);
  ASSERT_TRUE(ex.ok()) << ex.error;
  const StepSignature &sig = step->signature;
  // λ Σ_t ||θ_t - θ_mean||²: the mean weight is 2 and the mean bias 1, so
  // 0.5 ((1 - 2)² + (3 - 2)² + (0 - 1)² + (2 - 1)²) = 2.
  ASSERT_GE(sig.penalty, 0);
  EXPECT_DOUBLE_EQ(ex[sig.penalty][0], 2);
  EXPECT_DOUBLE_EQ(ex[sig.loss][0], 2);
}
