// Blocks whose bodies combine values (reading their input `in`), and
// each_task(chain): layers of which each task that reads them has a copy.
#include "SemaTestUtil.h"

namespace mtl::sema::test {
namespace {

const std::string kBlocks = "block expert(w) { dense(w) -> relu }\n"
                            "block gate(k) { dense(k) -> softmax }\n"
                            "block mmoe(experts, expert) {\n"
                            "  mix(each_task(in -> gate(experts)), repeat(experts, in -> expert))\n"
                            "}\n";

std::string withBlocks(const std::string &body) { return kBlocks + model(body); }

// The value task `t`'s head reads through its first Apply: the head's
// argument (`head = v -> dense(1)` gives v).
const Value &headInput(const Model &m, const std::string &t) {
  return m.values[size_t(m.values[size_t(taskOf(m, t).head)].arg)];
}

TEST(ValueBlocks, OneCallMmoeSharesTheExpertsAndGivesEachTaskAGate) {
  Checked c = check(withBlocks("  input x : f32[4]\n"
                               "  shared moe = x -> mmoe(experts = 3, expert = expert(8))\n"
                               "  task a : regress { head = moe -> dense(1) }\n"
                               "  task b : regress { head = moe -> dense(1) }"));
  ASSERT_EQ(c.errors, 0u) << c.text;
  const Model &m = c.model();
  EXPECT_EQ(layersOf(m, "moe"), (std::vector<std::string>{
                                    "moe.0.a.0=dense[3]", "moe.0.a.1=softmax[3]",
                                    "moe.1.0.0=dense[8]", "moe.1.0.1=relu[8]", "moe.1.1.0=dense[8]",
                                    "moe.1.1.1=relu[8]", "moe.1.2.0=dense[8]", "moe.1.2.1=relu[8]",
                                    "moe.0.b.0=dense[3]", "moe.0.b.1=softmax[3]"}));
  const Value &ma = headInput(m, "a"), &mb = headInput(m, "b");
  ASSERT_EQ(ma.kind, Value::Mix);
  ASSERT_EQ(mb.kind, Value::Mix);
  EXPECT_NE(ma.args[0], mb.args[0]); // a gate each
  EXPECT_EQ(ma.args[1], mb.args[1]); // one stack of experts, computed once
  EXPECT_EQ(ma.argTexts, (std::vector<std::string>{"moe.0", "moe.1[0]", "moe.1[1]", "moe.1[2]"}));
  EXPECT_EQ(mb.argTexts, ma.argTexts);
}

// Whatever reads a per-task value is per task too: its own layers are made
// once and applied to each task's value.
TEST(ValueBlocks, ReadingAPerTaskValueMakesAValuePerTaskWithSharedLayers) {
  Checked c = check(withBlocks("  input x : f32[4]\n"
                               "  shared moe = x -> mmoe(2, expert(8))\n"
                               "  shared deeper = moe -> dense(5)\n"
                               "  shared plain = x -> dense(5)\n"
                               "  task a : regress { head = deeper + plain -> dense(1) }\n"
                               "  task b : regress { head = deeper + plain -> dense(1) }"));
  ASSERT_EQ(c.errors, 0u) << c.text;
  const Model &m = c.model();
  EXPECT_EQ(layersOf(m, "deeper"), (std::vector<std::string>{"deeper.0=dense[5]"}));
  const Value &sa = headInput(m, "a"), &sb = headInput(m, "b");
  ASSERT_EQ(sa.kind, Value::Add);
  const Value &da = m.values[size_t(sa.args[0])], &db = m.values[size_t(sb.args[0])];
  EXPECT_EQ(da.module, db.module);
  EXPECT_NE(da.arg, db.arg);         // each task's mixture
  EXPECT_EQ(sa.args[1], sb.args[1]); // `plain` has no per-task part: one value
  EXPECT_EQ(layersOf(m, "plain").size(), 1u);
}

TEST(ValueBlocks, EachTaskInAHeadAndInsideRepeatNamesLayersByTask) {
  Checked c = check(kBlocks +
                    "block cgc(s, t, w) {\n"
                    "  mix(each_task(in -> gate(s + t)),\n"
                    "      each_task(repeat(t, in -> expert(w))), repeat(s, in -> "
                    "expert(w)))\n"
                    "}\n" +
                    model("  input x : f32[4]\n"
                          "  task a : regress { head = x -> cgc(2, 1, 8) -> dense(1) }"));
  ASSERT_EQ(c.errors, 0u) << c.text;
  EXPECT_EQ(
      layersOf(c.model(), "a"),
      (std::vector<std::string>{"a.0.a.0=dense[3]", "a.0.a.1=softmax[3]", "a.1.a.0.0=dense[8]",
                                "a.1.a.0.1=relu[8]", "a.2.0.0=dense[8]", "a.2.0.1=relu[8]",
                                "a.2.1.0=dense[8]", "a.2.1.1=relu[8]", "a.3=dense[1]"}));
}

// Numbers in a body's combinations may be the block's parameters; a block
// that calls a combining block combines too; a residual block is one line.
TEST(ValueBlocks, ParametersBlocksThatCallThemAndResidualBlocks) {
  Checked c = check("block res(w, f = 0.5) { in + f * (in -> dense(w) -> relu) }\n"
                    "block two(w) { dense(w) -> res(w) -> res(w, f = 1) }\n"
                    "block pick(k, i) { select(repeat(k, in -> dense(2)), i) }\n" +
                    model("  input x : f32[4]\n"
                          "  task a : regress { head = x -> two(6) -> pick(3, 2) -> dense(1) }"));
  ASSERT_EQ(c.errors, 0u) << c.text;
  const Model &m = c.model();
  EXPECT_EQ(layersOf(m, "a"),
            (std::vector<std::string>{"a.0=dense[6]", "a.1.0=dense[6]", "a.1.1=relu[6]",
                                      "a.2.0=dense[6]", "a.2.1=relu[6]", "a.3.0.0=dense[2]",
                                      "a.3.1.0=dense[2]", "a.3.2.0=dense[2]", "a.4=dense[1]"}));
  const Value &picked = headInput(m, "a");
  ASSERT_EQ(picked.kind, Value::Select);
  EXPECT_EQ(picked.index, 2);
  const Value &res = m.values[size_t(m.values[size_t(picked.args[0])].args[0])]; // stack -> copy
  EXPECT_EQ(res.kind, Value::Apply);
  std::vector<double> factors;
  for (const Value &v : m.values)
    if (v.kind == Value::Scale)
      factors.push_back(v.factor);
  EXPECT_EQ(factors, (std::vector<double>{0.5, 1}));
}

// A parameter that stands as a layer takes layers: one, a block call or a
// chain, read with the caller's parameters; a default with the ones before it.
TEST(ValueBlocks, LayerParameters) {
  Checked c = check(kBlocks +
                    "block stem(w, act = relu, out = dense(w)) { dense(w) -> act -> out }\n"
                    "block wrap(k) { stem(k, act = dense(k) -> tanh) }\n" +
                    model("  input x : f32[4]\n"
                          "  shared moe = x -> mmoe(2, expert = dense(6) -> relu -> dense(5))\n"
                          "  task a : regress { head = moe -> wrap(3) -> stem(2, out = gelu) -> "
                          "dense(1) }"));
  ASSERT_EQ(c.errors, 0u) << c.text;
  const Model &m = c.model();
  EXPECT_EQ(
      layersOf(m, "moe"),
      (std::vector<std::string>{"moe.0.a.0=dense[2]", "moe.0.a.1=softmax[2]", "moe.1.0.0=dense[6]",
                                "moe.1.0.1=relu[6]", "moe.1.0.2=dense[5]", "moe.1.1.0=dense[6]",
                                "moe.1.1.1=relu[6]", "moe.1.1.2=dense[5]"}));
  EXPECT_EQ(layersOf(m, "a"), (std::vector<std::string>{
                                  "a.0=dense[3]", "a.1=dense[3]", "a.2=tanh[3]", "a.3=dense[3]",
                                  "a.4=dense[2]", "a.5=relu[2]", "a.6=gelu[2]", "a.7=dense[1]"}));
  Checked e = check("block b(f) { f -> dense(4) -> f(2) }\n" +
                    model("  input x : f32[4]\n"
                          "  task a : regress { head = x -> b(relu) -> dense(1) }"));
  EXPECT_DIAG(e, "'f' is a layer parameter of block 'b'; the layers given for it take "
                 "their arguments where the block is called, so write 'f' alone here");
}

// The layers given for a parameter expand as where they were written: a
// block may be given its own kind; a block given itself is a cycle, reported.
TEST(ValueBlocks, LayersGivenForAParameterExpandWhereTheyWereWritten) {
  Checked c = check("block twice(f) { f -> f }\n" +
                    model("  input x : f32[4]\n"
                          "  task a : regress { head = x -> twice(f = twice(f = dense(8))) -> "
                          "dense(1) }"));
  ASSERT_EQ(c.errors, 0u) << c.text;
  EXPECT_EQ(layersOf(c.model(), "a"),
            (std::vector<std::string>{"a.0=dense[8]", "a.1=dense[8]", "a.2=dense[8]",
                                      "a.3=dense[8]", "a.4=dense[1]"}));
  Checked r = check("block a(l) { l }\nblock b { a(l = b) }\n" +
                    model("  input x : f32[4]\n"
                          "  task t : regress { head = x -> b -> dense(1) }"));
  EXPECT_DIAG(r, "error: block 'b' calls itself through the layers given for a parameter");
}

// A layer parameter passed on to another block's layer parameter, alone,
// by position or in a chain, takes layers: the caller's are applied there.
TEST(ValueBlocks, LayerParametersPassedOnTakeLayers) {
  Checked c = check(kBlocks +
                    "block twice(f) { f -> f }\n"
                    "block wrap(g) { twice(f = g -> relu) -> twice(g) }\n"
                    "block moe2(e) { in -> mmoe(2, expert = e) }\n" +
                    model("  input x : f32[4]\n"
                          "  shared moe = x -> moe2(e = dense(5) -> tanh)\n"
                          "  task a : regress { head = moe -> wrap(g = dense(6)) -> dense(1) }"));
  ASSERT_EQ(c.errors, 0u) << c.text;
  const Model &m = c.model();
  EXPECT_EQ(
      layersOf(m, "moe"),
      (std::vector<std::string>{"moe.0.a.0=dense[2]", "moe.0.a.1=softmax[2]", "moe.1.0.0=dense[5]",
                                "moe.1.0.1=tanh[5]", "moe.1.1.0=dense[5]", "moe.1.1.1=tanh[5]"}));
  EXPECT_EQ(layersOf(m, "a"),
            (std::vector<std::string>{"a.0=dense[6]", "a.1=relu[6]", "a.2=dense[6]", "a.3=relu[6]",
                                      "a.4=dense[6]", "a.5=dense[6]", "a.6=dense[1]"}));
  // Passed on, it still takes no number.
  Checked e = check(kBlocks + "block moe2(e) { in -> mmoe(2, expert = e) }\n" +
                    model("  input x : f32[4]\n"
                          "  shared moe = x -> moe2(e = 3)\n"
                          "  task a : regress { head = moe -> dense(1) }"));
  EXPECT_DIAG(e, "'e' of block 'moe2' takes layers (a layer, a block or a chain of them, as in "
                 "'e = dense(16) -> relu'): it stands as a layer in its body or is given for "
                 "another block's; got a number");
}

// A gate outside each_task in a value built per task is one gate, named
// once: lowering reports it per task (top.gate.a, top.gate.b).
TEST(ValueBlocks, ASharedGateInAPerTaskValueKeepsItsName) {
  Checked c = check(withBlocks("  input x : f32[4]\n"
                               "  shared moe = x -> mmoe(2, expert(8))\n"
                               "  shared top = mix(x -> gate(2), moe, x -> dense(8))\n"
                               "  task a : regress { head = top -> dense(1) }\n"
                               "  task b : regress { head = top -> dense(1) }"));
  ASSERT_EQ(c.errors, 0u) << c.text;
  std::vector<std::string> gates;
  for (const Value &v : c.model().values)
    if (v.kind == Value::Mix)
      gates.push_back(v.argTexts.front());
  EXPECT_EQ(gates, (std::vector<std::string>{"moe.0", "top.gate", "moe.0", "top.gate"}));
}

TEST(ValueBlocks, Errors) {
  auto expectError = [](const std::string &src, const std::string &piece) {
    Checked c = check(src);
    EXPECT_GT(c.errors, 0u) << src;
    EXPECT_DIAG(c, piece);
  };
  const std::string head = model("  input x : f32[4]\n"
                                 "  task a : regress { head = x -> b(2) -> dense(1) }");
  expectError("block b(in) { dense(in) }\n" + head,
              "'in' is the input of block 'b', not a parameter");
  expectError("block b(k) { in + (x -> dense(4)) }\n" + head,
              "a chain in block 'b' starts from the block's input 'in' or a combination "
              "of values, got 'x'");
  expectError("block b(k) { in + (in -> dense(k)) }\n" + head,
              "'+' combines values of the same shape, element by element; got [4] and [2]");
  expectError("block b(k) { in + in }\n" +
                  model("  input x : f32[4]\n"
                        "  shared enc = dense(4) -> b(2)\n"
                        "  task a : regress { head = x -> enc -> dense(1) }"),
              "block 'b' combines values, so it can only be a step of the chain of a "
              "head or a shared value, not of a shared module or of the layers given for "
              "a parameter");
  expectError("block b(k) { mix(each_task(in), in, in) }\n" + head,
              "each_task takes one chain, whose layers each task that reads it gets a "
              "copy of, as in 'each_task(x -> dense(4) -> softmax)'; 'in' has no layers");
  expectError("block b(k) { mix(each_task(in * 2), in, in) }\n" + head,
              "each_task copies layers for each task, and 'in * 2' makes none; write it "
              "without each_task");
  expectError(model("  input x : f32[4]\n"
                    "  task a : regress { head = in -> dense(1) }"),
              "unknown input or shared value 'in'");
  expectError("block b(k) { in + (in -> c) }\nblock c { dense(4) -> b(1) }\n" + head,
              "block 'b' calls itself through 'c'");
}

} // namespace
} // namespace mtl::sema::test
