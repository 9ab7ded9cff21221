// values_test.cpp: shared values and modules, hard and soft sharing, the value DAG.
#include "SemaTestUtil.h"

namespace mtl::sema::test {
namespace {

TEST(Values, HardSharedValueFeedsEveryTask) {
  Checked c = check(model("  input x : f32[4]\n  shared trunk = x -> dense(8) -> relu\n"
                          "  task a : regress { head = trunk -> dense(1) }\n"
                          "  task b : binary { head = trunk -> dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  ASSERT_EQ(m.values.size(), 4u);
  EXPECT_EQ(m.values[0].kind, Value::InputRef);
  EXPECT_EQ(m.values[0].input, 0);
  EXPECT_EQ(m.values[0].shape, Shape{4});
  const Value &trunk = m.values[1];
  EXPECT_EQ(trunk.kind, Value::Apply);
  EXPECT_EQ(trunk.arg, 0);
  EXPECT_EQ(m.modules[trunk.module].name, "trunk");
  EXPECT_TRUE(m.modules[trunk.module].shared);
  EXPECT_EQ(trunk.shape, Shape{8});
  EXPECT_EQ(m.values[taskOf(m, "a").head].arg, 1);
  EXPECT_EQ(m.values[taskOf(m, "b").head].arg, 1);
  EXPECT_EQ(layersOf(m, "trunk"),
            (std::vector<std::string>{"trunk.0=dense[8]", "trunk.1=relu[8]"}));
  EXPECT_FALSE(m.modules[moduleIndex(m, "a")].shared);
}

TEST(Values, SharedValueFromSharedValueAndHeadWithoutOwnLayers) {
  Checked c = check(model("  input x : f32[4]\n  shared trunk = x -> dense(8)\n"
                          "  shared tower = trunk -> dense(1)\n"
                          "  task a : regress { head = tower }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  const Value &head = m.values[taskOf(m, "a").head];
  EXPECT_EQ(m.modules[head.module].name, "tower");
  EXPECT_EQ(m.modules[m.values[head.arg].module].name, "trunk");
  EXPECT_EQ(layersOf(m, "tower"), std::vector<std::string>{"tower.0=dense[1]"});
}

TEST(Values, SharedModuleAppliedToTwoInputsSharesOneModule) {
  Checked c = check(model("  input a : f32[8]\n  input b : f32[8]\n"
                          "  shared enc = dense(16) -> relu\n"
                          "  task ta : regress { head = a -> enc -> dense(1) }\n"
                          "  task tb : regress { head = b -> enc -> dense(1) }\n"
                          "  task tc : binary { head = a -> enc -> dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  int enc = moduleIndex(m, "enc");
  int applications = 0;
  for (const Module &mod : m.modules)
    applications += mod.name == "enc";
  EXPECT_EQ(applications, 1);
  EXPECT_EQ(layersOf(m, "enc"), (std::vector<std::string>{"enc.0=dense[16]", "enc.1=relu[16]"}));
  const Value &ha = m.values[m.values[taskOf(m, "ta").head].arg];
  const Value &hb = m.values[m.values[taskOf(m, "tb").head].arg];
  const Value &hc = m.values[m.values[taskOf(m, "tc").head].arg];
  EXPECT_EQ(ha.module, enc);
  EXPECT_EQ(hb.module, enc);
  EXPECT_EQ(ha.arg, 0);
  EXPECT_EQ(hb.arg, 1);
  // The same module on the same value is one value: the activations are shared.
  EXPECT_EQ(m.values[taskOf(m, "ta").head].arg, m.values[taskOf(m, "tc").head].arg);
  (void)hc;
}

TEST(Values, SharedModuleNeedsTheSameInputShape) {
  Checked c = check(model("  input a : f32[10]\n  input b : f32[20]\n  shared enc = dense(8)\n"
                          "  task ta : regress { head = a -> enc -> dense(1) }\n"
                          "  task tb : regress { head = b -> enc -> dense(1) }"));
  EXPECT_DIAG(c, "m.mtl:6:35: error: shared module 'enc' is applied to [20] here but to [10] "
                 "before; its parameters need the same input shape at every use\n");
  EXPECT_DIAG(c, "m.mtl:5:35: note: first applied here");
  EXPECT_EQ(c.errors, 1u) << c.text;
}

TEST(Values, OwnLayersAroundSharedModulesCountPositionsAcrossSegments) {
  Checked c =
      check(model("  input a : f32[10]\n  input b : f32[20]\n  shared enc = dense(8) -> relu\n"
                  "  task ta : regress { head = a -> dense(8) -> enc -> dense(1) }\n"
                  "  task tb : regress { head = b -> dense(8) -> enc -> dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  EXPECT_EQ(layersOf(m, "ta"), (std::vector<std::string>{"ta.0=dense[8]", "ta.1=dense[1]"}));
  EXPECT_EQ(layersOf(m, "tb"), (std::vector<std::string>{"tb.0=dense[8]", "tb.1=dense[1]"}));
  EXPECT_EQ(m.paramCount(), (10 * 8 + 8) + (20 * 8 + 8) + (8 * 8 + 8) + 2 * 9);
}

TEST(Values, ErrorInsideSharedModuleNotesTheApplication) {
  Checked c = check(model("  input img : f32[1, 4, 4]\n  shared enc = dense(8)\n"
                          "  task t : regress { head = img -> enc -> dense(1) }"));
  EXPECT_DIAG(c, "m.mtl:3:16: error: dense expects a flat input of shape [n], got [1, 4, 4]; "
                 "insert 'flatten' before it\n");
  EXPECT_DIAG(c, "m.mtl:4:36: note: in application of shared module 'enc' here");
  EXPECT_EQ(c.errors, 1u) << c.text;
}

TEST(Values, SoftSharingMakesOneCopyPerTask) {
  Checked c = check(model("  input x : f32[4]\n  shared soft(0.01) trunk = x -> dense(8) -> relu\n"
                          "  task a : regress { head = trunk -> dense(1) }\n"
                          "  task b : binary { head = trunk -> dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  ASSERT_EQ(m.softGroups.size(), 1u);
  const SoftGroup &g = m.softGroups[0];
  EXPECT_EQ(g.block, "trunk");
  EXPECT_DOUBLE_EQ(g.lambda, 0.01);
  ASSERT_EQ(g.modules.size(), 2u);
  EXPECT_EQ(m.modules[g.modules[0]].name, "trunk.a");
  EXPECT_EQ(m.modules[g.modules[1]].name, "trunk.b");
  EXPECT_EQ(layersOf(m, "trunk.a"),
            (std::vector<std::string>{"trunk.a.0=dense[8]", "trunk.a.1=relu[8]"}));
  EXPECT_EQ(layersOf(m, "trunk.b"),
            (std::vector<std::string>{"trunk.b.0=dense[8]", "trunk.b.1=relu[8]"}));
  for (int id : g.modules) {
    EXPECT_EQ(m.modules[id].softGroup, 0);
    EXPECT_TRUE(m.modules[id].shared);
  }
  EXPECT_EQ(m.modules[m.values[m.values[taskOf(m, "a").head].arg].module].name, "trunk.a");
  EXPECT_EQ(m.modules[m.values[m.values[taskOf(m, "b").head].arg].module].name, "trunk.b");
  EXPECT_EQ(m.paramCount(), 2 * 40 + 2 * 9);
}

TEST(Values, SoftSharedModuleAndHardKeyword) {
  Checked c = check(model("  input x : f32[4]\n  shared soft(lambda = 0.5) enc = dense(4)\n"
                          "  shared hard trunk = x -> enc\n"
                          "  task a : regress { head = x -> enc -> dense(1) }\n"
                          "  task b : regress { head = x -> enc -> dense(1) }"));
  EXPECT_DIAG(c, "m.mtl:4:28: error: shared block 'trunk' is hard-shared and cannot use "
                 "soft-shared 'enc', of which every task has its own copy");
  Checked ok = check(model("  input x : f32[4]\n  shared soft(lambda = 0.5) enc = dense(4)\n"
                           "  task a : regress { head = x -> enc -> dense(1) }\n"
                           "  task b : regress { head = x -> enc -> dense(1) }"));
  ASSERT_EQ(ok.models.size(), 1u) << ok.text;
  EXPECT_EQ(layersOf(ok.model(), "enc.a"), std::vector<std::string>{"enc.a.0=dense[4]"});
  EXPECT_EQ(ok.model().softGroups.at(0).modules.size(), 2u);
}

TEST(Values, SoftSharingWithOneTaskWarns) {
  Checked c = check(model("  input x : f32[4]\n  shared soft(0.1) trunk = x -> dense(8)\n"
                          "  task a : regress { head = trunk -> dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  EXPECT_DIAG(c, "m.mtl:3:20: warning: soft-shared 'trunk' is used by one task only; soft "
                 "sharing needs two or more tasks to have an effect");
}

TEST(Values, SharingErrors) {
  EXPECT_DIAG(check(model("  input x : f32[4]\n  shared sotf(0.1) t = x -> dense(1)\n"
                          "  task a : regress { head = t }")),
              "m.mtl:3:10: error: unknown sharing 'sotf'; did you mean 'soft'?");
  EXPECT_DIAG(check(model("  input x : f32[4]\n  shared soft t = x -> dense(1)\n"
                          "  task a : regress { head = t }")),
              "error: missing argument 'lambda' for soft");
  EXPECT_DIAG(check(model("  input x : f32[4]\n  shared soft(-1) t = x -> dense(1)\n"
                          "  task a : regress { head = t }\n  task b : regress { head = t }")),
              "error: soft sharing strength must be finite and non-negative, got -1");
}

TEST(Values, UnusedSharedBlockWarnsIsCheckedAndLeftOut) {
  Checked c = check(model("  input x : f32[4]\n  shared unused = x -> dense(3)\n"
                          "  shared spare = dense(2) -> rleu\n"
                          "  task a : regress { head = x -> dense(1) }"));
  EXPECT_DIAG(c, "m.mtl:3:10: warning: shared block 'unused' is never used");
  EXPECT_DIAG(c, "m.mtl:4:10: warning: shared block 'spare' is never used");
  EXPECT_DIAG(c, "m.mtl:4:30: error: unknown layer 'rleu'; did you mean 'relu'?");
  Checked ok = check(model("  input x : f32[4]\n  shared unused = x -> dense(3)\n"
                           "  task a : regress { head = x -> dense(1) }"));
  ASSERT_EQ(ok.models.size(), 1u) << ok.text;
  EXPECT_EQ(moduleIndex(ok.model(), "unused"), -1);
  EXPECT_EQ(ok.model().modules.size(), 1u);
  EXPECT_EQ(ok.model().values.size(), 2u);
  EXPECT_EQ(ok.model().paramCount(), 5);
}

TEST(Values, NoUnusedWarningsThatEchoAnError) {
  Checked c = check(model("  input x : f32[4]\n  shared trunk = x -> dense(8)\n"
                          "  task a : regress { head = trnk -> dense(1) }"));
  EXPECT_EQ(c.text.find("warning"), std::string::npos) << c.text;
  EXPECT_EQ(c.errors, 1u) << c.text;
}

TEST(Values, UnusedInputWarns) {
  Checked c = check(model("  input x : f32[4]\n  input z : f32[2]\n"
                          "  task a : regress { head = x -> dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_DIAG(c, "m.mtl:3:9: warning: input 'z' is never used");
}

TEST(Values, ChainStartErrors) {
  std::string decls =
      "  input x : f32[4]\n  shared enc = dense(4)\n  shared trunk = x -> dense(4)\n";
  EXPECT_DIAG(check(model(decls + "  task a : regress { head = enc -> dense(1) }")),
              "m.mtl:5:29: error: a head must start from an input or a shared value; 'enc' is "
              "a shared module: apply it to an input, as in 'x -> enc'");
  EXPECT_DIAG(check(model(decls + "  task a : regress { head = dense(1) }")),
              "error: a head must start from an input or a shared value, got layer 'dense'");
  EXPECT_DIAG(check(model(decls + "  task a : regress { head = trnk -> dense(1) }")),
              "error: unknown input or shared value 'trnk'; did you mean 'trunk'?");
  EXPECT_DIAG(check(model(decls + "  task a : regress { head = 3 -> dense(1) }")),
              "error: a head must start from an input or a shared value, got a number");
  EXPECT_DIAG(check(model(decls + "  task a : regress { head = x -> trunk -> dense(1) }")),
              "error: 'trunk' is a shared value and can only start a chain");
  EXPECT_DIAG(check(model(decls + "  task a : regress { head = trunk -> x -> dense(1) }")),
              "error: input 'x' can only start a chain");
  EXPECT_DIAG(check(model(decls + "  task a : regress { head = x -> a }")),
              "error: 'a' is a task, not a layer");
  EXPECT_DIAG(check(model(decls + "  task a : regress { head = x(2) -> dense(1) }")),
              "error: 'x' takes no arguments");
  EXPECT_DIAG(
      check(
          model(decls + "  shared s = a -> dense(1)\n  task a : regress { head = x -> dense(1) }")),
      "error: a shared block cannot start from task 'a'");
  EXPECT_DIAG(check(model(decls + "  shared s = xx -> dense(1)\n  task a : regress { head = s }")),
              "error: unknown name 'xx'; did you mean 'x'?");
}

TEST(Values, SharedCycles) {
  Checked c = check(model("  input x : f32[4]\n  shared a = b -> relu\n  shared b = a -> relu\n"
                          "  shared c = dense(1) -> c\n  task t : regress { head = x -> c }"));
  EXPECT_DIAG(c, "m.mtl:4:14: error: shared block 'a' uses itself through 'b'");
  EXPECT_DIAG(c, "m.mtl:5:26: error: shared block 'c' uses itself");
  EXPECT_EQ(c.errors, 2u) << c.text;
}

TEST(Values, ComposedSharedModules) {
  Checked c = check(model("  input a : f32[8]\n  input b : f32[8]\n  shared proj = dense(8)\n"
                          "  shared enc = proj -> relu\n"
                          "  task ta : regress { head = a -> enc -> dense(1) }\n"
                          "  task tb : regress { head = b -> enc -> enc -> dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  int proj = moduleIndex(m, "proj"), enc = moduleIndex(m, "enc");
  int projUses = 0, encUses = 0;
  for (const Value &v : m.values) {
    projUses += v.kind == Value::Apply && v.module == proj;
    encUses += v.kind == Value::Apply && v.module == enc;
  }
  EXPECT_EQ(projUses, 3); // a -> enc, b -> enc, and enc again
  EXPECT_EQ(encUses, 3);
  EXPECT_EQ(m.paramCount(), 72 + 9 + 9);
  // Values come after what they read.
  for (size_t i = 0; i < m.values.size(); ++i) {
    if (m.values[i].kind == Value::Apply) {
      EXPECT_LT(m.values[i].arg, static_cast<int>(i));
    }
  }
}

// A chain inside a combination takes one position of its owner and numbers
// its layers under it; repeat's copies take one position each (a PyTorch
// ModuleList of Sequentials), and the chain after the combination goes on
// from the next position.
TEST(Values, NestedChainsAndRepeatNameLayersUnderOnePositionEach) {
  Checked c = check(model("  input x : f32[4]\n"
                          "  shared experts = repeat(3, x -> dense(8) -> relu)\n"
                          "  task a : regress { head = mix(x -> dense(3) -> softmax, experts) "
                          "+ 0.5 * (x -> dense(8)) -> dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  EXPECT_EQ(layersOf(m, "experts"),
            (std::vector<std::string>{"experts.0.0=dense[8]", "experts.0.1=relu[8]",
                                      "experts.1.0=dense[8]", "experts.1.1=relu[8]",
                                      "experts.2.0=dense[8]", "experts.2.1=relu[8]"}));
  EXPECT_EQ(layersOf(m, "a"), (std::vector<std::string>{"a.0.0=dense[3]", "a.0.1=softmax[3]",
                                                        "a.1.0=dense[8]", "a.2=dense[1]"}));
  const Value &mix = m.values[size_t(
      m.values[size_t(m.values[size_t(taskOf(m, "a").head)].arg)].args[0])]; // (mix + scale) -> mix
  EXPECT_EQ(mix.kind, Value::Mix);
  EXPECT_EQ(m.values[size_t(mix.args[1])].kind, Value::Stack);
  EXPECT_EQ(m.values[size_t(mix.args[1])].shape, (Shape{3, 8}));
  EXPECT_EQ(mix.argTexts,
            (std::vector<std::string>{"a.gate", "experts[0]", "experts[1]", "experts[2]"}));
}

// Gates written as chains (or learned) are named after their head's task or
// shared value; a second in the same place is NAME.gate2.
TEST(Values, UnnamedGatesInOneHeadGetNumberedNames) {
  Checked c =
      check(model("  input x : f32[4]\n"
                  "  shared e = repeat(2, x -> dense(3))\n"
                  "  task a : regress { head = mix(learned(0.5, 0.5), e) + "
                  "mix(x -> dense(2) -> softmax, e) + attend(x -> dense(3), e) -> dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  std::vector<std::string> gates;
  for (const Value &v : c.model().values)
    if (v.kind == Value::Mix || v.kind == Value::Attend)
      gates.push_back(v.argTexts.front());
  EXPECT_EQ(gates, (std::vector<std::string>{"a.gate", "a.gate2", "a.attention"}));
}

} // namespace
} // namespace mtl::sema::test
