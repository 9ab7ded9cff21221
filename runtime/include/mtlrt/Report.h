// Report.h: the human-readable per-epoch table and the end-of-run summary.
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Trainer.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace mtlrt {

/// Names of the metrics set in an mtl_metric bit mask, in bit order (the
/// order in which TaskScores lists them).
std::vector<std::string> metricNames(uint32_t bits);

/// "regress", "binary", "classify" or "multilabel" for an mtl_task_kind; "unknown" otherwise.
const char *taskKindName(int32_t kind);

/// A number as the table prints it: 4 decimals, or scientific notation when
/// very large or small; "-" for NaN.
std::string formatValue(double value);

/// A task's loss as the tables print it: "-" where no row was labelled for
/// the task (its loss of 0 is no measurement), else formatValue.
std::string formatTaskLoss(double loss, double labelled);

/// A duration for people: milliseconds under a second ("0.4 ms", "12 ms"),
/// then seconds ("1.25 s", "12.3 s"), then minutes ("2 min 05 s") and hours
/// ("1 h 02 min"); "an unknown time" for a negative or non-finite number.
std::string formatDuration(double seconds);

/// Whether a compact table of a run of `epochs` epochs shows epoch `epoch`
/// (1-based): every epoch of up to 20; else the first three, every k-th and
/// the last, k the first of 2, 5, 10, 20, 50, 100, ... that leaves at most 15
/// multiples of k, so such a table has 10 to 20 rows.
bool compactTableShows(int64_t epoch, int64_t epochs);

/// The per-epoch table: epoch | total loss (train, the penalty part of it
/// when the model has one, val) | per task: train loss, val loss and val
/// metrics (train metrics too with evalTrain). A null `out` prints nothing.
class EpochTable {
public:
  EpochTable(std::FILE *out, const mtl_model &model, bool validation, bool trainMetrics);
  /// Two header lines: task names over their columns, then column names.
  void header();
  void row(const EpochRecord &record);

private:
  struct Column {
    std::string label;
    size_t width;
  };
  struct Group {
    std::string title;
    std::vector<Column> columns;
  };
  std::FILE *out;
  bool validation, trainMetrics, penalty;
  std::vector<Group> groups;
  void printRow(const std::vector<std::vector<std::string>> &cells);
};

/// The end of a run: epochs, steps and time, why it stopped, then every task's
/// losses and metrics at the kept epoch (TrainResult::keptEpoch) and at the
/// last, each labelled, auxiliary tasks listed apart, and the test results
/// (with the kept parameters) when there are any.
void printSummary(std::FILE *out, const mtl_model &model, const TrainResult &result,
                  const std::string &monitor);

} // namespace mtlrt
