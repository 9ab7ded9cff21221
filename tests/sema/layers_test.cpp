// layers_test.cpp: every built-in layer's arguments, shapes, parameter counts and errors.
#include "SemaTestUtil.h"

namespace mtl::sema::test {
namespace {

// One task whose head is `chain`, on inputs x : f32[4], img : f32[1, 28, 28], ids : i32[8].
Checked head(const std::string &kind, const std::string &chain) {
  return check(model("  input x : f32[4]\n  input img : f32[1, 28, 28]\n  input ids : i32[8]\n"
                     "  task t : " +
                     kind + " { head = " + chain + " }"));
}

TEST(Layers, DenseShapesAndParameters) {
  Checked c = check(model("  input x : f32[4]\n  task t : regress(3) { head = x -> dense(16) -> "
                          "dense(3, bias = false) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  ASSERT_EQ(m.modules.size(), 1u);
  const Module &mod = m.modules[0];
  ASSERT_EQ(mod.layers.size(), 2u);
  EXPECT_EQ(mod.layers[0].kind, LayerKind::Dense);
  EXPECT_EQ(mod.layers[0].inShape, Shape{4});
  EXPECT_EQ(mod.layers[0].outShape, Shape{16});
  EXPECT_EQ(mod.layers[0].units, 16);
  EXPECT_TRUE(mod.layers[0].bias);
  EXPECT_EQ(mod.layers[0].paramCount(), 4 * 16 + 16);
  EXPECT_FALSE(mod.layers[1].bias);
  EXPECT_EQ(mod.layers[1].paramCount(), 16 * 3);
  EXPECT_EQ(m.paramCount(), 80 + 48);
  EXPECT_EQ(c.text, "");
}

TEST(Layers, ActivationsKeepShapeAndHoldArguments) {
  Checked c = head("regress(4)", "x -> relu -> gelu() -> tanh -> sigmoid -> leaky_relu(0.2) -> "
                                 "softmax -> dropout(0.25) -> layer_norm(eps = 0.001)");
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const std::vector<Layer> &l = c.model().modules[0].layers;
  ASSERT_EQ(l.size(), 8u);
  for (const Layer &layer : l)
    EXPECT_EQ(layer.outShape, Shape{4});
  EXPECT_EQ(l[4].kind, LayerKind::LeakyRelu);
  EXPECT_DOUBLE_EQ(l[4].alpha, 0.2);
  EXPECT_DOUBLE_EQ(l[6].rate, 0.25);
  EXPECT_DOUBLE_EQ(l[7].eps, 0.001);
  EXPECT_EQ(l[7].paramCount(), 8); // weight and bias of width 4
  EXPECT_EQ(c.model().paramCount(), 8);
}

TEST(Layers, LeakyReluAndLayerNormDefaults) {
  Checked c = head("regress(4)", "x -> leaky_relu -> layer_norm");
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  EXPECT_DOUBLE_EQ(c.model().modules[0].layers[0].alpha, 0.01);
  EXPECT_DOUBLE_EQ(c.model().modules[0].layers[1].eps, 1e-5);
}

TEST(Layers, FlattenAndImages) {
  Checked c = head("classify(10)", "img -> flatten -> dense(10)");
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const std::vector<Layer> &l = c.model().modules[0].layers;
  EXPECT_EQ(l[0].inShape, (Shape{1, 28, 28}));
  EXPECT_EQ(l[0].outShape, Shape{784});
  EXPECT_EQ(l[1].paramCount(), 7850);
}

TEST(Layers, DenseNeedsFlatInput) {
  Checked c = head("classify(10)", "img -> dense(10)");
  EXPECT_TRUE(c.models.empty());
  EXPECT_DIAG(c, "m.mtl:5:41: error: dense expects a flat input of shape [n], got [1, 28, 28]; "
                 "insert 'flatten' before it\n");
  EXPECT_EQ(c.errors, 1u) << c.text; // no cascade into the head width
}

TEST(Layers, EmbeddingTakesIdsOnly) {
  Checked ok = head("regress(2)", "ids -> embedding(100, 3) -> flatten -> dense(2)");
  ASSERT_EQ(ok.models.size(), 1u) << ok.text;
  const Layer &e = ok.model().modules[0].layers[0];
  EXPECT_EQ(e.outShape, (Shape{8, 3}));
  EXPECT_EQ(e.vocab, 100);
  EXPECT_EQ(e.units, 3);
  EXPECT_EQ(e.paramCount(), 300);
  EXPECT_EQ(ok.model().modules[0].layers[1].outShape, Shape{24});

  Checked ids = head("regress", "ids -> dense(1)");
  EXPECT_DIAG(ids, "error: dense expects f32 input, got i32 ids of shape [8]; pass ids "
                   "through 'embedding' first");
  Checked f = head("regress", "x -> embedding(10, 2) -> flatten -> dense(1)");
  EXPECT_DIAG(f, "error: embedding expects i32 ids, got f32 values of shape [4]");
  Checked act = head("regress(8)", "ids -> relu");
  EXPECT_DIAG(act, "error: relu expects f32 input, got i32 ids of shape [8]");
}

TEST(Layers, EmbeddingOfMatrixNeedsFlatten) {
  Checked c = check(model("  input ids : i32[2, 4]\n  task t : regress { head = ids -> "
                          "embedding(10, 2) -> flatten -> dense(1) }"));
  EXPECT_DIAG(c, "error: embedding expects ids of shape [n], got [2, 4]; insert 'flatten' "
                 "before it");
  Checked ok = check(model("  input ids : i32[2, 4]\n  task t : regress { head = ids -> "
                           "flatten -> embedding(10, 2) -> flatten -> dense(1) }"));
  ASSERT_EQ(ok.models.size(), 1u) << ok.text;
  EXPECT_EQ(ok.model().modules[0].layers[1].outShape, (Shape{8, 2}));
}

TEST(Layers, GruShapesAndParameters) {
  Checked c = check(model("  input seq : f32[6, 3]\n  task t : regress { head = seq -> gru(5) -> "
                          "dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Layer &g = c.model().modules[0].layers[0];
  EXPECT_EQ(g.kind, LayerKind::Gru);
  EXPECT_EQ(g.inShape, (Shape{6, 3}));
  EXPECT_EQ(g.outShape, Shape{5});
  EXPECT_EQ(g.units, 5);
  // weight_ih [15, 3], weight_hh [15, 5], bias_ih and bias_hh [15]
  EXPECT_EQ(g.paramCount(), 45 + 75 + 15 + 15);
  EXPECT_EQ(c.model().paramCount(), 150 + 6);
  // An embedding's [n, dim] is a sequence of n steps.
  Checked e = head("regress", "ids -> embedding(100, 3) -> gru(4) -> dense(1)");
  ASSERT_EQ(e.models.size(), 1u) << e.text;
  EXPECT_EQ(e.model().modules[0].layers[1].inShape, (Shape{8, 3}));
  EXPECT_EQ(e.model().modules[0].layers[1].outShape, Shape{4});
}

TEST(Layers, GruNeedsSequenceOfValues) {
  Checked v = head("regress", "x -> gru(4) -> dense(1)");
  EXPECT_DIAG(v, "m.mtl:5:34: error: gru expects a sequence of shape [steps, features], got [4]; "
                 "4 steps of one feature would be [4, 1]\n");
  EXPECT_EQ(v.errors, 1u) << v.text;
  EXPECT_DIAG(head("regress", "img -> gru(4) -> dense(1)"),
              "error: gru expects a sequence of shape [steps, features], got [1, 28, 28]\n");
  EXPECT_DIAG(head("regress", "ids -> gru(4) -> dense(1)"),
              "error: gru expects f32 input, got i32 ids of shape [8]; pass ids through "
              "'embedding' first");
  EXPECT_DIAG(head("regress", "ids -> embedding(9, 2) -> gru -> dense(1)"),
              "error: missing argument 'hidden' for gru");
  EXPECT_DIAG(head("regress", "ids -> embedding(9, 2) -> gru(0) -> dense(1)"),
              "error: hidden must be at least 1, got 0");
}

TEST(Layers, GruStepsAndParametersAreCapped) {
  Checked steps = check(model("  input s : f32[201, 2]\n  task t : regress { head = s -> gru(4) -> "
                              "dense(1) }"));
  EXPECT_DIAG(steps, "error: gru unrolls its steps into the compiled graph: at most 200 steps, "
                     "got 201");
  EXPECT_TRUE(steps.models.empty());
  ASSERT_EQ(check(model("  input s : f32[200, 2]\n  task t : regress { head = s -> gru(4) -> "
                        "dense(1) }"))
                .models.size(),
            1u);
  Checked params = check(model("  input s : f32[2, 1048576]\n  task t : regress { head = s -> "
                               "gru(1048576) -> dense(1) }"));
  EXPECT_DIAG(params, "error: gru(1048576) on [2, 1048576] would have more than 2^40 parameters");
}

TEST(Layers, ArgumentCountsAndNames) {
  Checked c = head("regress", "x -> dense(1, true, 3)");
  EXPECT_DIAG(c, "m.mtl:5:49: error: dense expects 1 to 2 arguments (units, bias), got 3\n");
  EXPECT_DIAG(head("regress(4)", "x -> relu(1)"), "error: relu expects no arguments, got 1");
  EXPECT_DIAG(head("regress(4)", "x -> dropout(0.1, 0.2)"),
              "error: dropout expects 1 argument (rate), got 2");
  EXPECT_DIAG(head("regress(4)", "x -> dropout"), "error: missing argument 'rate' for dropout");
  EXPECT_DIAG(head("regress", "x -> dense(unit = 1)"),
              "error: unknown argument 'unit' for dense; did you mean 'units'?");
  EXPECT_DIAG(head("regress", "x -> dense(1, units = 1)"),
              "error: argument 'units' is given twice");
  EXPECT_DIAG(head("regress", "x -> dense(units = 1, true)"),
              "error: positional argument after a named argument");
  EXPECT_DIAG(head("regress", "x -> dense(1, bias = 1)"),
              "error: expected true or false, got a number");
  EXPECT_DIAG(head("regress", "x -> dense(0..1)"),
              "error: a range 'a..b' is only allowed in columns(...)");
}

TEST(Layers, UnknownLayerSuggests) {
  Checked c = head("regress", "x -> dens(1)");
  EXPECT_DIAG(c, "m.mtl:5:34: error: unknown layer 'dens'; did you mean 'dense'?\n"
                 "  task t : regress { head = x -> dens(1) }\n"
                 "                                 ^~~~\n");
  EXPECT_EQ(c.errors, 1u) << c.text;
  EXPECT_DIAG(head("regress", "x -> dense(1) -> rleu"),
              "unknown layer 'rleu'; did you mean 'relu'?");
}

TEST(Layers, ValueRanges) {
  EXPECT_DIAG(head("regress", "x -> dense(0)"), "error: units must be at least 1, got 0");
  EXPECT_DIAG(head("regress", "x -> dense(-3)"), "error: units must be at least 1, got -3");
  EXPECT_DIAG(head("regress", "x -> dense(2.5)"), "error: units must be an integer, got 2.5");
  EXPECT_DIAG(head("regress", "x -> dense(4294967296)"),
              "error: units must be at most 2147483648, got 4294967296");
  EXPECT_DIAG(head("regress(4)", "x -> dropout(1)"),
              "error: dropout rate must be in [0, 1), got 1");
  EXPECT_DIAG(head("regress(4)", "x -> dropout(-0.1)"),
              "error: dropout rate must be in [0, 1), got -0.1");
  EXPECT_DIAG(head("regress(4)", "x -> layer_norm(0)"),
              "error: layer_norm eps must be a positive float from 1.2e-38 to 3.4e+38, got 0");
  EXPECT_DIAG(head("regress", "ids -> embedding(0, 2) -> flatten -> dense(1)"),
              "error: vocab must be at least 1, got 0");
}

TEST(Layers, ParameterCountIsCapped) {
  Checked c = check(model("  input x : f32[1048576]\n  task t : regress { head = x -> "
                          "dense(2097152) -> dense(1) }"));
  EXPECT_DIAG(c, "error: dense(2097152) on [1048576] would have more than 2^40 parameters");
  EXPECT_TRUE(c.models.empty());
}

TEST(Layers, LocationsOfLayers) {
  Checked c = check(model("  input x : f32[4]\n  block b { dense(2) -> relu }\n"
                          "  task t : regress(2) { head = x -> b -> dense(2) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const std::vector<Layer> &l = c.model().modules[0].layers;
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].loc.line, 3); // written in the block body
  EXPECT_EQ(l[0].loc.col, 13);
  EXPECT_EQ(l[0].useLoc.line, 4); // used through the block call in the head
  EXPECT_EQ(l[0].useLoc.col, 37);
  EXPECT_EQ(l[2].loc.line, 4);
  EXPECT_EQ(l[2].loc.col, l[2].useLoc.col);
}

} // namespace
} // namespace mtl::sema::test
