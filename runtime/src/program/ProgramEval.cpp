// ProgramEval.cpp: `NAME eval --checkpoint CK`: every task's losses and metrics on the run's
// held-out data, or on every row of the files given with --data.
//
// Which rows: with --data NAME=FILE, every row of each file given. Else the
// model's validation data set, or the rows its `validate` fraction held out
// (the same split as the run: the seed, fractions and batch size come from
// the checkpoint, so the numbers are the run's to the last bit); then the test
// data set, or the rows its `test` fraction held out. A model with none of
// these is evaluated on all its training data. Labels are numbered by the
// checkpoint's class vocabulary.
#include "mtlrt/Checkpoint.h"
#include "mtlrt/Csv.h"
#include "mtlrt/Log.h"
#include "mtlrt/Program.h"
#include "mtlrt/Report.h"
#include "mtlrt/Trainer.h"
#include "program/ProgramCommands.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

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

/// The settings that decide which rows a run held out, and how it batched
/// them, from the checkpoint (the model's where absent).
void runSettingsFrom(const Checkpoint &ck, TrainOptions &to) {
  ck.metaNumber("seed", to.seed);
  ck.metaNumber("validate", to.validate);
  ck.metaNumber("test", to.test);
  ck.metaNumber("batch", to.batch);
}

/// Whether `--data` names data set `name` (NAME, or NAME.images and the like).
bool namedByFlags(const RunData &run, const std::string &name) {
  for (const auto &[key, path] : run.paths)
    if (key == name || key.starts_with(name + "."))
      return true;
  return false;
}

/// A CSV file given with --data may leave a task's label columns out: that
/// task's binding is dropped, and the task is not scored on the file.
void dropAbsentLabels(RunConfig &config, const RunData &run) {
  for (DataSpec &d : config.data) {
    if (d.kind != DataSpec::Csv || !namedByFlags(run, d.name))
      continue;
    DataSpec given = d;
    applyPaths(given, run.paths);
    Result<std::vector<std::string>> header = readCsvHeader(given.csv);
    if (!header)
      continue; // the loader says what is wrong with the file
    auto absent = [&](const ColumnSel &c) {
      return c.name.empty() ? c.index >= int64_t(header->size())
                            : std::find(header->begin(), header->end(), c.name) == header->end();
    };
    std::erase_if(d.bindings, [&](const BindingSpec &b) {
      return b.isTask && b.from == BindingSpec::Columns &&
             std::any_of(b.columns.begin(), b.columns.end(), absent);
    });
  }
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
  if (std::string note = otherModelNote(*ck, model, f.checkpoint); !note.empty())
    std::fprintf(stderr, "%s\n", note.c_str());
  RunConfig read = withVocabularies(c, trainer->classNames(), trainer->categories());
  dropAbsentLabels(read, *run);

  std::vector<SplitReport> out;
  enum Rows { All, HeldForValidation, HeldForTest };
  auto evaluate = [&](const std::string &name, std::span<const int> indices, Rows which) -> Status {
    Result<Dataset> data = loadConfigData(read, indices, run->paths);
    if (!data)
      return data.takeError();
    Split split = splitSources(*data, to.validate, to.seed, to.test);
    // Held-out rows are found again by splitting the model's training data as
    // the run did: data of another size (a run trained with --data) would
    // give other rows, some of them trained on.
    int64_t trainRows = 0, valRows = 0;
    const bool checkVal = c.validateData.empty();
    if (which != All && ck->metaNumber("train_rows", trainRows) && trainRows > 0 &&
        ck->metaNumber("val_rows", valRows) &&
        (int64_t(split.train.size()) != trainRows ||
         (checkVal && int64_t(split.validation.size()) != valRows)))
      return fail(fmt::format(
          "{}: its run trained on {} rows{}, but the model's training data splits into {}{}, "
          "so the rows it held out cannot be found: the run trained on other data (given with "
          "--data?); evaluate every row of a file with --data NAME=FILE",
          f.checkpoint, trainRows,
          checkVal ? fmt::format(" and held out {} for validation", valRows) : "",
          split.train.size(),
          checkVal ? fmt::format(" and {}", split.validation.size()) : " training rows"));
    Result<EvalReport> report =
        which == All
            ? trainer->evaluate(*data)
            : trainer->evaluate(*data, which == HeldForValidation ? split.validation : split.test);
    if (!report)
      return report.takeError();
    out.push_back({name, std::move(*report)});
    return Ok{};
  };
  Status s = Ok{};
  if (!run->paths.empty()) {
    // Every data set that --data names, every row of it, whether or not the
    // path differs from the model's.
    for (size_t i = 0; i < c.data.size() && s; ++i)
      if (namedByFlags(*run, c.data[i].name))
        s = evaluate(c.data[i].name, std::vector<int>{int(i)}, All);
    if (!s)
      return s.takeError();
    return out;
  }
  if (!c.validateData.empty())
    s = evaluate("validation", c.validateData, All);
  else if (!c.trainData.empty() && to.validate > 0)
    s = evaluate("validation", c.trainData, HeldForValidation);
  if (s && !c.testData.empty())
    s = evaluate("test", c.testData, All);
  else if (s && !c.trainData.empty() && to.test > 0)
    s = evaluate("test", c.trainData, HeldForTest);
  if (s && out.empty()) {
    if (c.trainData.empty())
      return fail(
          fmt::format("model '{}' names no data to evaluate on; add a `data` block", model.name));
    s = evaluate("train", c.trainData, All);
  }
  if (!s)
    return s.takeError();
  return out;
}

void printTable(const mtl_model &model, const std::vector<SplitReport> &splits) {
  for (const SplitReport &split : splits) {
    const bool labelled = std::any_of(split.report.tasks.begin(), split.report.tasks.end(),
                                      [](const TaskScores &s) { return s.labelled > 0; });
    fmt::print("{} ({} rows): total loss {}\n", split.name, split.report.rows,
               labelled ? formatValue(split.report.loss)
                        : std::string("- (no row is labelled for any task)"));
    for (int32_t t = 0; t < model.num_tasks; ++t) {
      const TaskScores &s = split.report.tasks[size_t(t)];
      std::string metrics;
      for (const MetricValue &m : s.metrics)
        metrics += fmt::format("  {} {}", m.name, formatValue(m.value));
      fmt::print("  {:<16} loss {}{}{}\n", s.name + (s.auxiliary ? " (aux)" : ""),
                 formatTaskLoss(s.loss, s.labelled), metrics,
                 s.labelled < double(split.report.rows)
                     ? fmt::format("  ({:.{}f} labelled)", s.labelled,
                                   s.labelled == std::floor(s.labelled) ? 0 : 2)
                     : std::string());
    }
  }
}

// Each split as the log and summary.json write a report, so the numbers compare key for key.
void printJson(const mtl_model &model, const std::string &checkpoint,
               const std::vector<SplitReport> &splits) {
  nlohmann::ordered_json j = {{"model", model.name}, {"checkpoint", checkpoint}};
  j["splits"] = nlohmann::ordered_json::object();
  for (const SplitReport &split : splits)
    j["splits"][split.name] = reportJson(split.report);
  fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
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
