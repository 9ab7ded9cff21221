// RunHistory.h: a training run's JSON-lines log (Log.h) read back, epoch by epoch, for reports.
#pragma once

#include "mtlrt/Result.h"
#include "report/JsonReader.h"

#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mtlrt::report {

/// Named numbers in the order they were written (metrics, task weights, ...).
using NamedValues = std::vector<std::pair<std::string, double>>;

/// The value named `name`, NaN when there is none.
double valueOf(const NamedValues &values, const std::string &name);

/// One task's loss and metrics in a report or an epoch record.
struct TaskValues {
  std::string name;
  double loss = NAN;
  NamedValues metrics;
};

/// A report as the log and summary.json write it (Log.h's reportJson), or
/// an epoch record's training part: the total loss and each task's.
struct Scores {
  double loss = NAN;
  std::vector<TaskValues> tasks;

  /// The task named `name`, or null.
  const TaskValues *task(const std::string &name) const;
};

/// Reads the "loss" and "tasks" of {"loss", "penalty", "rows", "tasks": {T: {"loss",
/// "labelled", METRIC: ..}}}.
Scores readScores(const JsonReader &j);
/// Reads {T: {"loss", "labelled", METRIC: ..}}: the tasks of a report.
std::vector<TaskValues> readTaskValues(const JsonReader &j);

/// A task as the log's start record describes it.
struct LoggedTask {
  std::string name, kind;
  bool auxiliary = false;
};

/// A mix gate's mean weight on each expert over an epoch (the log's "gates").
struct GateValues {
  std::string name;
  std::string task; ///< "" when several tasks read the mix
  NamedValues experts;
};

/// One epoch record.
struct EpochPoint {
  int64_t epoch = 0;
  double lr = NAN;
  Scores train;
  std::optional<Scores> validation;
  /// The balancing statistics of the epoch: weights by task, gradient norms
  /// by task and cosines by "A,B" pair (each empty when not recorded).
  NamedValues weights, gradNorms, cosines;
  std::vector<GateValues> gates; ///< empty for a model without mix
};

/// What a log says of its run.
struct RunHistory {
  std::string model, balance;
  std::vector<LoggedTask> tasks; ///< from the last start record
  /// By epoch; a resumed run's record of an epoch replaces an earlier one.
  std::vector<EpochPoint> epochs;
  int starts = 0;                    ///< more than one: the run was resumed
  int64_t keptEpoch = 0;             ///< from the end record
  std::optional<Scores> test;        ///< from the end record
  std::vector<std::string> failures; ///< the error records: "epoch E, step S: MESSAGE"
};

/// Reads the log at `path`, skipping step records. Fails on an unreadable
/// file, a line that is not a JSON object, or a record whose fields have the
/// wrong types ("PATH:LINE: val.loss is text, not a number").
Result<RunHistory> readRunHistory(const std::string &path);

} // namespace mtlrt::report
