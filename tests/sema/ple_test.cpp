// ple(levels, shared_experts, task_experts, expert): progressive layered
// extraction built for each reading task, its layers and values made once.
#include "SemaTestUtil.h"

#include <fmt/format.h>

#include <algorithm>

namespace mtl::sema::test {
namespace {

// The mixes of `m` as "gate: expert, expert, ...", in the order they were made.
std::vector<std::string> mixesOf(const Model &m) {
  std::vector<std::string> out;
  for (const Value &v : m.values) {
    if (v.kind != Value::Mix)
      continue;
    std::string text = v.argTexts.front() + ":";
    for (size_t k = 1; k < v.argTexts.size(); ++k)
      text += " " + v.argTexts[k];
    out.push_back(text);
  }
  return out;
}

// Three tasks, two levels: every task's experts and gate at each level, a
// shared gate over every expert before the last level, each made once
// however many tasks read the value.
TEST(Ple, LevelsHaveEachTasksExpertsAndGateAndASharedGateBeforeTheLast) {
  Checked c = check(model("  input x : f32[6]\n"
                          "  shared ext = x -> ple(levels = 2, shared_experts = 1, task_experts = "
                          "2, expert = dense(4) -> relu)\n"
                          "  task a : regress { head = ext -> dense(1) }\n"
                          "  task b : regress { head = ext -> dense(1) }\n"
                          "  task c : regress { head = ext -> dense(1) }"));
  ASSERT_EQ(c.errors, 0u) << c.text;
  const Model &m = c.model();
  std::vector<std::string> layers = layersOf(m, "ext");
  auto has = [&](const std::string &l) { return std::count(layers.begin(), layers.end(), l) == 1; };
  for (const char *level : {"ext.0.0", "ext.0.1"}) {
    for (const char *t : {"a", "b", "c"})
      for (const char *j : {"0", "1"})
        EXPECT_TRUE(has(fmt::format("{}.experts.{}.{}.0=dense[4]", level, t, j))) << level << t;
    EXPECT_TRUE(has(std::string(level) + ".shared.0.0=dense[4]"));
    for (const char *t : {"a", "b", "c"})
      EXPECT_TRUE(has(fmt::format("{}.gates.{}.0=dense[3]", level, t)));
  }
  EXPECT_TRUE(has("ext.0.0.shared_gate.0=dense[7]"));
  EXPECT_TRUE(has("ext.0.0.shared_gate.1=softmax[7]"));
  // Two levels of 3 x 2 + 1 experts and 3 gates, and level 0's shared gate: 2 layers each.
  EXPECT_EQ(layers.size(), size_t(2 * (2 * (3 * 2 + 1 + 3) + 1)));
  EXPECT_EQ(mixesOf(m),
            (std::vector<std::string>{
                "ext.0.0.gates.a: ext.0.0.experts.a[0] ext.0.0.experts.a[1] ext.0.0.shared[0]",
                "ext.0.0.gates.b: ext.0.0.experts.b[0] ext.0.0.experts.b[1] ext.0.0.shared[0]",
                "ext.0.0.gates.c: ext.0.0.experts.c[0] ext.0.0.experts.c[1] ext.0.0.shared[0]",
                "ext.0.0.shared_gate: ext.0.0.experts.a[0] ext.0.0.experts.a[1] "
                "ext.0.0.experts.b[0] ext.0.0.experts.b[1] ext.0.0.experts.c[0] "
                "ext.0.0.experts.c[1] ext.0.0.shared[0]",
                "ext.0.1.gates.a: ext.0.1.experts.a[0] ext.0.1.experts.a[1] ext.0.1.shared[0]",
                "ext.0.1.gates.b: ext.0.1.experts.b[0] ext.0.1.experts.b[1] ext.0.1.shared[0]",
                "ext.0.1.gates.c: ext.0.1.experts.c[0] ext.0.1.experts.c[1] ext.0.1.shared[0]"}));
  // Each task reads its own last mixture, whose task experts read its
  // level-0 mixture and whose shared experts read the shared gate's.
  for (const char *t : {"a", "b", "c"}) {
    const Value &head = m.values[size_t(taskOf(m, t).head)];
    const Value &last = m.values[size_t(head.arg)];
    ASSERT_EQ(last.kind, Value::Mix);
    EXPECT_EQ(last.argTexts.front(), fmt::format("ext.0.1.gates.{}", t));
    // The gate of the mixture the first expert of `stack` reads.
    auto firstInput = [&](int stack) {
      const Value &expert = m.values[size_t(m.values[size_t(stack)].args.front())];
      const Value &input = m.values[size_t(expert.arg)];
      return input.kind == Value::Mix ? input.argTexts.front() : std::string("not a mixture");
    };
    EXPECT_EQ(firstInput(last.args[1]), fmt::format("ext.0.0.gates.{}", t));
    EXPECT_EQ(firstInput(last.args[2]), "ext.0.0.shared_gate");
  }
}

// The tasks are those that read the value: a task that does not (c) has no
// experts or gates at any level, and the shared gate mixes the others'.
TEST(Ple, OnlyTheTasksThatReadTheValueHaveExperts) {
  Checked c = check(model("  input x : f32[6]\n"
                          "  shared ext = x -> ple(2, 1, 1, dense(4))\n"
                          "  shared top = ext -> dense(5)\n"
                          "  task a : regress { head = ext -> dense(1) }\n"
                          "  task b : regress { head = top -> dense(1) }\n"
                          "  task c : regress { head = x -> dense(1) }"));
  ASSERT_EQ(c.errors, 0u) << c.text;
  for (const std::string &l : layersOf(c.model(), "ext"))
    EXPECT_EQ(l.find(".c."), std::string::npos) << l;
  // Experts of one layer: (2 + 1) experts and 2 gates a level, and a shared gate.
  EXPECT_EQ(layersOf(c.model(), "ext").size(), size_t(2 * (3 + 2 * 2) + 2));
  EXPECT_EQ(mixesOf(c.model())[2], "ext.0.0.shared_gate: ext.0.0.experts.a[0] "
                                   "ext.0.0.experts.b[0] ext.0.0.shared[0]");
}

// In a head, ple serves the head's task alone, over every level.
TEST(Ple, InAHeadItServesItsTask) {
  Checked c = check(model("  input x : f32[6]\n"
                          "  task a : regress { head = x -> ple(2, 1, 1, dense(4)) -> dense(1) }\n"
                          "  task b : regress { head = x -> dense(1) }"));
  ASSERT_EQ(c.errors, 0u) << c.text;
  EXPECT_EQ(mixesOf(c.model()),
            (std::vector<std::string>{"a.0.0.gates.a: a.0.0.experts.a[0] a.0.0.shared[0]",
                                      "a.0.0.shared_gate: a.0.0.experts.a[0] a.0.0.shared[0]",
                                      "a.0.1.gates.a: a.0.1.experts.a[0] a.0.1.shared[0]"}));
}

// One level is CGC: no shared gate, and the experts of the reading task only
// (task b does not read it). ple works in a head and takes a block's layer
// parameter for its experts; a parameter named ple is that parameter.
TEST(Ple, OneLevelInAHeadWithABlocksLayers) {
  Checked c = check("block deep(e) { in -> ple(1, 2, 1, e -> e) }\n" +
                    model("  input x : f32[6]\n"
                          "  task a : regress { head = x -> deep(e = dense(5)) -> dense(1) }\n"
                          "  task b : regress { head = x -> dense(1) }"));
  ASSERT_EQ(c.errors, 0u) << c.text;
  EXPECT_EQ(layersOf(c.model(), "a"),
            (std::vector<std::string>{"a.0.0.experts.a.0.0=dense[5]",
                                      "a.0.0.experts.a.0.1=dense[5]", "a.0.0.shared.0.0=dense[5]",
                                      "a.0.0.shared.0.1=dense[5]", "a.0.0.shared.1.0=dense[5]",
                                      "a.0.0.shared.1.1=dense[5]", "a.0.0.gates.a.0=dense[3]",
                                      "a.0.0.gates.a.1=softmax[3]", "a.1=dense[1]"}));
}

// A soft-shared value gives every task a copy of its layers: it may read a
// ple (each copy reads its task's stream) but not hold one, nor each_task.
TEST(Ple, ASoftSharedValueMayReadAPleButNotHoldOne) {
  const std::string tasks = "  task a : regress { head = top -> dense(1) }\n"
                            "  task b : regress { head = top -> dense(1) }";
  Checked reads = check(model("  input x : f32[6]\n"
                              "  shared ext = x -> ple(2, 1, 1, dense(4))\n"
                              "  shared soft(0.1) top = ext -> dense(3)\n" +
                              tasks));
  ASSERT_EQ(reads.errors, 0u) << reads.text;
  EXPECT_EQ(layersOf(reads.model(), "top.a"), (std::vector<std::string>{"top.a.0=dense[3]"}));
  Checked holds = check(model("  input x : f32[6]\n"
                              "  shared soft(0.1) top = x -> ple(2, 1, 1, dense(4))\n" +
                              tasks));
  EXPECT_DIAG(holds, "ple builds a stream for every task, and shared block 'top' is soft-shared");
  Checked each = check(model("  input x : f32[6]\n"
                             "  shared soft(0.1) top = mix(each_task(x -> dense(2) -> softmax), "
                             "x -> dense(3), x -> dense(3))\n" +
                             tasks));
  EXPECT_DIAG(each, "each_task makes layers for each task that reads it, and shared block 'top' "
                    "is soft-shared");
}

TEST(Ple, Errors) {
  auto expectError = [](const std::string &src, const std::string &piece) {
    Checked c = check(src);
    EXPECT_GT(c.errors, 0u) << src;
    EXPECT_DIAG(c, piece);
  };
  auto with = [](const std::string &ple, const std::string &input = "f32[6]") {
    return model("  input x : " + input + "\n  shared ext = x -> " + ple +
                 "\n  task a : regress { head = ext -> dense(1) }");
  };
  expectError(with("ple(levels = 0, shared_experts = 1, task_experts = 1, expert = dense(4))"),
              "ple's levels must be at least 1, got 0");
  expectError(with("ple(levels = 2, shared_experts = 1, task_experts = 1)"),
              "missing argument 'expert' for ple");
  // The experts are layers, as for a layer parameter: not a shared module,
  // a block that combines values, or ple.
  expectError(model("  input x : f32[6]\n"
                    "  shared enc = dense(6) -> relu\n"
                    "  shared ext = x -> ple(2, 1, 1, enc)\n"
                    "  task a : regress { head = ext -> dense(1) }"),
              "'enc' is a shared block; ple's experts are layers and blocks, of which each expert "
              "gets a copy");
  expectError("block twice(k) { in + in }\n" + with("ple(2, 1, 1, twice(2))"),
              "block 'twice' combines values, so it can only be a step of the chain of a head or "
              "a shared value, not of a shared module or of the layers given for a parameter");
  expectError(with("ple(2, 1, 1, ple(1, 1, 1, dense(4)))"),
              "ple combines values, so it can only be a step of the chain of a head or a shared "
              "value");
  // A block's ple checks its experts even when its counts are parameters.
  expectError("block b(n) { in -> ple(n, 1, 1, dense(4) -> bogus) }\n" +
                  model("  input x : f32[6]\n  task a : regress { head = x -> dense(1) }"),
              "unknown layer or block 'bogus'");
  expectError(with("ple(2, 1, 1, 3)"),
              "ple's expert takes layers: a layer, a block or a chain of them, as in 'expert = "
              "dense(16) -> relu'; got");
  expectError(with("ple(2, 1, 1, dense(4))", "f32[1, 4, 4]"),
              "ple's experts and gates read vectors of f32 (flatten an image, embed ids first); "
              "it is applied to [1, 4, 4]");
  expectError(model("  input x : f32[6]\n"
                    "  shared enc = dense(4) -> ple(2, 1, 1, dense(4))\n"
                    "  task a : regress { head = x -> enc -> dense(1) }"),
              "ple combines values, so it can only be a step of the chain of a head or a shared "
              "value");
  expectError(with("ple(2, 1, 1, dense(4)) -> ple(2, 1, 1, dense(4))"),
              "ple reads one value for every task's stream, and the value it is applied to "
              "differs by task");
  expectError("block ple(k) { dense(k) }\n" + with("dense(4)"),
              "'ple' is a built-in block name and cannot name a block");
}

} // namespace
} // namespace mtl::sema::test
