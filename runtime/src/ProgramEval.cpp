// ProgramEval.cpp: `NAME eval --checkpoint CK`: every task's losses and metrics on the run's
// held-out data.
//
// Which rows: the model's validation data set, or else the rows its
// `validate` fraction held out (the same split as the run, from the seed
// recorded in the checkpoint); then the test data set if there is one. A
// model with neither is evaluated on all its training data.
#include "ProgramCommands.h"
#include "mtlrt/Checkpoint.h"
#include "mtlrt/Program.h"
#include "mtlrt/Report.h"
#include "mtlrt/Trainer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mtlrt {
namespace {

struct EvalFlags {
  std::string checkpoint;
  std::vector<std::string> data;
  bool json = false;
  int threads = 2;
};

struct SplitReport {
  std::string name; ///< "validation", "test" or "train"
  EvalReport report;
};

/// The run's seed and validation fraction from the checkpoint (the model's if absent).
void runSettingsFrom(const Checkpoint &ck, TrainOptions &to) {
  ck.metaNumber("seed", to.seed);
  ck.metaNumber("validate", to.validate);
}

Result<std::vector<SplitReport>> evaluateSplits(const mtl_model &model, const EvalFlags &f) {
  Result<RunData> run = runData(model, f.data);
  if (!run)
    return run.takeError();
  const RunConfig &c = run->config;
  Result<Checkpoint> ck = readCheckpoint(f.checkpoint);
  if (!ck)
    return ck.takeError();
  TrainOptions to = c.train;
  runSettingsFrom(*ck, to);
  to.threads = f.threads;
  to.quiet = true;
  to.earlyStop = {};
  auto trainer = Trainer::create(&model, to);
  if (!trainer)
    return trainer.takeError();
  if (Status s = applyCheckpoint(*ck, *trainer, Restore::Trained); !s)
    return s.takeError();

  std::vector<SplitReport> out;
  auto evaluate = [&](const char *name, int index, bool heldOut) -> Status {
    Result<Dataset> data = loadConfigData(c, index, run->paths);
    if (!data)
      return data.takeError();
    std::vector<int64_t> rows;
    if (heldOut)
      rows = splitRows(data->rows, to.validate, to.seed).validation;
    else
      for (int64_t r = 0; r < data->rows; ++r)
        rows.push_back(r);
    Result<EvalReport> report = trainer->evaluate(*data, rows);
    if (!report)
      return report.takeError();
    out.push_back({name, std::move(*report)});
    return Ok{};
  };
  Status s = Ok{};
  if (c.validateData >= 0)
    s = evaluate("validation", c.validateData, false);
  else if (c.trainData >= 0 && to.validate > 0)
    s = evaluate("validation", c.trainData, true);
  if (s && c.testData >= 0)
    s = evaluate("test", c.testData, false);
  if (s && out.empty()) {
    if (c.trainData < 0)
      return fail(
          fmt::format("model '{}' names no data to evaluate on; add a `data` block", model.name));
    s = evaluate("train", c.trainData, false);
  }
  if (!s)
    return s.takeError();
  return out;
}

void printTable(const mtl_model &model, const std::vector<SplitReport> &splits) {
  for (const SplitReport &split : splits) {
    fmt::print("{} ({} rows): total loss {}\n", split.name, split.report.rows,
               formatValue(split.report.loss));
    for (int32_t t = 0; t < model.num_tasks; ++t) {
      const TaskScores &s = split.report.tasks[size_t(t)];
      std::string metrics;
      for (const MetricValue &m : s.metrics)
        metrics += fmt::format("  {} {}", m.name, formatValue(m.value));
      fmt::print("  {:<16} loss {}{}{}\n", s.name + (s.auxiliary ? " (aux)" : ""),
                 formatValue(s.loss), metrics,
                 s.labelled < double(split.report.rows)
                     ? fmt::format("  ({} labelled)", int64_t(s.labelled))
                     : std::string());
    }
  }
}

// NaN (an undefined metric) becomes null.
nlohmann::json number(double v) {
  return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
}

void printJson(const mtl_model &model, const std::string &checkpoint,
               const std::vector<SplitReport> &splits) {
  nlohmann::json j = {{"model", model.name}, {"checkpoint", checkpoint}};
  j["splits"] = nlohmann::json::array();
  for (const SplitReport &split : splits) {
    nlohmann::json tasks = nlohmann::json::array();
    for (const TaskScores &s : split.report.tasks) {
      nlohmann::json metrics = nlohmann::json::object();
      for (const MetricValue &m : s.metrics)
        metrics[m.name] = number(m.value);
      tasks.push_back({{"name", s.name},
                       {"auxiliary", s.auxiliary},
                       {"loss", number(s.loss)},
                       {"labelled", int64_t(s.labelled)},
                       {"metrics", metrics}});
    }
    j["splits"].push_back({{"name", split.name},
                           {"rows", split.report.rows},
                           {"loss", number(split.report.loss)},
                           {"tasks", tasks}});
  }
  fmt::print("{}\n", j.dump(2));
}

} // namespace

void addEvalCommand(CLI::App &app, const mtl_model &model, int &status) {
  auto f = std::make_shared<EvalFlags>();
  CLI::App *cmd = app.add_subcommand(
      "eval", "Every task's losses and metrics of a checkpoint on the held-out data");
  cmd->add_option("--checkpoint", f->checkpoint, "A checkpoint written by train")->required();
  addDataFlag(cmd, f->data);
  cmd->add_flag("--json", f->json, "Print JSON instead of a table");
  addThreadsFlag(cmd, f->threads);
  cmd->callback([f, &model, &status] {
    auto splits = evaluateSplits(model, *f);
    if (!splits) {
      fmt::print(stderr, "error: {}\n", splits.error());
      status = 1;
      return;
    }
    if (f->json)
      printJson(model, f->checkpoint, *splits);
    else
      printTable(model, *splits);
    status = 0;
  });
}

} // namespace mtlrt
