// ExperimentData.h: an experiment folder (`mtlc experiment`) read back for its report.
//
//   experiment.json  the set-up: model, seeds, folds, the search's metric, baselines, tasks
//   runs.jsonl       one record per finished run (its configuration, seed, scores, log)
//   results.json     the aggregates: each task's multi-task and single-task scores over
//                    the seeds, their paired difference, Δm, and the search's points
//   runs/KEY/log.jsonl  the training log of a run (KEY with / written as -)
#pragma once

#include "mtlrt/Result.h"
#include "report/RunHistory.h"

#include <optional>
#include <string>
#include <vector>

namespace mtlrt::report {

/// A mean and standard deviation over seeds (or folds), with the values.
struct Spread {
  double mean = NAN, std = NAN;
  std::vector<double> values;
};

/// The paired difference multi-task − single-task over the seeds: its
/// mean, 95% confidence interval and p-value.
struct Difference {
  double mean = NAN, lower = NAN, upper = NAN, p = NAN;
};

/// A task of the experiment and, once results.json exists, how it scored.
struct ExperimentTask {
  std::string name, metric;
  bool higherIsBetter = true;
  std::optional<Spread> mtl, stl;       ///< stl only with baselines
  std::optional<Difference> difference; ///< only with baselines
};

/// One setting the search tried, scored over the folds.
struct SearchPoint {
  NamedValues weights;
  std::string balance;
  double lr = NAN;
  Spread score; ///< values: one per fold
};

/// The weight search: its metric and direction, its settings, which it chose.
struct Search {
  std::string metric;
  bool higherIsBetter = true;
  int64_t folds = 0;
  std::vector<SearchPoint> points;
  int64_t chosen = -1; ///< index into points (0-based), -1 when none
};

/// A finished run, as runs.jsonl records it.
struct ExperimentRun {
  std::string key, config, balance, log; ///< log: relative to the folder; "" when absent
  int64_t seed = 0, point = -1, fold = -1, epochs = 0; ///< point, fold: 0-based; -1: none
  NamedValues weights;
  double lr = NAN, seconds = NAN;
  std::vector<TaskValues> scores;
  bool failed = false; ///< a search run whose training failed: no scores
};

/// What the report shows of an experiment folder.
struct Experiment {
  std::string model, baselines;
  int64_t seeds = 0;
  std::vector<ExperimentTask> tasks; ///< with scores when results.json exists
  bool finished = false;             ///< results.json exists
  double seconds = NAN;
  std::optional<Spread> deltaM; ///< in percent
  std::optional<Search> search;
  std::vector<ExperimentRun> runs;
};

/// Reads experiment.json, and runs.jsonl and results.json when they exist.
/// Fails on a file that does not read, or a field of the wrong type (naming
/// the file, the line of runs.jsonl, and the field).
Result<Experiment> readExperiment(const std::string &folder);

} // namespace mtlrt::report
