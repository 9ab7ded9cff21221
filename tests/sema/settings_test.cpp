// settings_test.cpp: balance, regularize, optimizer and train settings.
#include "SemaTestUtil.h"

namespace mtl::sema::test {
namespace {

// Two tasks on a shared trunk plus the given settings (from line 7 on).
Checked withSettings(const std::string &settings) {
  return check(model(
      "  input x : f32[4]\n  shared trunk = x -> dense(8) -> relu\n"
      "  task species : classify(3) { head = trunk -> dense(3) metrics = accuracy, macro_f1 }\n"
      "  task mass : regress { head = trunk -> dense(1) metrics = mae }\n"
      "  data train = synthetic() {}\n" +
      settings));
}

TEST(Settings, Defaults) {
  Checked c = withSettings("");
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  EXPECT_EQ(m.balance.kind, BalanceKind::Static);
  EXPECT_TRUE(m.regularizers.empty());
  EXPECT_EQ(m.optimizer.kind, OptimizerKind::Adam);
  EXPECT_DOUBLE_EQ(m.optimizer.lr, 0.001);
  EXPECT_DOUBLE_EQ(m.optimizer.beta1, 0.9);
  EXPECT_DOUBLE_EQ(m.optimizer.beta2, 0.999);
  EXPECT_DOUBLE_EQ(m.optimizer.eps, 1e-8);
  EXPECT_DOUBLE_EQ(m.optimizer.weightDecay, 0);
  EXPECT_EQ(m.train.epochs, 10);
  EXPECT_EQ(m.train.batch, 32);
  EXPECT_EQ(m.train.seed, 0u);
  EXPECT_TRUE(m.train.shuffle);
  EXPECT_EQ(m.train.trainData, std::vector<int>{0});
  EXPECT_TRUE(m.train.validateData.empty());
  EXPECT_DOUBLE_EQ(m.train.validateFraction, 0);
  EXPECT_TRUE(m.train.testData.empty());
  EXPECT_FALSE(m.train.earlyStop.enabled);
}

TEST(Settings, Balance) {
  Checked ok = withSettings("  balance static");
  ASSERT_EQ(ok.models.size(), 1u) << ok.text;
  EXPECT_EQ(ok.model().balance.loc.line, 7);
  EXPECT_EQ(ok.model().balance.text, "static");
  // Each method's text is what the runtime parses: the argument by name,
  // given by position or by name, or its default.
  for (auto [written, kind, text] :
       {std::tuple{"gradnorm(2)", BalanceKind::GradNorm, "gradnorm(alpha = 2)"},
        std::tuple{"gradnorm", BalanceKind::GradNorm, "gradnorm(alpha = 1.5)"},
        std::tuple{"gradnorm(0)", BalanceKind::GradNorm, "gradnorm(alpha = 0)"},
        std::tuple{"dwa(temperature = 0.5)", BalanceKind::Dwa, "dwa(temperature = 0.5)"},
        std::tuple{"cagrad(0)", BalanceKind::CaGrad, "cagrad(c = 0)"},
        std::tuple{"pcgrad", BalanceKind::PcGrad, "pcgrad"},
        std::tuple{"aligned_mtl", BalanceKind::AlignedMtl, "aligned_mtl"},
        std::tuple{"uncertainty", BalanceKind::Uncertainty, "uncertainty"},
        std::tuple{"famo", BalanceKind::Famo, "famo"},
        std::tuple{"mgda(rep)", BalanceKind::MgdaRep, "mgda(rep)"},
        std::tuple{"mgda", BalanceKind::Mgda, "mgda"}}) {
    Checked c = withSettings(std::string("  balance ") + written);
    ASSERT_EQ(c.models.size(), 1u) << c.text;
    EXPECT_EQ(c.model().balance.kind, kind) << written;
    EXPECT_EQ(c.model().balance.text, text);
  }
  // A method on the tasks' gradients needs parameters that two tasks' heads
  // use, reached through combinations as well as chains.
  Checked combined = check(model("  input x : f32[4]\n  shared trunk = x -> dense(4)\n"
                                 "  shared both = concat(x, trunk)\n"
                                 "  task a : regress { head = both -> dense(1) }\n"
                                 "  task b : regress { head = x * 2 -> relu -> dense(1) }\n"
                                 "  task c : regress { head = both -> dense(1) }\n"
                                 "  data train = synthetic() {}\n  balance pcgrad"));
  EXPECT_EQ(combined.models.size(), 1u) << combined.text;
  EXPECT_DIAG(check(model("  input x : f32[4]\n  shared act = x -> relu\n"
                          "  task a : regress { head = act -> dense(1) }\n"
                          "  task b : regress { head = act + x -> dense(1) }\n"
                          "  data train = synthetic() {}\n  balance cagrad")),
              "m.mtl:7:11: error: balance 'cagrad' combines the tasks' gradients on the parameters "
              "they share, and model 'm' has no parameter that two tasks' heads use; balance it on "
              "the losses (static, dwa, rlw, uncertainty or famo)");
  EXPECT_DIAG(check(model("  input x : f32[4]\n  task a : regress { head = x -> dense(1) }\n"
                          "  data train = synthetic() {}\n  balance imtl")),
              "m.mtl:5:11: error: balance 'imtl' combines the tasks' gradients on the parameters "
              "they share, and model 'm' has one task");
  // A head that did not build is its own error, not a lack of sharing too.
  Checked broken = check(model("  input x : f32[4]\n  shared trunk = x -> dense(4)\n"
                               "  task a : regress { head = trunk -> dense(1) }\n"
                               "  task b : regress { head = trunk -> bogus(1) }\n"
                               "  data train = synthetic() {}\n  balance pcgrad"));
  EXPECT_NE(broken.text.find("bogus"), std::string::npos) << broken.text;
  EXPECT_EQ(broken.text.find("combines"), std::string::npos) << broken.text;
  EXPECT_DIAG(withSettings("  balance mgda(params)"),
              "m.mtl:7:16: error: mgda takes no argument (the shared parameters' gradients) or "
              "`rep` (the shared representation's), got 'params'");
  EXPECT_DIAG(withSettings("  balance uncertainty(1)"),
              "m.mtl:7:23: error: uncertainty expects no arguments, got 1");
  EXPECT_DIAG(withSettings("  balance statc"),
              "error: unknown balance method 'statc'; did you mean 'static'?");
  EXPECT_DIAG(withSettings("  balance static(1)"), "error: static expects no arguments, got 1");
  EXPECT_DIAG(withSettings("  balance gradnorm(alpha = -1)"),
              "error: alpha must be 0 or a positive float from 1.2e-38 to 3.4e+38, got -1");
  EXPECT_DIAG(withSettings("  balance cagrad(c = -0.5)"),
              "error: c must be 0 or a positive float from 1.2e-38 to 3.4e+38, got -0.5");
  // A float holds 1e-320 only as a denormal, which training flushes to 0.
  EXPECT_DIAG(withSettings("  balance dwa(temperature = 1e-320)"),
              "error: temperature must be a positive float from 1.2e-38 to 3.4e+38, got 1e-320");
}

TEST(Settings, Regularize) {
  Checked c =
      withSettings("  regularize l2(1e-4)\n  regularize l1(lambda = 1e-5) on trunk, species");
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  ASSERT_EQ(m.regularizers.size(), 2u);
  EXPECT_EQ(m.regularizers[0].kind, Regularizer::L2);
  EXPECT_DOUBLE_EQ(m.regularizers[0].lambda, 1e-4);
  EXPECT_TRUE(m.regularizers[0].modules.empty()); // every parameter
  EXPECT_EQ(m.regularizers[1].kind, Regularizer::L1);
  EXPECT_EQ(m.regularizers[1].modules,
            (std::vector<int>{moduleIndex(m, "trunk"), moduleIndex(m, "species")}));
}

TEST(Settings, RegularizeSoftCopies) {
  Checked c = check(model("  input x : f32[4]\n  shared soft(0.1) trunk = x -> dense(8)\n"
                          "  task a : regress { head = trunk -> dense(1) }\n"
                          "  task b : regress { head = trunk -> dense(1) }\n"
                          "  regularize l2(0.5) on trunk"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  EXPECT_EQ(m.regularizers.at(0).modules,
            (std::vector<int>{moduleIndex(m, "trunk.a"), moduleIndex(m, "trunk.b")}));
}

TEST(Settings, RegularizeErrors) {
  Checked c = withSettings("  regularize l3(1), l2(-1) on trnk, x\n  regularize l2");
  EXPECT_DIAG(c, "m.mtl:7:14: error: unknown regularizer 'l3'; did you mean 'l1'?");
  EXPECT_DIAG(c,
              "m.mtl:7:24: error: regularization strength must be finite and non-negative, got -1");
  EXPECT_DIAG(c, "m.mtl:7:31: error: unknown shared block or task 'trnk'; did you mean 'trunk'?");
  EXPECT_DIAG(c, "m.mtl:7:37: error: 'x' is an input; regularize names shared blocks and tasks");
  EXPECT_DIAG(c, "m.mtl:8:14: error: missing argument 'lambda' for l2");
  Checked none = check(model("  input x : f32[4]\n  shared trunk = x -> dense(4)\n"
                             "  task a : regress(4) { head = trunk }\n"
                             "  task b : regress(4) { head = trunk -> relu }\n"
                             "  regularize l2(0.1) on a\n  regularize l1(0.1) on b"));
  ASSERT_EQ(none.models.size(), 1u) << none.text;
  EXPECT_DIAG(none, "m.mtl:6:25: warning: 'a' has no parameters of its own to regularize");
  EXPECT_DIAG(none, "m.mtl:7:25: warning: 'b' has no parameters of its own to regularize");
  // 'a' owns no module: its term is dropped, not widened to every parameter.
  ASSERT_EQ(none.model().regularizers.size(), 1u);
  EXPECT_EQ(none.model().regularizers[0].modules, std::vector<int>{moduleIndex(none.model(), "b")});
}

TEST(Settings, Optimizers) {
  Checked sgd = withSettings("  optimizer sgd(0.1, momentum = 0.9)");
  ASSERT_EQ(sgd.models.size(), 1u) << sgd.text;
  EXPECT_EQ(sgd.model().optimizer.kind, OptimizerKind::Sgd);
  EXPECT_DOUBLE_EQ(sgd.model().optimizer.lr, 0.1);
  EXPECT_DOUBLE_EQ(sgd.model().optimizer.momentum, 0.9);
  EXPECT_EQ(sgd.model().optimizer.loc.line, 7);
  Checked adamw = withSettings("  optimizer adamw(0.01, 0.8, eps = 1e-6)");
  ASSERT_EQ(adamw.models.size(), 1u) << adamw.text;
  const Optimizer &o = adamw.model().optimizer;
  EXPECT_EQ(o.kind, OptimizerKind::AdamW);
  EXPECT_DOUBLE_EQ(o.lr, 0.01);
  EXPECT_DOUBLE_EQ(o.beta1, 0.8);
  EXPECT_DOUBLE_EQ(o.beta2, 0.999);
  EXPECT_DOUBLE_EQ(o.eps, 1e-6);
  EXPECT_DOUBLE_EQ(o.weightDecay, 0.01);
  Checked adam = withSettings("  optimizer adam");
  ASSERT_EQ(adam.models.size(), 1u);
  EXPECT_EQ(adam.model().optimizer.kind, OptimizerKind::Adam);
}

TEST(Settings, OptimizerErrors) {
  EXPECT_DIAG(withSettings("  optimizer adam(lrr = 0.1)"),
              "m.mtl:7:18: error: unknown argument 'lrr' for adam; did you mean 'lr'?");
  EXPECT_DIAG(withSettings("  optimizer sgd"), "error: missing argument 'lr' for sgd");
  EXPECT_DIAG(withSettings("  optimizer sgd(0.1, beta1 = 0.9)"),
              "error: unknown argument 'beta1' for sgd");
  EXPECT_DIAG(withSettings("  optimizer adam(0)"), "error: lr must be positive, got 0");
  EXPECT_DIAG(withSettings("  optimizer adam(beta2 = 1)"), "error: beta2 must be in [0, 1), got 1");
  EXPECT_DIAG(withSettings("  optimizer adamw(weight_decay = -1)"),
              "error: weight_decay must be non-negative, got -1");
  EXPECT_DIAG(withSettings("  optimizer adam(0.1, 0.9, 0.9, 1e-8, 0.1)"),
              "error: adam expects 0 to 4 arguments (lr, beta1, beta2, eps), got 5");
  EXPECT_DIAG(withSettings("  optimizer adma"),
              "error: unknown optimizer 'adma'; did you mean 'adam'?");
  EXPECT_DIAG(withSettings("  optimizer rmsprop"),
              "error: unknown optimizer 'rmsprop'; use 'sgd', 'adam' or 'adamw'");
}

TEST(Settings, Train) {
  Checked c = withSettings("  data val = synthetic(rows = 10) {}\n  data holdout = synthetic() {}\n"
                           "  train {\n    epochs = 50, batch = 16\n    seed = 7 shuffle = false,\n"
                           "    validate = val, test = holdout,\n"
                           "    early_stop = early_stop(patience = 3, monitor = species.macro_f1, "
                           "min_delta = 0.01)\n  }");
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const TrainConfig &t = c.model().train;
  EXPECT_EQ(t.epochs, 50);
  EXPECT_EQ(t.batch, 16);
  EXPECT_EQ(t.seed, 7u);
  EXPECT_FALSE(t.shuffle);
  EXPECT_EQ(t.trainData, std::vector<int>{0});
  EXPECT_EQ(t.validateData, std::vector<int>{1});
  EXPECT_EQ(t.testData, std::vector<int>{2});
  EXPECT_TRUE(t.earlyStop.enabled);
  EXPECT_EQ(t.earlyStop.patience, 3);
  EXPECT_EQ(t.earlyStop.monitor, "species.macro_f1");
  EXPECT_TRUE(t.earlyStop.maximize);
  EXPECT_DOUBLE_EQ(t.earlyStop.minDelta, 0.01);
  EXPECT_EQ(t.loc.line, 9);

  Checked frac =
      withSettings("  train { validate = 0.2, early_stop = early_stop(monitor = mass.mae) }");
  ASSERT_EQ(frac.models.size(), 1u) << frac.text;
  EXPECT_DOUBLE_EQ(frac.model().train.validateFraction, 0.2);
  EXPECT_FALSE(frac.model().train.earlyStop.maximize);
  Checked loss = withSettings("  train { validate = 0.1, early_stop = early_stop }");
  ASSERT_EQ(loss.models.size(), 1u) << loss.text;
  EXPECT_EQ(loss.model().train.earlyStop.monitor, "loss");
  EXPECT_EQ(loss.model().train.earlyStop.patience, 5);
}

// Early stopping keeps the smallest loss, mse and mae and the largest of every
// other metric (accuracy, the F1s, AUC, R²), whichever task it is on.
TEST(Settings, MonitorDirectionFollowsTheMetric) {
  for (auto [metric, maximize] :
       std::vector<std::pair<std::string, bool>>{{"mse", false}, {"mae", false}, {"r2", true}}) {
    Checked c =
        check(model("  input x : f32[4]\n"
                    "  task mass : regress { head = x -> dense(1) metrics = mse, mae, r2 }\n"
                    "  data train = synthetic() {}\n"
                    "  train { validate = 0.2, early_stop = early_stop(monitor = mass." +
                    metric + ") }"));
    ASSERT_EQ(c.models.size(), 1u) << c.text;
    EXPECT_EQ(c.model().train.earlyStop.maximize, maximize) << metric;
  }
  Checked accuracy = withSettings(
      "  train { validate = 0.2, early_stop = early_stop(monitor = species.accuracy) }");
  ASSERT_EQ(accuracy.models.size(), 1u) << accuracy.text;
  EXPECT_TRUE(accuracy.model().train.earlyStop.maximize);
  Checked loss = withSettings("  train { validate = 0.1, early_stop = early_stop }");
  ASSERT_EQ(loss.models.size(), 1u) << loss.text;
  EXPECT_FALSE(loss.model().train.earlyStop.maximize);
}

TEST(Settings, TrainErrors) {
  EXPECT_DIAG(withSettings("  train { epoch = 3 }"),
              "m.mtl:7:11: error: unknown train setting 'epoch'; did you mean 'epochs'?");
  Checked dup = withSettings("  train { batch = 3, batch = 4 }");
  EXPECT_DIAG(dup, "m.mtl:7:22: error: duplicate setting 'batch'");
  EXPECT_DIAG(dup, "m.mtl:7:11: note: previous definition is here");
  EXPECT_DIAG(withSettings("  train { epochs = 0 }"), "error: epochs must be at least 1, got 0");
  EXPECT_DIAG(withSettings("  train { batch = 1.5 }"), "error: batch must be an integer, got 1.5");
  EXPECT_DIAG(withSettings("  train { seed = -1 }"), "error: seed must be at least 0, got -1");
  EXPECT_DIAG(withSettings("  train { shuffle = 1 }"),
              "error: expected true or false, got a number");
  EXPECT_DIAG(withSettings("  train { validate = 1 }"),
              "error: validate must be a fraction in [0, 1) or a data set, got 1");
  EXPECT_DIAG(withSettings("  train { validate = trian }"),
              "error: unknown data set 'trian'; did you mean 'train'?");
  EXPECT_DIAG(withSettings("  train { validate = train }"),
              "error: validate names the training data set 'train'; hold out a fraction of it "
              "instead, such as validate = 0.2");
  EXPECT_DIAG(withSettings("  train { data = tset }"), "error: unknown data set 'tset'");
  EXPECT_DIAG(withSettings("  train { early_stop = early_stop(monitor = loss) }"),
              "m.mtl:7:11: error: early_stop needs validation data; set 'validate' to a "
              "fraction or a data set");
  EXPECT_DIAG(
      withSettings("  train { validate = 0.1, early_stop = early_stop(monitor = species.auc) }"),
      "error: task 'species' does not report 'auc'; it reports 'loss', 'accuracy' and 'macro_f1'");
  EXPECT_DIAG(withSettings(
                  "  train { validate = 0.1, early_stop = early_stop(monitor = species.acuracy) }"),
              "error: task 'species' does not report 'acuracy'; did you mean 'accuracy'?");
  EXPECT_DIAG(withSettings(
                  "  train { validate = 0.1, early_stop = early_stop(monitor = specis.accuracy) }"),
              "error: unknown task 'specis' in monitor; did you mean 'species'?");
  EXPECT_DIAG(
      withSettings("  train { validate = 0.1, early_stop = early_stop(monitor = accuracy) }"),
      "error: monitor must be 'loss', TASK.loss or TASK.METRIC, got 'accuracy'");
  EXPECT_DIAG(withSettings("  train { validate = 0.1, early_stop = early_stop(patience = 0) }"),
              "error: patience must be at least 1, got 0");
  EXPECT_DIAG(
      withSettings("  train { validate = 0.1, early_stop = 5 }"),
      "error: expected early_stop(patience = N, monitor = ..., min_delta = X), got a number");
}

TEST(Settings, MonitorOfTaskWithBadMetricsIsNotAGuess) {
  Checked c =
      check(model("  input x : f32[4]\n"
                  "  task t : binary { head = x -> dense(1) metrics = acuracy }\n"
                  "  train { validate = 0.2, early_stop = early_stop(monitor = t.accuracy) }"));
  EXPECT_DIAG(c, "error: unknown metric 'acuracy'; did you mean 'accuracy'?");
  EXPECT_EQ(c.errors, 1u) << c.text;
}

TEST(Settings, TrainingDataChoiceAndCoverage) {
  std::string decls = "  input x : f32[2]\n  input y : f32[1]\n"
                      "  task t : regress { head = x -> dense(1) }\n"
                      "  task u : regress { head = y -> dense(1) }\n";
  Checked only = check(model(decls + "  data d = csv(\"nowhere.csv\") { x = columns(0, 1) }"));
  EXPECT_DIAG(only, "m.mtl:6:8: error: data set 'd' does not bind input 'y'");
  EXPECT_DIAG(only, "m.mtl:6:8: error: data set 'd' does not bind task 't'");
  EXPECT_DIAG(only, "m.mtl:3:9: note: 'y' is declared here");
  Checked several = check(model(decls + "  data a = synthetic() {}\n  data b = synthetic() {}"));
  EXPECT_DIAG(several, "m.mtl:1:7: error: the model has 2 data sets and none is named 'train'; "
                       "choose the one to train on with 'train { data = NAME }' (or several: "
                       "data = [A, B])");
  Checked named = check(model(decls + "  data a = synthetic() {}\n  data train = synthetic() {}"));
  ASSERT_EQ(named.models.size(), 1u) << named.text;
  EXPECT_EQ(named.model().train.trainData, std::vector<int>{1});
  Checked none = check(model(decls));
  ASSERT_EQ(none.models.size(), 1u) << none.text;
  EXPECT_TRUE(none.model().train.trainData.empty());
  Checked test = check(model(
      decls + "  data train = synthetic() {}\n"
              "  data t2 = csv(\"nowhere.csv\") { x = columns(0, 1) y = column(2) t = column(3) }\n"
              "  train { test = t2 }"));
  // A data set that only tests may leave a task out (it is not scored there)...
  EXPECT_EQ(test.errors, 0u) << test.text;
  // ...but not an input.
  Checked noInput =
      check(model(decls + "  data train = synthetic() {}\n"
                          "  data t3 = csv(\"nowhere.csv\") { y = column(2) t = column(3) }\n"
                          "  train { validate = t3 }"));
  EXPECT_DIAG(noInput, "error: data set 't3' does not bind input 'x'");
  EXPECT_EQ(noInput.errors, 1u) << noInput.text;
}

} // namespace
} // namespace mtl::sema::test
