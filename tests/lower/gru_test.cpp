// gru_test.cpp: the gru layer's lowering: PyTorch's parameter names, shapes
// and initialisation, its output against a plain GRU written from
// torch.nn.GRU's formulas, and gradient checks through the unrolled steps.
#include "../autodiff/GradCheck.h"
#include "LowerText.h"
#include "lower/StepModel.h"

#include <cmath>
#include <map>

using namespace mtl;
using namespace mtl::ir;
using mtl::test::lowerText;

namespace {

/// One task that reads the last state of gru(HIDDEN) over `input`, through
/// a dense layer of the same width.
std::string gruModel(const std::string &input, int hidden) {
  return "model g {\n  input s : " + input + "\n  shared enc = s -> gru(" + std::to_string(hidden) +
         ")\n  task y : regress(" + std::to_string(hidden) + ") { head = enc -> dense(" +
         std::to_string(hidden) + ") }\n}\n";
}

double sigmoid(double v) { return 1 / (1 + std::exp(-v)); }

/// torch.nn.GRU(features, hidden, batch_first=True)'s last state for one
/// row `x` [steps, features], as its documentation writes the formulas.
std::vector<double> referenceGru(const std::vector<double> &x, int64_t steps, int64_t features,
                                 int64_t hidden, const std::vector<double> &wIh,
                                 const std::vector<double> &wHh, const std::vector<double> &bIh,
                                 const std::vector<double> &bHh) {
  std::vector<double> h(static_cast<size_t>(hidden), 0.0);
  for (int64_t t = 0; t < steps; ++t) {
    std::vector<double> gx(3 * hidden), gh(3 * hidden), next(hidden);
    for (int64_t o = 0; o < 3 * hidden; ++o) {
      gx[o] = bIh[o];
      gh[o] = bHh[o];
      for (int64_t i = 0; i < features; ++i)
        gx[o] += wIh[o * features + i] * x[t * features + i];
      for (int64_t i = 0; i < hidden; ++i)
        gh[o] += wHh[o * hidden + i] * h[i];
    }
    for (int64_t k = 0; k < hidden; ++k) {
      double r = sigmoid(gx[k] + gh[k]);
      double z = sigmoid(gx[hidden + k] + gh[hidden + k]);
      double n = std::tanh(gx[2 * hidden + k] + r * gh[2 * hidden + k]);
      next[k] = (1 - z) * n + z * h[k];
    }
    h = next;
  }
  return h;
}

/// A gradient-check case for a lowered step: random values for everything
/// but the task weights.
gradcheck::Case caseFor(const lower::LoweredStep &step, int64_t batch) {
  gradcheck::Case c;
  c.batch = batch;
  c.graph = step.graph;
  c.loss = step.signature.loss;
  for (ValueId w : step.signature.taskWeights)
    c.feeds[step.graph.op(w).name] = {1.0};
  return c;
}

} // namespace

TEST(Gru, ParametersHavePyTorchNamesShapesAndInitialisation) {
  std::optional<sema::Model> model = mtl::test::checkText(gruModel("f32[5, 3]", 4));
  ASSERT_TRUE(model);
  lower::LoweredStep step = lower::lowerModel(*model);
  ASSERT_TRUE(step.ok());
  const Graph &g = step.graph;
  lower::StepModel described = lower::describeStep(*model, g);
  std::map<std::string, std::pair<std::vector<int64_t>, lower::ParamInit>> params;
  for (size_t k = 0; k < g.params().size(); ++k) {
    const Op &op = g.op(g.params()[k]);
    params[op.name] = {op.type.dims, described.init[k]};
  }
  const std::map<std::string, std::vector<int64_t>> expected = {
      {"enc.0.weight_ih_l0", {12, 3}}, {"enc.0.weight_hh_l0", {12, 4}}, {"enc.0.bias_ih_l0", {12}},
      {"enc.0.bias_hh_l0", {12}},      {"y.0.weight", {4, 4}},          {"y.0.bias", {4}}};
  ASSERT_EQ(params.size(), expected.size());
  for (const auto &[name, dims] : expected) {
    ASSERT_TRUE(params.count(name)) << name;
    EXPECT_EQ(params[name].first, dims) << name;
    // nn.GRU draws all four from U(±1/sqrt(hidden)), not from their fan-in.
    EXPECT_EQ(params[name].second.kind, lower::ParamInit::Kind::Uniform) << name;
    EXPECT_DOUBLE_EQ(params[name].second.scale, 0.5) << name;
  }
}

TEST(Gru, LastStateMatchesTorchFormulas) {
  const int64_t steps = 5, features = 3, hidden = 4, rows = 3;
  std::optional<lower::LoweredStep> step = lowerText(gruModel("f32[5, 3]", hidden));
  ASSERT_TRUE(step);
  gradcheck::Case c = caseFor(*step, rows);
  // An identity head, so the output is the gru's last state.
  std::vector<double> eye(hidden * hidden, 0.0);
  for (int64_t k = 0; k < hidden; ++k)
    eye[k * hidden + k] = 1;
  c.feeds["y.0.weight"] = eye;
  c.feeds["y.0.bias"] = std::vector<double>(hidden, 0.0);
  gradcheck::fillRandom(c, 7);
  Execution ex = interpret(c.graph, c.feeds, {rows, false});
  ASSERT_TRUE(ex.ok()) << ex.error;
  const std::vector<double> &out = ex[step->signature.outputs[0]];
  ASSERT_EQ(out.size(), static_cast<size_t>(rows * hidden));
  const std::vector<double> &x = c.feeds["s"];
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> row(x.begin() + r * steps * features,
                            x.begin() + (r + 1) * steps * features);
    std::vector<double> want = referenceGru(
        row, steps, features, hidden, c.feeds["enc.0.weight_ih_l0"], c.feeds["enc.0.weight_hh_l0"],
        c.feeds["enc.0.bias_ih_l0"], c.feeds["enc.0.bias_hh_l0"]);
    for (int64_t k = 0; k < hidden; ++k)
      EXPECT_NEAR(out[r * hidden + k], want[k], 1e-12) << "row " << r << ", unit " << k;
  }
}

TEST(Gru, GradientsThroughTheSteps) {
  for (const char *input : {"f32[4, 2]", "f32[1, 3]"}) { // one step: weight_hh has gradient 0
    SCOPED_TRACE(input);
    std::optional<lower::LoweredStep> step = lowerText(gruModel(input, 3));
    ASSERT_TRUE(step);
    gradcheck::Case c = caseFor(*step, 2);
    EXPECT_LT(gradcheck::check(c), 1e-6);
  }
}

TEST(Gru, GradientsReachAnEmbeddingBelow) {
  std::optional<lower::LoweredStep> step = lowerText(R"(
model g {
  input ids : i32[3]
  shared enc = ids -> embedding(5, 2) -> gru(3)
  task y : regress { head = enc -> dense(1) }
}
)");
  ASSERT_TRUE(step);
  gradcheck::Case c = caseFor(*step, 2);
  c.feeds["ids"] = {4, 0, 2, 1, 4, 3};
  EXPECT_LT(gradcheck::check(c), 1e-6);
}
