// tasks_test.cpp: task kinds, head widths, losses, metrics, weights and defaults.
#include "SemaTestUtil.h"

namespace mtl::sema::test {
namespace {

// A model with input x : f32[4] and one task; the task starts on line 3.
Checked task(const std::string &kind, const std::string &fields) {
  return check(model("  input x : f32[4]\n  task t : " + kind + " { " + fields + " }"));
}

TEST(Tasks, KindsWidthsAndDefaults) {
  Checked c = check(model("  input x : f32[4]\n"
                          "  task r : regress { head = x -> dense(1) }\n"
                          "  task r3 : regress(3) { head = x -> dense(3) }\n"
                          "  task b : binary { head = x -> dense(1) }\n"
                          "  task c : classify(5) { head = x -> dense(5) }\n"
                          "  task l : multilabel(4) { head = x -> dense(4) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  ASSERT_EQ(m.tasks.size(), 5u);
  const Task &r = taskOf(m, "r"), &r3 = taskOf(m, "r3"), &b = taskOf(m, "b"), &cl = taskOf(m, "c"),
             &l = taskOf(m, "l");
  EXPECT_EQ(r.kind, TaskKind::Regress);
  EXPECT_EQ(r.width, 1);
  EXPECT_EQ(r.loss, Loss::Mse);
  EXPECT_EQ(r.metrics, std::vector<Metric>{Metric::Mse});
  EXPECT_EQ(r3.width, 3);
  EXPECT_EQ(b.kind, TaskKind::Binary);
  EXPECT_EQ(b.loss, Loss::Bce);
  EXPECT_EQ(b.metrics, std::vector<Metric>{Metric::Accuracy});
  EXPECT_EQ(cl.kind, TaskKind::Classify);
  EXPECT_EQ(cl.width, 5);
  EXPECT_EQ(cl.classes, 5);
  EXPECT_EQ(cl.loss, Loss::CrossEntropy);
  EXPECT_EQ(cl.metrics, std::vector<Metric>{Metric::Accuracy});
  EXPECT_EQ(l.kind, TaskKind::Multilabel);
  EXPECT_EQ(l.width, 4);
  EXPECT_EQ(l.loss, Loss::Bce);
  for (const Task &t : m.tasks) {
    EXPECT_DOUBLE_EQ(t.weight, 1.0);
    EXPECT_FALSE(t.auxiliary);
    EXPECT_GE(t.head, 0);
    EXPECT_EQ(m.values[t.head].shape, Shape{t.width});
  }
}

TEST(Tasks, ClassesFixTheVocabulary) {
  Checked c = task("classify(3)", "head = x -> dense(3) classes = [Adelie, \"Chin strap\", 3]");
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  EXPECT_EQ(c.model().tasks[0].classNames, (std::vector<std::string>{"Adelie", "Chin strap", "3"}));
  Checked b = task("binary", "head = x -> dense(1) classes = [no, yes]");
  ASSERT_EQ(b.models.size(), 1u) << b.text;
  EXPECT_EQ(b.model().tasks[0].classNames, (std::vector<std::string>{"no", "yes"}));
  EXPECT_DIAG(task("classify(3)", "head = x -> dense(3) classes = [a, b]"),
              "m.mtl:3:57: error: task 't' is classify(3), but 'classes' lists 2 names");
  EXPECT_DIAG(task("binary", "head = x -> dense(1) classes = [a, b, c]"),
              "m.mtl:3:52: error: a binary task has two classes, the one for 0 and the one for 1; "
              "'classes' lists 3");
  EXPECT_DIAG(task("classify(2)", "head = x -> dense(2) classes = [a, a]"),
              "m.mtl:3:61: error: class 'a' is listed twice");
  EXPECT_DIAG(task("classify(2)", "head = x -> dense(2) classes = a"),
              "error: 'classes' takes a list of class names, such as classes = [\"no\", "
              "\"yes\"]; got");
  EXPECT_DIAG(task("classify(2)", "head = x -> dense(2) classes = [a, 1.5]"),
              "error: a class name is a name, a non-empty string or an integer; got");
  EXPECT_DIAG(task("regress", "head = x -> dense(1) classes = [a, b]"),
              "error: 'classes' suits classify and binary tasks; task 't' is regress");
}

TEST(Tasks, FieldsAreRead) {
  Checked c = task("regress(2)", "head = x -> dense(2) loss = huber(delta = 0.5) weight = 0.25 "
                                 "metrics = mae, r2 auxiliary");
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Task &t = c.model().tasks[0];
  EXPECT_EQ(t.loss, Loss::Huber);
  EXPECT_DOUBLE_EQ(t.huberDelta, 0.5);
  EXPECT_DOUBLE_EQ(t.weight, 0.25);
  EXPECT_EQ(t.metrics, (std::vector<Metric>{Metric::Mae, Metric::R2}));
  EXPECT_TRUE(t.auxiliary);
  EXPECT_DIAG(c, "warning: every task of model 'm' is auxiliary");
  Checked h = task("regress", "head = x -> dense(1) loss = huber weight = 1 / 4");
  ASSERT_EQ(h.models.size(), 1u) << h.text;
  EXPECT_DOUBLE_EQ(h.model().tasks[0].huberDelta, 1.0);
  EXPECT_DOUBLE_EQ(h.model().tasks[0].weight, 0.25);
}

TEST(Tasks, HeadWidthMustMatchKind) {
  Checked c = check(model("  input x : f32[4]\n  task species : classify(3) {\n"
                          "    head = x -> dense(5)\n  }"));
  EXPECT_DIAG(c, "m.mtl:4:17: error: task 'species' is classify(3) but its head produces [5]; "
                 "the head must end in width 3\n"
                 "    head = x -> dense(5)\n"
                 "                ^~~~~~~~\n"
                 "m.mtl:3:18: note: 'species' is declared classify(3) here\n");
  EXPECT_DIAG(task("binary", "head = x"), "error: task 't' is binary but its head produces [4]");
  EXPECT_DIAG(
      task("regress(2)", "head = x -> dense(3)"),
      "error: task 't' is regress(2) but its head produces [3]; the head must end in width 2");
}

TEST(Tasks, HeadProducingIdsIsAnError) {
  Checked c = check(model("  input ids : i32[1]\n  task t : regress { head = ids }"));
  EXPECT_DIAG(c, "error: the head of task 't' produces i32 ids");
}

TEST(Tasks, LossMustSuitKind) {
  EXPECT_DIAG(task("classify(3)", "head = x -> dense(3) loss = bce"),
              "m.mtl:3:54: error: loss 'bce' needs a binary or multilabel task; 't' is "
              "classify(3); use 'cross_entropy'");
  EXPECT_DIAG(task("binary", "head = x -> dense(1) loss = cross_entropy"),
              "error: loss 'cross_entropy' needs a classify task; 't' is binary; use 'bce'");
  EXPECT_DIAG(task("regress", "head = x -> dense(1) loss = bce"),
              "error: loss 'bce' needs a binary or multilabel task; 't' is regress; use 'mse', "
              "'mae' or 'huber'");
  EXPECT_DIAG(task("multilabel(2)", "head = x -> dense(2) loss = mse"),
              "error: loss 'mse' needs a regression task; 't' is multilabel(2); use 'bce'");
  EXPECT_DIAG(task("regress", "head = x -> dense(1) loss = msee"),
              "error: unknown loss 'msee'; did you mean 'mse'?");
  EXPECT_DIAG(task("regress", "head = x -> dense(1) loss = huber(0)"),
              "error: huber delta must be a positive float from 1.2e-38 to 3.4e+38, got 0");
  EXPECT_DIAG(task("regress", "head = x -> dense(1) loss = mse(2)"),
              "error: mse expects no arguments, got 1");
  EXPECT_DIAG(task("regress", "head = x -> dense(1) loss = 3"),
              "error: expected a loss, got a number");
}

TEST(Tasks, MetricsMustSuitKind) {
  EXPECT_DIAG(task("classify(3)", "head = x -> dense(3) metrics = accuracy, auc"),
              "error: metric 'auc' needs a binary or multilabel task; 't' is classify(3); use "
              "'accuracy' or 'macro_f1'");
  EXPECT_DIAG(task("binary", "head = x -> dense(1) metrics = r2"),
              "error: metric 'r2' needs a regression task; 't' is binary; use 'accuracy', "
              "'precision', 'recall', 'f1' or 'auc'");
  EXPECT_DIAG(task("regress", "head = x -> dense(1) metrics = accuracy"),
              "error: metric 'accuracy' needs a binary, multilabel or classify task; 't' is "
              "regress; use 'mse', 'mae' or 'r2'");
  EXPECT_DIAG(task("regress", "head = x -> dense(1) metrics = msa"),
              "error: unknown metric 'msa'; did you mean 'mse'?");
  Checked twice = task("binary", "head = x -> dense(1) metrics = auc, f1, auc");
  ASSERT_EQ(twice.models.size(), 1u);
  EXPECT_DIAG(twice, "warning: metric 'auc' is listed twice");
  EXPECT_EQ(twice.model().tasks[0].metrics, (std::vector<Metric>{Metric::Auc, Metric::F1}));
}

TEST(Tasks, KindErrors) {
  EXPECT_DIAG(task("clasify(3)", "head = x -> dense(3)"),
              "m.mtl:3:12: error: unknown task kind 'clasify'; did you mean 'classify'?");
  EXPECT_DIAG(task("classify(1)", "head = x -> dense(1)"),
              "error: the number of classes must be at least 2, got 1");
  EXPECT_DIAG(task("classify", "head = x -> dense(1)"), "error: missing argument 'k' for classify");
  EXPECT_DIAG(task("binary(2)", "head = x -> dense(1)"),
              "error: binary expects no arguments, got 1");
  EXPECT_DIAG(task("regress(0)", "head = x -> dense(1)"),
              "error: the number of outputs must be at least 1, got 0");
  EXPECT_DIAG(
      task("5", "head = x -> dense(1)"),
      "error: expected a task kind (regress, binary, classify(k) or multilabel(k)), got a number");
  // A bad kind does not cascade into head width or loss complaints.
  Checked c = task("clasify(3)", "head = x -> dense(5) loss = bce metrics = auc");
  EXPECT_EQ(c.errors, 1u) << c.text;
}

TEST(Tasks, WeightMustBeFiniteAndNonNegative) {
  EXPECT_DIAG(task("regress", "head = x -> dense(1) weight = -0.5"),
              "m.mtl:3:52: error: weight must be finite and non-negative, got -0.5");
  EXPECT_DIAG(task("regress", "head = x -> dense(1) weight = 1e308 * 10"),
              "error: arithmetic overflow: the result is not finite");
  Checked zero = task("regress", "head = x -> dense(1) weight = 0");
  ASSERT_EQ(zero.models.size(), 1u);
  EXPECT_DOUBLE_EQ(zero.model().tasks[0].weight, 0.0);
}

TEST(Tasks, FieldErrors) {
  EXPECT_DIAG(task("regress", "head = x -> dense(1) los = mse"),
              "m.mtl:3:43: error: unknown task field 'los'; did you mean 'loss'?");
  Checked dup = task("regress", "head = x -> dense(1) loss = mse loss = mae");
  EXPECT_DIAG(dup, "m.mtl:3:54: error: duplicate field 'loss' in task 't'\n");
  EXPECT_DIAG(dup, "m.mtl:3:43: note: previous definition is here");
  EXPECT_DIAG(task("regress", "loss = mse"),
              "m.mtl:3:8: error: task 't' has no head; add 'head = INPUT -> ...'");
  EXPECT_DIAG(task("regress", "head"), "error: 'head' needs a value: head = INPUT -> ...");
  EXPECT_DIAG(task("regress", "head = x -> dense(1), x -> dense(1)"),
              "error: a task has one head, got 2 chains");
  EXPECT_DIAG(task("regress", "head = x -> dense(1) loss = mse -> mae"),
              "error: 'loss' takes a single value, not a chain");
  EXPECT_DIAG(task("regress", "head = x -> dense(1) weight = 1, 2"),
              "error: 'weight' takes one value, got 2");
  EXPECT_DIAG(task("regress", "head = x -> dense(1) auxiliary = 3"),
              "error: expected true or false, got a number");
}

TEST(Tasks, SoftmaxOrSigmoidBeforeLogitLossWarns) {
  Checked c = task("classify(3)", "head = x -> dense(3) -> softmax");
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_DIAG(c, "m.mtl:3:50: warning: the head of task 't' ends in 'softmax', but loss "
                 "'cross_entropy' expects logits and applies softmax itself; remove the "
                 "'softmax'\n");
  EXPECT_DIAG(task("binary", "head = x -> dense(1) -> sigmoid"),
              "warning: the head of task 't' ends in 'sigmoid', but loss 'bce' expects logits "
              "and applies the sigmoid itself; remove the 'sigmoid'");
  EXPECT_NO_DIAG(task("regress", "head = x -> dense(1) -> sigmoid"), "warning");
  // With a wrong loss, the loss error is the news; no warning about it too.
  Checked wrong = task("classify(3)", "head = x -> dense(3) -> softmax loss = bce");
  EXPECT_EQ(wrong.errors, 1u) << wrong.text;
  EXPECT_NO_DIAG(wrong, "warning");
}

TEST(Tasks, ModelNeedsInputsAndTasks) {
  Checked c = check("model m {\n}\n");
  EXPECT_DIAG(c,
              "m.mtl:1:7: error: model 'm' has no input; declare one with 'input NAME : f32[n]'");
  EXPECT_DIAG(c, "m.mtl:1:7: error: model 'm' has no task; declare one with 'task NAME : KIND { "
                 "head = ... }'");
}

} // namespace
} // namespace mtl::sema::test
