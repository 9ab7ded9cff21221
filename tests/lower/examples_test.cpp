// examples_test.cpp: every example model, and an in-memory model with soft
// sharing, dropout, layer norm, embeddings and an input named `step`, go through
// the real frontend and sema, then lowering and autodiff; the step verifies,
// runs on the interpreter, and passes sampled gradient checks.
#include "../autodiff/GradCheck.h"
#include "autodiff/Step.h"
#include "frontend/Imports.h"
#include "ir/Verifier.h"
#include "lower/Lower.h"
#include "sema/Sema.h"

#include <filesystem>
#include <limits>

using namespace mtl;
using namespace mtl::ir;

namespace {

/// Checks one model: lowering, differentiateStep, verify, a run, and central
/// differences on up to three elements of every parameter.
void checkModel(const sema::Model &m) {
  SCOPED_TRACE(m.name);
  lower::LoweredStep step = lower::lowerModel(m);
  ASSERT_TRUE(step.ok()) << step.errors.front().message;
  Graph forward = step.graph;
  ASSERT_TRUE(autodiff::differentiateStep(step.graph, step.signature, true).empty());
  std::vector<Diagnostic> diags = verify(step.graph);
  ASSERT_TRUE(diags.empty()) << diags.front().message;
  EXPECT_EQ(step.signature.gradients.size(), step.graph.params().size());

  const int64_t batch = 3;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-1, 1);
  Feeds feeds;
  for (const Op &op : step.graph.ops()) {
    if (!isNamedLeaf(op.kind))
      continue;
    std::vector<double> &v = feeds[op.name];
    v.resize(static_cast<size_t>(op.type.elements(batch)));
    for (double &x : v) // id 0 is in every vocabulary; a buffer's running variance is positive
      x = op.type.dtype == DType::I32 ? 0.0
          : op.kind == OpKind::Buffer ? 1 + 0.5 * u(rng)
                                      : 0.5 * u(rng);
  }
  feeds["train.step"] = {1};
  for (size_t t = 0; t < m.tasks.size(); ++t) {
    const sema::Task &task = m.tasks[t];
    feeds["weight." + task.name] = {task.weight};
    std::vector<double> &y = feeds["target." + task.name];
    for (size_t i = 0; i < y.size(); ++i) {
      if (task.kind == sema::TaskKind::Classify)
        y[i] = static_cast<double>(i % static_cast<size_t>(task.classes));
      else if (task.kind != sema::TaskKind::Regress)
        y[i] = static_cast<double>(i % 2);
    }
    y[1] = std::numeric_limits<double>::quiet_NaN(); // one missing label per task
  }
  Execution ex = interpret(step.graph, feeds, {batch, false});
  ASSERT_TRUE(ex.ok()) << ex.error;
  ASSERT_TRUE(std::isfinite(ex[step.signature.loss][0]));

  for (auto [param, grad] : step.signature.gradients) {
    std::vector<double> &w = feeds[step.graph.op(param).name];
    for (size_t i : {size_t{0}, w.size() / 2, w.size() - 1}) {
      const double analytic = ex[grad][i];
      auto errorAt = [&](double h) {
        double saved = w[i];
        w[i] = saved + h;
        double up = interpret(forward, feeds, {batch, false})[step.signature.loss][0];
        w[i] = saved - h;
        double down = interpret(forward, feeds, {batch, false})[step.signature.loss][0];
        w[i] = saved;
        double numeric = (up - down) / (2 * h);
        return std::fabs(analytic - numeric) /
               std::max({std::fabs(analytic), std::fabs(numeric), 1e-3});
      };
      // A relu's kink may lie within ±h of the sample (after batch_norm,
      // many values sit near 0): then the difference at h/10 decides. A
      // wrong gradient is wrong at both.
      double err = errorAt(1e-5);
      if (err >= 1e-6)
        err = std::min(err, errorAt(1e-6));
      EXPECT_LT(err, 1e-6) << step.graph.op(param).name << "[" << i << "]";
      gradcheck::gMax = std::max(gradcheck::gMax, err);
    }
  }
}

std::vector<sema::Model> analyze(std::vector<ast::File> files, SourceManager &sm,
                                 DiagnosticEngine &diags) {
  std::vector<sema::Model> models = sema::analyze(files, sm, diags);
  EXPECT_FALSE(diags.hasErrors()) << diags.render(false);
  return models;
}

} // namespace

TEST(LowerExamples, EveryExampleModel) {
  int checked = 0;
  for (const auto &entry : std::filesystem::directory_iterator(MTL_SOURCE_DIR "/examples")) {
    if (entry.path().extension() != ".mtl")
      continue;
    SCOPED_TRACE(entry.path().string());
    SourceManager sm;
    DiagnosticEngine diags(sm);
    std::vector<ast::File> files = loadWithImports(entry.path().string(), sm, diags);
    for (const sema::Model &m : analyze(std::move(files), sm, diags)) {
      checkModel(m);
      ++checked;
    }
  }
  EXPECT_GE(checked, 9); // one model per example file
}

TEST(LowerExamples, SoftSharingDropoutNormAndEmbeddings) {
  const char *text = R"(
model features {
  input step : f32[3]
  input ids : i32[2]
  shared soft(0.01) tower = dense(4) -> layer_norm -> gelu -> dropout(0.3)
  shared emb = ids -> embedding(5, 2) -> flatten
  task a : regress(2) {
    head = step -> tower -> dense(2)
    loss = huber(0.5)
  }
  task b : classify(3) {
    head = step -> tower -> dense(3)
    loss = cross_entropy
    weight = 0.7
  }
  task c : multilabel(2) {
    head = emb -> dense(2)
  }
  regularize l1(0.001) on tower, l2(0.01)
  train { seed = 3 }
}
)";
  SourceManager sm;
  DiagnosticEngine diags(sm);
  std::vector<ast::File> files = loadBufferWithImports("features.mtl", text, ".", sm, diags);
  std::vector<sema::Model> models = analyze(std::move(files), sm, diags);
  ASSERT_EQ(models.size(), 1u);
  ASSERT_EQ(models[0].softGroups.size(), 1u);
  EXPECT_EQ(models[0].softGroups[0].modules.size(), 2u);
  checkModel(models[0]);
}
