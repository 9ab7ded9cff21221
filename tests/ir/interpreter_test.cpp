// interpreter_test.cpp: the reference interpreter on small hand-computed cases.
#include "ir/Builder.h"
#include "ir/Infer.h"
#include "ir/Interpreter.h"
#include "ir/Math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace mtl::ir;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Runs `g` and returns the values of `id`, failing the test on an error.
std::vector<double> eval(const Graph &g, ValueId id, const Feeds &feeds, int64_t batch) {
  Execution ex = interpret(g, feeds, {batch, false});
  EXPECT_TRUE(ex.ok()) << ex.error;
  return ex.ok() ? ex[id] : std::vector<double>{};
}

double scalarLoss(LossKind kind, std::vector<double> pred, std::vector<double> target,
                  std::vector<int64_t> rowDims, std::vector<int64_t> targetDims, double delta = 1) {
  Graph g;
  Builder b(g);
  int64_t batch = static_cast<int64_t>(target.size()) / TensorType::batch(targetDims).rowElements();
  ValueId p = b.input("p", TensorType::batch(std::move(rowDims)));
  ValueId t = b.input("t", TensorType::batch(std::move(targetDims)));
  ValueId l = b.loss(kind, p, t, delta);
  std::vector<double> r = eval(g, l, {{"p", pred}, {"t", target}}, batch);
  return r.empty() ? kNaN : r[0];
}

} // namespace

TEST(Interpreter, LinearAndBroadcast) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({2}));
  ValueId w = b.param("w", {3, 2});
  ValueId bias = b.param("b", {3});
  ValueId y = b.linear(x, w, bias);
  ValueId z = b.sub(b.mul(y, b.constant(2)), bias); // 2y - b, b broadcast per row
  Feeds f{{"x", {1, 2, 3, 4}}, {"w", {1, 0, 0, 1, 1, 1}}, {"b", {10, 20, 30}}};
  EXPECT_EQ(eval(g, y, f, 2), (std::vector<double>{11, 22, 33, 13, 24, 37}));
  EXPECT_EQ(eval(g, z, f, 2), (std::vector<double>{12, 24, 36, 16, 28, 44}));
}

TEST(Interpreter, MatMulKinds) {
  Graph g;
  Builder b(g);
  ValueId a = b.input("a", TensorType::batch({2}));
  ValueId m = b.param("m", {2, 2});
  ValueId p = b.matmul(a, m);
  ValueId tn = b.matmulTN(a, a);
  Feeds f{{"a", {1, 2, 3, 4}}, {"m", {1, 2, 3, 4}}};
  EXPECT_EQ(eval(g, p, f, 2), (std::vector<double>{7, 10, 15, 22}));
  EXPECT_EQ(eval(g, tn, f, 2), (std::vector<double>{10, 14, 14, 20}));
}

TEST(Interpreter, Activations) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({3}));
  ValueId relu = b.unary(OpKind::Relu, x);
  ValueId leaky = b.leakyRelu(x, 0.1);
  ValueId sig = b.unary(OpKind::Sigmoid, x);
  ValueId gelu = b.unary(OpKind::Gelu, x);
  ValueId abs = b.unary(OpKind::Abs, x);
  ValueId sq = b.unary(OpKind::Square, x);
  Feeds f{{"x", {-2, 0, 3}}};
  EXPECT_EQ(eval(g, relu, f, 1), (std::vector<double>{0, 0, 3}));
  EXPECT_EQ(eval(g, leaky, f, 1), (std::vector<double>{-0.2, 0, 3}));
  EXPECT_EQ(eval(g, abs, f, 1), (std::vector<double>{2, 0, 3}));
  EXPECT_EQ(eval(g, sq, f, 1), (std::vector<double>{4, 0, 9}));
  std::vector<double> s = eval(g, sig, f, 1);
  EXPECT_NEAR(s[0], 1 / (1 + std::exp(2.0)), 1e-15);
  EXPECT_DOUBLE_EQ(s[1], 0.5);
  std::vector<double> ge = eval(g, gelu, f, 1);
  EXPECT_NEAR(ge[0], -0.04540230591222, 1e-12); // PyTorch gelu(-2, approximate="tanh")
  EXPECT_NEAR(ge[2], 2.996362607918227, 1e-12);
  Feeds big{{"x", {-800, 800, 0}}}; // the stable sigmoid neither overflows nor NaNs
  std::vector<double> sb = eval(g, sig, big, 1);
  EXPECT_EQ(sb[0], 0.0);
  EXPECT_EQ(sb[1], 1.0);
}

TEST(Interpreter, SoftmaxIsStableOnLargeLogits) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({3}));
  ValueId sm = b.softmax(x);
  ValueId lsm = b.logSoftmax(x);
  Feeds f{{"x", {1000, 1001, 1002, 1, 2, 3}}};
  std::vector<double> s = eval(g, sm, f, 2), l = eval(g, lsm, f, 2);
  double z = 1 + std::exp(1.0) + std::exp(2.0);
  for (int r = 0; r < 2; ++r) {
    EXPECT_NEAR(s[r * 3 + 0], 1 / z, 1e-15);
    EXPECT_NEAR(s[r * 3 + 2], std::exp(2.0) / z, 1e-15);
    EXPECT_NEAR(l[r * 3 + 0], -std::log(z), 1e-12);
    EXPECT_NEAR(l[r * 3 + 1], 1 - std::log(z), 1e-12);
  }
}

TEST(Interpreter, LayerNormMatchesDefinition) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({4}));
  ValueId y = b.layerNorm(x, 1e-5);
  std::vector<double> r = eval(g, y, {{"x", {1, 2, 3, 4}}}, 1);
  double inv = 1 / std::sqrt(1.25 + 1e-5); // mean 2.5, biased variance 1.25
  EXPECT_NEAR(r[0], -1.5 * inv, 1e-14);
  EXPECT_NEAR(r[3], 1.5 * inv, 1e-14);
}

TEST(Interpreter, ReductionsAndShapes) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({3}));
  ValueId all = b.reduceMean(x);
  ValueId last = b.reduceSum(x, ReduceAxis::Last);
  ValueId lead = b.reduceMean(x, ReduceAxis::Leading);
  ValueId ex = b.expandLast(last, 2);
  ValueId cnt = b.elementCount(x);
  ValueId bl = b.broadcastLike(b.param("v", {3}), x);
  Feeds f{{"x", {1, 2, 3, 4, 5, 6}}, {"v", {7, 8, 9}}};
  EXPECT_EQ(eval(g, all, f, 2), (std::vector<double>{3.5}));
  EXPECT_EQ(eval(g, last, f, 2), (std::vector<double>{6, 15}));
  EXPECT_EQ(eval(g, lead, f, 2), (std::vector<double>{2.5, 3.5, 4.5}));
  EXPECT_EQ(eval(g, ex, f, 2), (std::vector<double>{6, 6, 15, 15}));
  EXPECT_EQ(eval(g, cnt, f, 2), (std::vector<double>{6}));
  EXPECT_EQ(eval(g, bl, f, 2), (std::vector<double>{7, 8, 9, 7, 8, 9}));
}

TEST(Interpreter, ConcatSliceAndSliceGrad) {
  // Two rows: a = [[1, 2], [3, 4]], c = [[5], [6]].
  Graph g;
  Builder b(g);
  ValueId a = b.input("a", TensorType::batch({2}));
  ValueId c = b.input("c", TensorType::batch({1}));
  ValueId cat = b.concat({a, c, a});
  ValueId mid = b.slice(cat, 1, 2);
  ValueId back = b.sliceGrad(mid, cat, 1, 2);
  Feeds feeds{{"a", {1, 2, 3, 4}}, {"c", {5, 6}}};
  EXPECT_EQ(g.type(cat), TensorType::batch({5}));
  EXPECT_EQ(eval(g, cat, feeds, 2), (std::vector<double>{1, 2, 5, 1, 2, 3, 4, 6, 3, 4}));
  EXPECT_EQ(eval(g, mid, feeds, 2), (std::vector<double>{2, 5, 4, 6}));
  EXPECT_EQ(eval(g, back, feeds, 2), (std::vector<double>{0, 2, 5, 0, 0, 0, 4, 6, 0, 0}));
  // Mismatched leading shapes and a slice past the end are refused.
  ValueId grid = b.input("grid", TensorType::batch({2, 2}));
  Op concat;
  concat.kind = OpKind::Concat;
  concat.operands = {a, grid};
  EXPECT_FALSE(inferType(g, concat).type);
  Op slice;
  slice.kind = OpKind::Slice;
  slice.operands = {a};
  slice.attrs.begin = 1;
  slice.attrs.size = 2;
  EXPECT_FALSE(inferType(g, slice).type);
}

TEST(Interpreter, GatherAndBadIds) {
  Graph g;
  Builder b(g);
  ValueId table = b.param("emb", {3, 2});
  ValueId ids = b.input("ids", TensorType::batch({2}, DType::I32));
  ValueId e = b.gather(table, ids);
  Feeds f{{"emb", {0, 1, 10, 11, 20, 21}}, {"ids", {2, 0}}};
  EXPECT_EQ(eval(g, e, f, 1), (std::vector<double>{20, 21, 0, 1}));
  f["ids"] = {3, 0};
  Execution ex = interpret(g, f, {1, false});
  ASSERT_FALSE(ex.ok());
  EXPECT_NE(ex.error.find("outside [0, 3)"), std::string::npos) << ex.error;
}

TEST(Interpreter, DropoutIsSeededAndInverted) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({100}));
  ValueId step = b.input("step", TensorType::scalar(DType::I32));
  ValueId y = b.dropout(x, step, 0.25, 42);
  Feeds f{{"x", std::vector<double>(1000, 1.0)}, {"step", {3}}};
  std::vector<double> a = eval(g, y, f, 10), c = eval(g, y, f, 10);
  EXPECT_EQ(a, c); // same seed and step, same mask
  int kept = 0;
  for (double v : a) {
    EXPECT_TRUE(v == 0.0 || std::fabs(v - 1 / 0.75) < 1e-15);
    kept += v != 0.0;
  }
  EXPECT_NEAR(kept / 1000.0, 0.75, 0.05);
  f["step"] = {4};
  EXPECT_NE(eval(g, y, f, 10), a); // a new step draws a new mask
  InterpretOptions evalMode;
  evalMode.batch = 10;
  evalMode.training = false;
  Execution ex = interpret(g, f, evalMode);
  ASSERT_TRUE(ex.ok());
  EXPECT_EQ(ex[y], f["x"]); // identity when evaluating
}

TEST(Interpreter, MaskedRegressionLosses) {
  // Rows 0 and 2 labelled, row 1 missing: means over the 2 labelled values.
  std::vector<double> p{1, 5, 2}, t{0, kNaN, 4.5};
  EXPECT_DOUBLE_EQ(scalarLoss(LossKind::Mse, p, t, {1}, {1}), (1 + 6.25) / 2);
  EXPECT_DOUBLE_EQ(scalarLoss(LossKind::Mae, p, t, {1}, {1}), (1 + 2.5) / 2);
  EXPECT_DOUBLE_EQ(scalarLoss(LossKind::Huber, p, t, {1}, {1}, 1.0), (0.5 + (2.5 - 0.5)) / 2);
  EXPECT_DOUBLE_EQ(scalarLoss(LossKind::Huber, p, t, {1}, {1}, 3.0), (0.5 + 0.5 * 6.25) / 2);
  // regress(2): the mean is over labelled elements.
  EXPECT_DOUBLE_EQ(scalarLoss(LossKind::Mse, {1, 2, 3, 4}, {0, kNaN, 3, 2}, {2}, {2}),
                   (1 + 0 + 4) / 3.0);
  EXPECT_DOUBLE_EQ(scalarLoss(LossKind::Mse, {1, 2}, {kNaN, kNaN}, {1}, {1}), 0.0);
}

TEST(Interpreter, MaskedBceWithLogits) {
  std::vector<double> p{0.5, -1, 800, -800}, t{1, kNaN, 0, 0};
  double expect = (std::log1p(std::exp(-0.5)) + 800 + 0) / 3;
  EXPECT_NEAR(scalarLoss(LossKind::BceLogits, p, t, {1}, {1}), expect, 1e-12);
  EXPECT_NEAR(mtl::ir::math::bceLogits(-30, 1), 30, 1e-12);
}

TEST(Interpreter, MaskedCrossEntropy) {
  // Two classes per row; the middle row has no label.
  std::vector<double> p{2, 0, 1000, 1000, 1000, 1001}, t{0, kNaN, 0};
  double l0 = std::log1p(std::exp(-2.0)), l2 = 1 + std::log1p(std::exp(-1.0));
  EXPECT_NEAR(scalarLoss(LossKind::CrossEntropy, p, t, {2}, {}), (l0 + l2) / 2, 1e-12);
  EXPECT_NEAR(scalarLoss(LossKind::CrossEntropy, p, t, {2}, {1}), (l0 + l2) / 2, 1e-12);
  Graph g;
  Builder b(g);
  ValueId l = b.loss(LossKind::CrossEntropy, b.input("p", TensorType::batch({2})),
                     b.input("t", TensorType::batch({})));
  (void)l;
  Execution ex = interpret(g, {{"p", {1, 2}}, {"t", {2}}}, {1, false});
  EXPECT_FALSE(ex.ok());
  EXPECT_NE(ex.error.find("class id 2"), std::string::npos) << ex.error;
}

TEST(Interpreter, FailsOnBadFeedsAndGraphs) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({2}));
  b.unary(OpKind::Tanh, x);
  EXPECT_NE(interpret(g, {}, {1, false}).error.find("no value given for 'x'"), std::string::npos);
  EXPECT_NE(interpret(g, {{"x", {1, 2, 3}}}, {2, false}).error.find("needs 4 values"),
            std::string::npos);
  EXPECT_FALSE(interpret(g, {{"x", {1, 2}}}, {0, false}).ok());
  b.linear(x, b.param("w", {3, 3}));
  EXPECT_NE(interpret(g, {{"x", {1, 2}}, {"w", std::vector<double>(9)}}, {1, false})
                .error.find("invalid graph"),
            std::string::npos);
}

TEST(Interpreter, RoundsToF32OnRequest) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({1}));
  ValueId y = b.div(x, b.constant(3));
  Execution ex = interpret(g, {{"x", {1}}}, {1, true});
  ASSERT_TRUE(ex.ok());
  EXPECT_EQ(ex[y][0], static_cast<double>(1.0f / 3.0f));
}

TEST(Interpreter, LossGradientsAreFiniteOnLargeLogits) {
  Graph g;
  Builder b(g);
  ValueId p = b.input("p", TensorType::batch({2}));
  ValueId t = b.input("t", TensorType::batch({1}));
  ValueId one = b.constant(1);
  Attrs ceAttrs, bceAttrs;
  ceAttrs.loss = LossKind::CrossEntropy;
  bceAttrs.loss = LossKind::BceLogits;
  ValueId ce = b.create(OpKind::LossGrad, {p, t, one}, ceAttrs);
  ValueId sm = b.create(OpKind::SoftmaxGrad, {b.softmax(p), p});
  ValueId q = b.input("q", TensorType::batch({1}));
  ValueId bce = b.create(OpKind::LossGrad, {q, t, one}, bceAttrs);
  Feeds f{{"p", {1000, -1000, -1000, 1000}}, {"t", {1, 1}}, {"q", {800, -800}}};
  std::vector<double> gce = eval(g, ce, f, 2), gbce = eval(g, bce, f, 2);
  // Row 0: softmax = (1, 0), class 1: (1, -1) / 2 rows. Row 1: exact, zero.
  EXPECT_EQ(gce, (std::vector<double>{0.5, -0.5, 0, 0}));
  EXPECT_EQ(gbce, (std::vector<double>{0, -0.5})); // (sigmoid(q) - 1) / 2
  for (double v : eval(g, sm, f, 2))
    EXPECT_TRUE(std::isfinite(v));
}
