// lower_test.cpp: lowering hand-built sema::Model values into training steps,
// checked by value on the interpreter and by gradient checks through autodiff.
#include "LowerText.h"
#include "SemaModels.h"
#include "autodiff/Step.h"
#include "ir/Printer.h"
#include "lower/Lower.h"

#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mtl;
using namespace mtl::ir;
using namespace mtl::test;

namespace {

// A missing label (NaN in a target feed).
const double kMissing = std::numeric_limits<double>::quiet_NaN();

/// x:f32[4] -> trunk(dense 6, relu, dropout .25, layer_norm) -> species
/// (classify 3, cross-entropy) and sex (binary, bce, weight 0.5); l2(1e-3) on
/// everything and l1(1e-4) on the trunk.
sema::Model hardSharing() {
  sema::Model m;
  m.name = "penguins";
  m.train.seed = 7;
  m.inputs.push_back({"x", sema::DType::F32, {4}, {}});
  sema::Module trunk;
  trunk.name = "trunk";
  trunk.shared = true;
  trunk.layers = {dense("trunk.0", 4, 6), layer(sema::LayerKind::Relu, "trunk.1", {6}, {6}),
                  layer(sema::LayerKind::Dropout, "trunk.2", {6}, {6}),
                  layer(sema::LayerKind::LayerNorm, "trunk.3", {6}, {6})};
  trunk.layers[2].rate = 0.25;
  m.modules.push_back(trunk);
  m.modules.push_back({"species", {dense("species.0", 6, 3)}, {}, false, -1});
  m.modules.push_back({"sex", {dense("sex.0", 6, 1)}, {}, false, -1});
  m.values = {inputRef(0, {4}), apply(0, 0, {6}), apply(1, 1, {3}), apply(2, 1, {1})};
  m.tasks.push_back(task("species", sema::TaskKind::Classify, 3, 2, sema::Loss::CrossEntropy, 1));
  m.tasks.push_back(task("sex", sema::TaskKind::Binary, 1, 3, sema::Loss::Bce, 0.5));
  m.regularizers.push_back({sema::Regularizer::L2, 1e-3, {}, {}});
  m.regularizers.push_back({sema::Regularizer::L1, 1e-4, {0}, {}});
  return m;
}

} // namespace

TEST(Lower, SignatureNamesAndShapes) {
  sema::Model m = hardSharing();
  lower::LoweredStep step = lower::lowerModel(m);
  ASSERT_TRUE(step.ok()) << step.errors.front().message;
  const Graph &g = step.graph;
  const StepSignature &sig = step.signature;
  ASSERT_EQ(sig.inputs.size(), 1u);
  EXPECT_EQ(g.op(sig.inputs[0]).name, "x");
  ASSERT_EQ(sig.targets.size(), 2u);
  EXPECT_EQ(g.op(sig.targets[0]).name, "target.species");
  EXPECT_EQ(g.type(sig.targets[0]), TensorType::batch({1}));
  EXPECT_EQ(g.type(sig.outputs[0]), TensorType::batch({3}));
  EXPECT_EQ(g.type(sig.outputs[1]), TensorType::batch({1}));
  EXPECT_EQ(g.op(sig.taskWeights[1]).name, "weight.sex");
  EXPECT_GE(sig.step, 0);
  EXPECT_EQ(*g.result("loss"), sig.loss);
  std::vector<std::string> names;
  for (ValueId p : g.params())
    names.push_back(g.op(p).name + formatType(g.type(p)));
  EXPECT_EQ(names, (std::vector<std::string>{"trunk.0.weightf32[6, 4]", "trunk.0.biasf32[6]",
                                             "trunk.3.weightf32[6]", "trunk.3.biasf32[6]",
                                             "species.0.weightf32[3, 6]", "species.0.biasf32[3]",
                                             "sex.0.weightf32[1, 6]", "sex.0.biasf32[1]"}));
  int linearsOnX = 0; // the shared trunk is computed once and fans out
  for (const Op &op : g.ops())
    linearsOnX += op.kind == OpKind::Linear && op.operands[0] == sig.inputs[0];
  EXPECT_EQ(linearsOnX, 1);
  EXPECT_NE(print(g).find("linear %x, %trunk.0.weight, %trunk.0.bias : f32[B, 6]  // 5:3"),
            std::string::npos)
      << print(g);
}

TEST(Lower, TotalLossIsWeightedSumPlusPenalties) {
  sema::Model m = hardSharing();
  lower::LoweredStep step = lower::lowerModel(m);
  ASSERT_TRUE(step.ok());
  gradcheck::Case c = caseFor(m, step, 4);
  c.feeds["target.species"] = {0, 2, kMissing, 1};
  c.feeds["target.sex"] = {1, kMissing, 0, 0};
  gradcheck::fillRandom(c);
  Execution ex = interpret(c.graph, c.feeds, {4, false});
  ASSERT_TRUE(ex.ok()) << ex.error;
  const StepSignature &sig = step.signature;
  double expect = ex[sig.taskLosses[0]][0] + 0.5 * ex[sig.taskLosses[1]][0];
  for (ValueId p : c.graph.params()) {
    const std::string &name = c.graph.op(p).name;
    for (double v : c.feeds[name])
      expect += 1e-3 * v * v + (name.rfind("trunk.", 0) == 0 ? 1e-4 * std::fabs(v) : 0.0);
  }
  EXPECT_NEAR(ex[sig.loss][0], expect, 1e-12);
}

TEST(Lower, GradientsOfTheWholeStep) {
  sema::Model m = hardSharing();
  lower::LoweredStep step = lower::lowerModel(m);
  ASSERT_TRUE(step.ok());
  gradcheck::Case c = caseFor(m, step, 5);
  c.feeds["target.species"] = {0, 2, kMissing, 1, 1};
  c.feeds["target.sex"] = {1, kMissing, 0, 0, 1};
  EXPECT_LT(gradcheck::check(c), 1e-6);
  std::vector<Diagnostic> errors = autodiff::differentiateStep(step.graph, step.signature, false);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(step.signature.gradients.size(), 8u);
}

TEST(Lower, SharedRepresentationAndItsGram) {
  // Both heads read the trunk's output Z (after its layer norm): the
  // representation. With one row, a linear head y = Z W^T + b has
  // d/dZ = (d/dy) W and d/db = d/dy, so each task's gradient on Z is its
  // head bias's gradient times its head weight: the Gram matrix from the
  // parameter gradients, independently of the representation's sweep.
  sema::Model m = hardSharing();
  m.regularizers.clear(); // the bias gradients are then the tasks' own
  lower::LoweredStep step = lower::lowerModel(m);
  ASSERT_TRUE(step.ok());
  StepSignature &sig = step.signature;
  ASSERT_EQ(sig.sharedValues.size(), 1u);
  int readers = 0; // the heads' linear ops read it
  for (const Op &op : step.graph.ops())
    if (op.kind == OpKind::Linear && op.operands[0] == sig.sharedValues[0])
      ++readers;
  EXPECT_EQ(readers, 2);
  ASSERT_TRUE(autodiff::differentiateStep(step.graph, sig, true).empty());
  ASSERT_EQ(sig.repGram.size(), 4u);
  EXPECT_EQ(sig.repGram[1], sig.repGram[2]);
  gradcheck::Case c = caseFor(m, step, 1);
  c.feeds["target.species"] = {2};
  c.feeds["target.sex"] = {1};
  gradcheck::fillRandom(c);
  Execution ex = interpret(c.graph, c.feeds, {1, false});
  ASSERT_TRUE(ex.ok()) << ex.error;
  auto gradOf = [&](const std::string &name) {
    for (auto [param, grad] : sig.gradients)
      if (c.graph.op(param).name == name)
        return ex[grad];
    ADD_FAILURE() << name;
    return std::vector<double>{};
  };
  std::vector<std::vector<double>> dz; // per task, [6]
  for (const char *head : {"species", "sex"}) {
    std::vector<double> db = gradOf(std::string(head) + ".0.bias");
    const std::vector<double> &w = c.feeds[std::string(head) + ".0.weight"]; // [out, 6]
    dz.emplace_back(6, 0.0);
    for (size_t o = 0; o < db.size(); ++o)
      for (size_t k = 0; k < 6; ++k)
        dz.back()[k] += db[o] * w[o * 6 + k];
  }
  for (size_t i = 0; i < 2; ++i)
    for (size_t j = 0; j < 2; ++j) {
      double want = 0;
      for (size_t k = 0; k < 6; ++k)
        want += dz[i][k] * dz[j][k];
      EXPECT_NEAR(ex[sig.repGram[i * 2 + j]][0], want, 1e-12 + 1e-9 * std::fabs(want));
    }

  // A third task on the input alone: no value is shared by all three.
  m.modules.push_back({"solo", {dense("solo.0", 4, 1)}, {}, false, -1});
  m.values.push_back(apply(3, 0, {1}));
  m.tasks.push_back(task("solo", sema::TaskKind::Regress, 1, 4, sema::Loss::Mse, 1));
  lower::LoweredStep three = lower::lowerModel(m);
  ASSERT_TRUE(three.ok());
  EXPECT_TRUE(three.signature.sharedValues.empty());
  EXPECT_EQ(three.signature.sharedParams.size(), 4u); // the trunk's, shared by two tasks
}

TEST(Lower, SoftSharingPenalty) {
  // Two tasks, each with its own copy of a dense(3) -> tanh block, pulled
  // together by 0.1 * sum_t ||theta_t - theta_mean||^2.
  sema::Model m;
  m.inputs.push_back({"x", sema::DType::F32, {2}, {}});
  for (const char *t : {"a", "b"}) {
    sema::Module copy;
    copy.name = std::string("trunk.") + t;
    copy.softGroup = 0;
    copy.layers = {dense(copy.name + ".0", 2, 3),
                   layer(sema::LayerKind::Tanh, copy.name + ".1", {3}, {3})};
    m.modules.push_back(copy);
    m.modules.push_back({t, {dense(std::string(t) + ".0", 3, 1)}, {}, false, -1});
  }
  m.values = {inputRef(0, {2}), apply(0, 0, {3}), apply(1, 1, {1}), apply(2, 0, {3}),
              apply(3, 3, {1})};
  m.tasks.push_back(task("a", sema::TaskKind::Regress, 1, 2, sema::Loss::Mse, 1));
  m.tasks.push_back(task("b", sema::TaskKind::Regress, 1, 4, sema::Loss::Mae, 2));
  m.softGroups.push_back({"trunk", 0.1, {0, 2}, {}});
  lower::LoweredStep step = lower::lowerModel(m);
  ASSERT_TRUE(step.ok()) << step.errors.front().message;
  gradcheck::Case c = caseFor(m, step, 3);
  c.feeds["target.b"] = {0.5, kMissing, -0.5};
  EXPECT_LT(gradcheck::check(c), 1e-6);
  Execution ex = interpret(c.graph, c.feeds, {3, false});
  ASSERT_TRUE(ex.ok()) << ex.error;
  double expect = ex[step.signature.taskLosses[0]][0] + 2 * ex[step.signature.taskLosses[1]][0];
  for (const char *suffix : {".0.weight", ".0.bias"}) {
    const std::vector<double> &ta = c.feeds[std::string("trunk.a") + suffix];
    const std::vector<double> &tb = c.feeds[std::string("trunk.b") + suffix];
    for (size_t i = 0; i < ta.size(); ++i) {
      double mean = (ta[i] + tb[i]) / 2;
      expect += 0.1 * ((ta[i] - mean) * (ta[i] - mean) + (tb[i] - mean) * (tb[i] - mean));
    }
  }
  EXPECT_NEAR(ex[step.signature.loss][0], expect, 1e-12);
}

TEST(Lower, EmbeddingsActivationsAndRegressionLosses) {
  // ids:i32[2] -> embedding(5, 3) -> flatten -> dense(4) -> gelu -> leaky_relu
  // -> sigmoid -> softmax; heads: regress(2) huber(0.5) and regress(1) mae.
  sema::Model m;
  m.inputs.push_back({"ids", sema::DType::I32, {2}, {}});
  sema::Module enc;
  enc.name = "enc";
  enc.layers = {layer(sema::LayerKind::Embedding, "enc.0", {2}, {2, 3}),
                layer(sema::LayerKind::Flatten, "enc.1", {2, 3}, {6}),
                dense("enc.2", 6, 4),
                layer(sema::LayerKind::Gelu, "enc.3", {4}, {4}),
                layer(sema::LayerKind::LeakyRelu, "enc.4", {4}, {4}),
                layer(sema::LayerKind::Sigmoid, "enc.5", {4}, {4}),
                layer(sema::LayerKind::Softmax, "enc.6", {4}, {4})};
  enc.layers[0].vocab = 5;
  enc.layers[0].units = 3;
  enc.layers[4].alpha = 0.2;
  m.modules.push_back(enc);
  m.modules.push_back({"r", {dense("r.0", 4, 2)}, {}, false, -1});
  m.modules.push_back({"q", {dense("q.0", 4, 1)}, {}, false, -1});
  m.modules[2].layers[0].bias = false;
  m.values = {inputRef(0, {2}), apply(0, 0, {4}), apply(1, 1, {2}), apply(2, 1, {1})};
  m.tasks.push_back(task("r", sema::TaskKind::Regress, 2, 2, sema::Loss::Huber, 1));
  m.tasks.back().huberDelta = 0.5;
  m.tasks.push_back(task("q", sema::TaskKind::Regress, 1, 3, sema::Loss::Mae, 1));
  lower::LoweredStep step = lower::lowerModel(m);
  ASSERT_TRUE(step.ok()) << step.errors.front().message;
  EXPECT_FALSE(step.graph.findParam("q.0.bias").has_value());
  EXPECT_LT(step.signature.step, 0); // no dropout, no step input
  gradcheck::Case c = caseFor(m, step, 3);
  c.feeds["ids"] = {0, 4, 2, 2, 1, 3};
  c.feeds["target.r"] = {2, kMissing, -1, 0.3, kMissing, kMissing};
  EXPECT_LT(gradcheck::check(c), 1e-6);
}

// Each parameter's initialisation is PyTorch's default for its layer: dense
// U(±1/sqrt(fan_in)), layer norm weight 1 and bias 0, embedding N(0, 1).
TEST(Lower, RecordsEachParametersInitialisation) {
  sema::Model m = hardSharing();
  lower::LoweredStep step = lower::lowerModel(m);
  ASSERT_TRUE(step.ok()) << step.errors.front().message;
  const lower::StepModel &d = step.model;
  EXPECT_EQ(d.name, "penguins");
  EXPECT_EQ(d.tasks.size(), 2u);
  EXPECT_TRUE(d.hasPenalty);
  ASSERT_EQ(d.init.size(), step.graph.params().size());
  using Kind = lower::ParamInit::Kind;
  for (size_t i = 0; i < d.init.size(); ++i) {
    const std::string &name = step.graph.op(step.graph.params()[i]).name;
    const lower::ParamInit &init = d.init[i];
    if (name == "trunk.3.weight") {
      EXPECT_EQ(init.kind, Kind::Ones);
    } else if (name == "trunk.3.bias") {
      EXPECT_EQ(init.kind, Kind::Zeros);
    } else {
      // trunk.0 reads 4 features, the heads the trunk's 6.
      double fanIn = name.starts_with("trunk.0") ? 4 : 6;
      EXPECT_EQ(init.kind, Kind::Uniform) << name;
      EXPECT_DOUBLE_EQ(init.scale, 1 / std::sqrt(fanIn)) << name;
    }
  }
  sema::Model e;
  e.inputs.push_back({"ids", sema::DType::I32, {2}, {}});
  sema::Module enc;
  enc.name = "enc";
  enc.layers = {layer(sema::LayerKind::Embedding, "enc.0", {2}, {2, 3}),
                layer(sema::LayerKind::Flatten, "enc.1", {2, 3}, {6})};
  enc.layers[0].vocab = 5;
  enc.layers[0].units = 3;
  e.modules.push_back(enc);
  e.modules.push_back({"r", {dense("r.0", 6, 1)}, {}, false, -1});
  e.values = {inputRef(0, {2}), apply(0, 0, {6}), apply(1, 1, {1})};
  e.tasks.push_back(task("r", sema::TaskKind::Regress, 1, 2, sema::Loss::Mse, 1));
  step = lower::lowerModel(e);
  ASSERT_TRUE(step.ok()) << step.errors.front().message;
  EXPECT_FALSE(step.model.hasPenalty);
  ASSERT_EQ(step.model.init.size(), 3u); // enc.0.weight, r.0.weight, r.0.bias
  EXPECT_EQ(step.model.init[0].kind, Kind::Normal);
  EXPECT_EQ(step.model.init[0].scale, 1.0);
}

TEST(Lower, ErrorsAreValues) {
  sema::Model m = hardSharing();
  m.tasks[0].head = 42;
  EXPECT_FALSE(lower::lowerModel(m).ok());
  m = hardSharing();
  m.values[1].arg = 1; // a value that reads itself
  EXPECT_FALSE(lower::lowerModel(m).ok());
  m = hardSharing();
  m.modules[1].layers[0].inShape = {5}; // a dense that does not fit its input
  lower::LoweredStep step = lower::lowerModel(m);
  ASSERT_FALSE(step.ok());
  EXPECT_NE(step.errors[0].message.find("internal"), std::string::npos);
}

// A chain of shared values as long as a model may write lowers in a loop, not
// one nested call per link: on a thread with a 512 KB stack, 5,000 links
// (which took about 2.4 MB of stack when lowering recursed) lower, in order.
TEST(Lower, ALongChainOfSharedValuesTakesNoDeepRecursion) {
  constexpr int kLinks = 5000;
  std::string text = "model m { input x : f32[2]\nshared s0 = x -> relu\n";
  for (int i = 1; i < kLinks; ++i)
    text += fmt::format("shared s{} = s{} -> tanh\n", i, i - 1);
  text += fmt::format("task y : regress {{ head = s{} -> dense(1) }} }}\n", kLinks - 1);
  std::optional<sema::Model> model = checkText(text);
  ASSERT_TRUE(model);
  struct Job {
    const sema::Model *model;
    std::optional<lower::LoweredStep> step;
  } job{&*model, std::nullopt};
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 512 * 1024), 0);
  pthread_t thread;
  ASSERT_EQ(pthread_create(
                &thread, &attr,
                [](void *p) -> void * {
                  auto *j = static_cast<Job *>(p);
                  j->step = lower::lowerModel(*j->model);
                  return nullptr;
                },
                &job),
            0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  pthread_attr_destroy(&attr);
  ASSERT_TRUE(job.step && job.step->ok());
  // relu, then each link's tanh in the chain's order, then the head's dense.
  std::vector<OpKind> kinds;
  for (const Op &op : job.step->graph.ops())
    if (op.kind == OpKind::Relu || op.kind == OpKind::Tanh || op.kind == OpKind::Linear)
      kinds.push_back(op.kind);
  ASSERT_EQ(kinds.size(), size_t(kLinks + 1));
  EXPECT_EQ(kinds.front(), OpKind::Relu);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), OpKind::Tanh), kLinks - 1);
  EXPECT_EQ(kinds.back(), OpKind::Linear);
}
