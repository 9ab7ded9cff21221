// autodiff_test.cpp: the structure of the gradient graph: fan-out sums, only
// needed work, locations, named results, and errors as values.
#include "GradCheck.h"
#include "autodiff/Step.h"
#include "ir/Verifier.h"

#include <fmt/format.h>

using namespace mtl;
using namespace mtl::ir;

namespace {

/// A shared trunk read by two heads; the loss is w1 L1 + w2 L2 (either term
/// left out when its weight is 0).
ValueId buildTwoHeads(Graph &g, double w1, double w2) {
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({3}));
  ValueId h = b.unary(OpKind::Tanh,
                      b.linear(x, b.param("trunk.0.weight", {4, 3}), b.param("trunk.0.bias", {4})));
  ValueId y1 = b.input("y1", TensorType::batch({1}));
  ValueId y2 = b.input("y2", TensorType::batch({1}));
  ValueId l1 = b.loss(LossKind::Mse, b.linear(h, b.param("a.0.weight", {1, 4})), y1);
  ValueId l2 = b.loss(LossKind::BceLogits, b.linear(h, b.param("b.0.weight", {1, 4})), y2);
  if (w2 == 0)
    return b.scale(l1, w1);
  if (w1 == 0)
    return b.scale(l2, w2);
  return b.add(b.scale(l1, w1), b.scale(l2, w2));
}

std::vector<double> trunkGradient(double w1, double w2, const Feeds &feeds) {
  Graph g;
  ValueId loss = buildTwoHeads(g, w1, w2);
  autodiff::Gradients grads = autodiff::differentiate(g, loss);
  EXPECT_TRUE(grads.ok());
  Execution ex = interpret(g, feeds, {4, false});
  EXPECT_TRUE(ex.ok()) << ex.error;
  return ex.ok() ? ex[*g.result("grad.trunk.0.weight")] : std::vector<double>{};
}

} // namespace

TEST(Autodiff, FanOutSumsWeightedTaskGradients) {
  gradcheck::Case c;
  c.batch = 4;
  c.loss = buildTwoHeads(c.graph, 1.0, 0.5);
  c.feeds["y2"] = {1, 0, 0, 1};
  EXPECT_LT(gradcheck::check(c), 1e-6);
  std::vector<double> both = trunkGradient(1.0, 0.5, c.feeds);
  std::vector<double> only1 = trunkGradient(1.0, 0, c.feeds);
  std::vector<double> only2 = trunkGradient(0, 0.5, c.feeds);
  ASSERT_EQ(both.size(), 12u);
  for (size_t i = 0; i < both.size(); ++i)
    EXPECT_NEAR(both[i], only1[i] + only2[i], 1e-14);
}

TEST(Autodiff, BuildsOnlyNeededGradients) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({2}));
  ValueId w = b.param("w", {2, 2});
  ValueId unused = b.param("unused", {2});
  b.unary(OpKind::Tanh, unused);              // never reaches the loss
  ValueId dataOnly = b.unary(OpKind::Exp, x); // reaches the loss, no parameter
  ValueId loss = b.reduceSum(b.add(b.linear(x, w), dataOnly));
  size_t forwardOps = g.size();
  autodiff::Gradients grads = autodiff::differentiate(g, loss);
  ASSERT_TRUE(grads.ok());
  EXPECT_TRUE(grads.of(w).has_value());
  EXPECT_FALSE(grads.of(unused).has_value());
  EXPECT_FALSE(g.result("grad.unused").has_value());
  for (size_t i = forwardOps; i < g.size(); ++i)
    for (ValueId o : g.ops()[i].operands)
      EXPECT_NE(o, dataOnly) << "the parameter-free branch got an adjoint";
  EXPECT_TRUE(verify(g).empty());
}

TEST(Autodiff, BackwardOpsKeepSourceLocationsAndNames) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({2}));
  b.setLoc({0, 9, 18, 5});
  ValueId w = b.param("trunk.0.weight", {3, 2});
  ValueId h = b.linear(x, w, b.param("trunk.0.bias", {3}));
  b.setLoc({0, 12, 3, 4});
  ValueId loss = b.reduceMean(b.unary(OpKind::Relu, h));
  size_t forwardOps = g.size();
  autodiff::Gradients grads = autodiff::differentiate(g, loss);
  ASSERT_TRUE(grads.ok());
  ASSERT_EQ(grads.params.size(), 2u);
  EXPECT_EQ(grads.params[0].first, w); // parameter definition order
  EXPECT_EQ(*g.result("grad.trunk.0.bias"), grads.params[1].second);
  bool sawLinearLoc = false;
  for (size_t i = forwardOps; i < g.size(); ++i) {
    EXPECT_TRUE(g.ops()[i].loc.valid());
    sawLinearLoc |= g.ops()[i].kind == OpKind::MatMulTN && g.ops()[i].loc.line == 9;
  }
  EXPECT_TRUE(sawLinearLoc);
  EXPECT_EQ(g.type(*g.result("grad.trunk.0.weight")), TensorType::fixed({3, 2}));
}

TEST(Autodiff, ErrorsAreValues) {
  {
    Graph g;
    Builder b(g);
    ValueId x = b.input("x", TensorType::batch({2}));
    ValueId h = b.linear(x, b.param("w", {3, 2}));
    autodiff::Gradients r = autodiff::differentiate(g, h);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.errors[0].message.find("not an f32 scalar"), std::string::npos);
    r = autodiff::differentiate(g, b.reduceSum(h), {x});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.errors[0].message.find("is not a parameter"), std::string::npos);
  }
  // Every kind the registry marks not differentiable: a second derivative.
  for (OpKind kind : {OpKind::SoftmaxGrad, OpKind::LogSoftmaxGrad, OpKind::LayerNormGrad}) {
    Graph g;
    Builder b(g);
    ValueId w = b.param("w", {2, 3});
    ValueId d = b.create(kind, {w, w}, {});
    autodiff::Gradients r = autodiff::differentiate(g, b.reduceSum(d));
    ASSERT_FALSE(r.ok()) << ir::opName(kind);
    EXPECT_EQ(r.errors[0].message, fmt::format("cannot differentiate '{}': second derivatives "
                                               "are not supported",
                                               ir::opName(kind)));
  }
  {
    Graph g;
    Builder b(g);
    b.setLoc({0, 4, 2, 1});
    ValueId d = b.unary(OpKind::GeluDeriv, b.param("w", {2}));
    autodiff::Gradients r = autodiff::differentiate(g, b.reduceSum(d));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.errors[0].message.find("second derivatives"), std::string::npos);
    EXPECT_EQ(r.errors[0].loc.line, 4);
  }
  {
    // An activation is fused after autodiff (passes/Activations.h), never before.
    Graph g;
    Builder b(g);
    ValueId y = b.linear(b.input("x", TensorType::batch({2})), b.param("w", {3, 2}));
    g.op(y).attrs.activation = Activation::Relu;
    autodiff::Gradients r = autodiff::differentiate(g, b.reduceSum(y));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.errors[0].message.find("with an activation"), std::string::npos);
  }
  {
    Graph g;
    Builder b(g);
    ValueId bad = b.linear(b.input("x", TensorType::batch({2})), b.param("w", {3, 3}));
    autodiff::Gradients r = autodiff::differentiate(g, b.reduceSum(bad));
    EXPECT_FALSE(r.ok()); // the verifier's diagnostics come back
  }
}

TEST(Autodiff, ReluGradientReadsTheReluOutput) {
  // step(y) equals step(x) bit for bit and lets passes/Activations.cpp fuse
  // the relu into the op before it: that op's value is then never needed.
  Graph g;
  Builder b(g);
  ValueId h = b.linear(b.input("x", TensorType::batch({2})), b.param("w", {3, 2}));
  ValueId y = b.unary(OpKind::Relu, h);
  ASSERT_TRUE(autodiff::differentiate(g, b.reduceSum(y)).ok());
  int steps = 0;
  for (const Op &op : g.ops())
    if (op.kind == OpKind::Step) {
      ++steps;
      EXPECT_EQ(op.operands[0], y);
    }
  EXPECT_EQ(steps, 1);
}

TEST(Autodiff, WeightsReceiveWithRespectToSubset) {
  Graph g;
  Builder b(g);
  ValueId w1 = b.param("w1", {2});
  ValueId w2 = b.param("w2", {2});
  ValueId loss = b.reduceSum(b.mul(w1, w2));
  autodiff::Gradients r = autodiff::differentiate(g, loss, {w2});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.of(w1).has_value());
  ASSERT_TRUE(r.of(w2).has_value());
  Execution ex = interpret(g, {{"w1", {3, 4}}, {"w2", {5, 6}}}, {1, false});
  ASSERT_TRUE(ex.ok());
  EXPECT_EQ(ex[*r.of(w2)], (std::vector<double>{3, 4}));
}

TEST(Autodiff, StepGivesEveryParameterAGradient) {
  Graph g;
  Builder b(g);
  ValueId w = b.param("w", {2});
  ValueId idle = b.param("idle", {3}); // no path to the loss
  StepSignature sig;
  sig.loss = b.reduceSum(b.unary(OpKind::Square, w));
  ASSERT_TRUE(autodiff::differentiateStep(g, sig, false).empty());
  ASSERT_EQ(sig.gradients.size(), 2u);
  EXPECT_EQ(sig.gradients[1].first, idle);
  EXPECT_EQ(g.type(sig.gradients[1].second), TensorType::fixed({3}));
  Execution ex = interpret(g, {{"w", {1, -2}}, {"idle", {5, 6, 7}}}, {1, false});
  ASSERT_TRUE(ex.ok()) << ex.error;
  EXPECT_EQ(ex[sig.gradients[0].second], (std::vector<double>{2, -4}));
  EXPECT_EQ(ex[sig.gradients[1].second], (std::vector<double>{0, 0, 0}));
  EXPECT_TRUE(verify(g).empty());
}

TEST(Autodiff, F32RoundedGradientsAgreeWithF64) {
  // The interpreter's f32 mode (values rounded to float after each op) stays
  // within 1e-3 relative of the double-precision gradients.
  gradcheck::Case c;
  c.batch = 4;
  c.loss = buildTwoHeads(c.graph, 1.0, 0.5);
  c.feeds["y2"] = {1, 0, 0, 1};
  gradcheck::fillRandom(c);
  autodiff::Gradients grads = autodiff::differentiate(c.graph, c.loss);
  ASSERT_TRUE(grads.ok());
  Execution f64 = interpret(c.graph, c.feeds, {4, false});
  Execution f32 = interpret(c.graph, c.feeds, {4, true});
  ASSERT_TRUE(f64.ok() && f32.ok());
  for (auto [param, grad] : grads.params)
    for (size_t i = 0; i < f64[grad].size(); ++i) {
      double a = f64[grad][i], b = f32[grad][i];
      EXPECT_LT(std::fabs(a - b) / std::max({std::fabs(a), std::fabs(b), 1e-3}), 1e-3);
    }
}
