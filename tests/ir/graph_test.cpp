// graph_test.cpp: the IR builder's type inference, the printer and the verifier.
#include "ir/Builder.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

#include <set>

using namespace mtl;
using namespace mtl::ir;

namespace {

bool mentions(const std::vector<Diagnostic> &diags, const std::string &text) {
  for (const Diagnostic &d : diags)
    if (d.message.find(text) != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST(IrTypes, Format) {
  EXPECT_EQ(formatType(TensorType::batch({64})), "f32[B, 64]");
  EXPECT_EQ(formatType(TensorType::fixed({64, 4})), "f32[64, 4]");
  EXPECT_EQ(formatType(TensorType::scalar()), "f32[]");
  EXPECT_EQ(formatType(TensorType::batch({}, DType::I32)), "i32[B]");
  EXPECT_EQ(TensorType::batch({3, 4}).elements(5), 60);
}

TEST(IrBuilder, InfersTypes) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({4}));
  ValueId w = b.param("trunk.0.weight", {64, 4});
  ValueId bias = b.param("trunk.0.bias", {64});
  ValueId h = b.linear(x, w, bias);
  EXPECT_EQ(g.type(h), TensorType::batch({64}));
  EXPECT_EQ(g.type(b.add(h, bias)), TensorType::batch({64}));
  EXPECT_EQ(g.type(b.mul(b.constant(2), h)), TensorType::batch({64}));
  EXPECT_EQ(g.type(b.matmulTN(h, x)), TensorType::fixed({64, 4}));
  EXPECT_EQ(g.type(b.reduceSum(h, ReduceAxis::Last)), TensorType::batch({}));
  EXPECT_EQ(g.type(b.reduceMean(h, ReduceAxis::Leading)), TensorType::fixed({64}));
  EXPECT_EQ(g.type(b.reduceSum(h)), TensorType::scalar());
  EXPECT_EQ(g.type(b.reshape(h, {8, 8})), TensorType::batch({8, 8}));
  EXPECT_EQ(g.type(b.expandLast(h, 3)), TensorType::batch({64, 3}));
  ValueId ids = b.input("ids", TensorType::batch({5}, DType::I32));
  ValueId table = b.param("emb.0.weight", {100, 16});
  ValueId e = b.gather(table, ids);
  EXPECT_EQ(g.type(e), TensorType::batch({5, 16}));
  EXPECT_EQ(g.type(b.flatten(e)), TensorType::batch({80}));
  ValueId y = b.input("y", TensorType::batch({}));
  EXPECT_EQ(g.type(b.loss(LossKind::CrossEntropy, h, y)), TensorType::scalar());
  EXPECT_TRUE(verify(g).empty());
}

TEST(IrPrinter, LinesWithLocations) {
  SourceManager sm;
  int file = sm.add("examples/x.mtl", "model m {}\n");
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({4}));
  ValueId w = b.param("trunk.0.weight", {64, 4});
  ValueId bias = b.param("trunk.0.bias", {64});
  b.setLoc({file, 9, 18, 5});
  ValueId h = b.linear(x, w, bias);
  b.leakyRelu(h, 0.01);
  g.setResult("out", h);
  std::string text = print(g, &sm);
  EXPECT_NE(text.find("%x = input : f32[B, 4]\n"), std::string::npos) << text;
  EXPECT_NE(text.find("%trunk.0.weight = param : f32[64, 4]\n"), std::string::npos) << text;
  EXPECT_NE(text.find("%3 = linear %x, %trunk.0.weight, %trunk.0.bias : f32[B, 64]  "
                      "// examples/x.mtl:9:18\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("%4 = leaky_relu %3 {alpha = 0.01} : f32[B, 64]"), std::string::npos);
  EXPECT_NE(text.find("result out = %3\n"), std::string::npos);
  EXPECT_NE(print(g).find("// 9:18"), std::string::npos);
}

TEST(IrVerifier, AcceptsEmptyGraph) {
  Graph g;
  EXPECT_TRUE(verify(g).empty());
}

TEST(IrVerifier, RejectsShapeMismatches) {
  Graph g;
  Builder b(g);
  b.setLoc({0, 3, 7, 1});
  ValueId x = b.input("x", TensorType::batch({4}));
  ValueId w = b.param("w", {8, 5});
  b.linear(x, w);              // in 4 vs weight [8, 5]
  b.add(x, b.param("v", {3})); // [3] does not broadcast to [B, 4]
  b.reshape(x, {3});           // 4 elements per row into 3
  b.loss(LossKind::Mse, x, b.input("t", TensorType::batch({2})));
  b.softmax(b.constant(1)); // no last dimension
  Attrs perChannel;
  perChannel.size = 3; // 2 channels of 3 values: rows of 6, not 4
  ValueId c = b.param("c", {2});
  b.create(OpKind::BatchNorm, {x, c, c, c, c}, perChannel);
  std::vector<Diagnostic> d = verify(g);
  EXPECT_EQ(d.size(), 6u);
  EXPECT_TRUE(mentions(d, "batch_norm: rows f32[B, 4] need 2 channels of 3 values"));
  EXPECT_TRUE(mentions(d, "linear: weight f32[8, 5] does not fit input f32[B, 4]"));
  EXPECT_TRUE(mentions(d, "cannot broadcast"));
  EXPECT_TRUE(mentions(d, "cannot reshape f32[B, 4] to f32[B, 3]"));
  EXPECT_TRUE(mentions(d, "loss target"));
  EXPECT_TRUE(mentions(d, "needs a last dimension"));
  EXPECT_EQ(d.front().loc.line, 3);
  EXPECT_EQ(d.front().loc.col, 7);
}

TEST(IrVerifier, RejectsStructuralErrors) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({4}));
  b.input("x", TensorType::batch({4})); // duplicate name
  Op forward;                           // uses a later value
  forward.kind = OpKind::Relu;
  forward.operands = {5};
  forward.type = TensorType::batch({4});
  g.append(forward);
  Op self; // %3 reads itself
  self.kind = OpKind::Relu;
  self.operands = {3};
  self.type = TensorType::batch({4});
  g.append(self);
  Op arity; // relu with two operands
  arity.kind = OpKind::Relu;
  arity.operands = {x, x};
  arity.type = TensorType::batch({4});
  g.append(arity);
  Op wrongType; // stored type disagrees
  wrongType.kind = OpKind::Tanh;
  wrongType.operands = {x};
  wrongType.type = TensorType::batch({5});
  g.append(wrongType);
  b.param("p", {0}); // non-positive dimension
  Op batchedParam;
  batchedParam.kind = OpKind::Param;
  batchedParam.name = "q";
  batchedParam.type = TensorType::batch({2});
  g.append(batchedParam);
  b.unary(OpKind::Relu, b.input("ids", TensorType::batch({2}, DType::I32))); // i32 operand
  g.setResult("missing", 99);
  std::vector<Diagnostic> d = verify(g);
  EXPECT_TRUE(mentions(d, "defined twice"));
  EXPECT_TRUE(mentions(d, "%5 is not defined before its use"));
  EXPECT_TRUE(mentions(d, "%3 = relu: operand %3 is not defined before its use"));
  EXPECT_TRUE(mentions(d, "takes 1 operands, not 2"));
  EXPECT_TRUE(mentions(d, "has type f32[B, 5] but its operands give f32[B, 4]"));
  EXPECT_TRUE(mentions(d, "static f32 shape"));
  EXPECT_TRUE(mentions(d, "needs f32 operands"));
  EXPECT_TRUE(mentions(d, "result 'missing'"));
  EXPECT_EQ(d.size(), 9u);
}

TEST(IrVerifier, RejectsBadAttributes) {
  Graph g;
  Builder b(g);
  ValueId x = b.input("x", TensorType::batch({4}));
  ValueId step = b.input("step", TensorType::scalar(DType::I32));
  b.dropout(x, step, 1.0, 0);
  b.layerNorm(x, 0);
  b.loss(LossKind::Huber, x, x, -1);
  b.expandLast(x, 0);
  b.dropout(x, x, 0.5, 0); // the step must be a scalar
  std::vector<Diagnostic> d = verify(g);
  EXPECT_EQ(d.size(), 5u);
  EXPECT_TRUE(mentions(d, "rate must be in [0, 1)"));
  EXPECT_TRUE(mentions(d, "eps must be positive"));
  EXPECT_TRUE(mentions(d, "delta must be positive"));
}

TEST(IrOps, EveryKindHasANameAndArity) {
  std::set<std::string> names;
  for (int k = 0; k < kNumOpKinds; ++k) {
    auto kind = static_cast<OpKind>(k);
    const OpInfo &info = opInfo(kind);
    std::string name = opName(kind);
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(names.insert(name).second) << name;
    auto [lo, hi] = operandCount(kind);
    EXPECT_LE(lo, hi) << name;
    // The arity each class implies.
    EXPECT_EQ(hi == 0, info.opClass == OpClass::Leaf) << name;
    EXPECT_GE(lo, info.opClass == OpClass::Leaf ? 0 : 1) << name;
    if (info.opClass == OpClass::Unary) {
      EXPECT_TRUE(lo == 1 && hi == 1) << name;
    }
    if (info.opClass == OpClass::Binary) {
      EXPECT_TRUE(lo == 2 && hi == 2) << name;
    }
    EXPECT_EQ(isElementwiseUnary(kind), info.opClass == OpClass::Unary) << name;
    EXPECT_EQ(isElementwiseBinary(kind), info.opClass == OpClass::Binary) << name;
    // Only gradient helpers are not differentiable, and they are named for it.
    if (!info.differentiable) {
      EXPECT_TRUE(name.ends_with("_grad") || name.ends_with("_deriv")) << name;
    }
  }
  EXPECT_EQ(static_cast<int>(OpKind::LossGrad), kNumOpKinds - 1);
  std::set<std::string> losses;
  for (LossKind l :
       {LossKind::Mse, LossKind::Mae, LossKind::Huber, LossKind::BceLogits, LossKind::CrossEntropy})
    EXPECT_TRUE(losses.insert(lossKindName(l)).second) << lossKindName(l);
  EXPECT_EQ(std::string(lossKindName(LossKind::BceLogits)), "bce_logits");
  Attrs drop;
  drop.rate = 0.5;
  drop.seed = 3;
  EXPECT_EQ(formatAttrs(OpKind::Dropout, drop), " {rate = 0.5, seed = 3}");
  Attrs huber;
  huber.loss = LossKind::Huber;
  huber.delta = 2;
  EXPECT_EQ(formatAttrs(OpKind::Loss, huber), " {loss = huber, delta = 2}");
  EXPECT_EQ(formatAttrs(OpKind::Relu, {}), "");
}

// A kind that reaches code the registry says it cannot is an internal error
// naming the op, never a silent result.
TEST(IrOpsDeathTest, UnexpectedKindsStopWithAnInternalError) {
  EXPECT_DEATH(unexpectedOp(OpKind::Softmax, "the unary kernels"),
               "internal error: op 'softmax' reached the unary kernels");
  EXPECT_DEATH(unexpectedLoss(LossKind::CrossEntropy, "the element-wise loss"),
               "internal error: loss 'cross_entropy' reached the element-wise loss");
}
