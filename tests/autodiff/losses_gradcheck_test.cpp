// losses_gradcheck_test.cpp: gradient checks of the masked losses, the
// regularisers, the soft-sharing penalty and a whole multi-task step.
#include "GradCheck.h"

#include <limits>

using namespace mtl;
using namespace mtl::ir;
using gradcheck::Case;
using gradcheck::feature;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

/// A case with loss(kind, feature, target) on targets `t` (NaN = missing).
double checkLoss(LossKind kind, std::vector<int64_t> predDims, std::vector<int64_t> targetDims,
                 std::vector<double> t, double delta = 1.0) {
  Case c;
  c.batch = 4;
  Builder b(c.graph);
  ValueId target = b.input("t", TensorType::batch(std::move(targetDims)));
  c.feeds["t"] = std::move(t);
  c.loss = b.loss(kind, feature(b, "head", std::move(predDims)), target, delta);
  return gradcheck::check(c);
}

} // namespace

TEST(GradCheck, MaskedRegressionLosses) {
  std::vector<double> t{0.3, kNaN, -0.8, 1.5};
  checkLoss(LossKind::Mse, {1}, {1}, t);
  checkLoss(LossKind::Mae, {1}, {1}, t);
  checkLoss(LossKind::Huber, {1}, {1}, t, 0.5);
  checkLoss(LossKind::Huber, {1}, {1}, t, 5.0);
  // regress(2): one element of a row may be missing on its own.
  checkLoss(LossKind::Mse, {2}, {2}, {0.1, kNaN, kNaN, kNaN, 2, -1, 0.5, 0.25});
}

TEST(GradCheck, MaskedClassificationLosses) {
  checkLoss(LossKind::BceLogits, {1}, {1}, {1, 0, kNaN, 1});
  checkLoss(LossKind::BceLogits, {3}, {3}, {1, 0, kNaN, 1, 1, 0, kNaN, kNaN, kNaN, 0, 0, 1});
  checkLoss(LossKind::CrossEntropy, {3}, {}, {2, kNaN, 0, 1});
  checkLoss(LossKind::CrossEntropy, {4}, {1}, {3, 3, kNaN, 0});
}

TEST(GradCheck, FullyMaskedLossHasZeroGradient) {
  Case c;
  Builder b(c.graph);
  ValueId t = b.input("t", TensorType::batch({1}));
  c.feeds["t"] = {kNaN, kNaN, kNaN};
  ValueId h = feature(b, "head", {1});
  // The unmasked term keeps a gradient flowing; the fully masked one adds zero.
  c.loss = b.add(b.loss(LossKind::Mse, h, t), b.reduceMean(b.unary(OpKind::Square, h)));
  EXPECT_LT(gradcheck::check(c), 1e-6);
}

TEST(GradCheck, Regularisers) {
  Case c;
  Builder b(c.graph);
  ValueId w = b.param("trunk.0.weight", {3, 2});
  ValueId bias = b.param("trunk.0.bias", {3});
  // l2(1e-2) over both, l1(1e-3) over the weight.
  ValueId l2 = b.scale(
      b.add(b.reduceSum(b.unary(OpKind::Square, w)), b.reduceSum(b.unary(OpKind::Square, bias))),
      1e-2);
  ValueId l1 = b.scale(b.reduceSum(b.unary(OpKind::Abs, w)), 1e-3);
  c.loss = b.add(l2, l1);
  EXPECT_LT(gradcheck::check(c), 1e-6);
}

TEST(GradCheck, SoftSharingPenalty) {
  // lambda * sum_t ||theta_t - theta_mean||^2 over three task copies of a block.
  Case c;
  Builder b(c.graph);
  std::vector<ValueId> copies;
  for (const char *task : {"a", "b", "c"})
    copies.push_back(b.param(std::string("trunk.") + task + ".0.weight", {2, 3}));
  ValueId mean = b.scale(b.add(b.add(copies[0], copies[1]), copies[2]), 1.0 / 3);
  ValueId penalty = b.constant(0);
  for (ValueId theta : copies)
    penalty = b.add(penalty, b.reduceSum(b.unary(OpKind::Square, b.sub(theta, mean))));
  c.loss = b.scale(penalty, 0.1);
  EXPECT_LT(gradcheck::check(c), 1e-6);
}

TEST(GradCheck, WholeMultiTaskStep) {
  // x -> dense -> layer_norm(gain, bias) -> gelu -> dropout, plus an embedding
  // branch on its own input; three heads with masked losses, static weights,
  // l2 and l1 terms.
  Case c;
  c.batch = 5;
  Builder b(c.graph);
  ValueId x = b.input("x", TensorType::batch({4}));
  ValueId ids = b.input("ids", TensorType::batch({2}, DType::I32));
  ValueId step = b.input("step", TensorType::scalar(DType::I32));
  c.feeds["ids"] = {0, 1, 2, 2, 5, 0, 1, 1, 3, 4};
  c.feeds["step"] = {11};
  ValueId h = b.linear(x, b.param("trunk.0.weight", {6, 4}), b.param("trunk.0.bias", {6}));
  h = b.layerNorm(h, 1e-5);
  h = b.add(b.mul(h, b.param("trunk.1.weight", {6})), b.param("trunk.1.bias", {6}));
  h = b.dropout(b.unary(OpKind::Gelu, h), step, 0.2, 3);
  ValueId e = b.flatten(b.gather(b.param("emb.0.weight", {6, 3}), ids));
  h = b.add(h, b.linear(e, b.param("emb.2.weight", {6, 6})));
  ValueId cls = b.linear(h, b.param("species.0.weight", {3, 6}), b.param("species.0.bias", {3}));
  ValueId bin = b.linear(h, b.param("sex.0.weight", {1, 6}), b.param("sex.0.bias", {1}));
  ValueId reg = b.linear(h, b.param("mass.0.weight", {2, 6}));
  ValueId yc = b.input("yc", TensorType::batch({}));
  ValueId yb = b.input("yb", TensorType::batch({1}));
  ValueId yr = b.input("yr", TensorType::batch({2}));
  c.feeds["yc"] = {0, 2, kNaN, 1, 2};
  c.feeds["yb"] = {kNaN, 1, 0, 0, 1};
  c.feeds["yr"] = {0.5, -0.2, kNaN, 1, 0.3, kNaN, 2, 1, -1, 0};
  ValueId total = b.add(b.loss(LossKind::CrossEntropy, cls, yc),
                        b.scale(b.loss(LossKind::BceLogits, bin, yb), 0.5));
  total = b.add(total, b.scale(b.loss(LossKind::Huber, reg, yr, 0.7), 2.0));
  for (ValueId p : c.graph.params())
    total = b.add(total, b.scale(b.reduceSum(b.unary(OpKind::Square, p)), 1e-3));
  total = b.add(total, b.scale(b.reduceSum(b.unary(OpKind::Abs, c.graph.params()[0])), 1e-4));
  c.loss = total;
  EXPECT_LT(gradcheck::check(c), 1e-6);
}
