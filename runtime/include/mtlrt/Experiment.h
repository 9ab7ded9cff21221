// Experiment.h: `mtlc experiment`: multi-task against single-task runs, seeds, a cross-validated
// search, and their statistics (docs/experiments.md).
//
// An experiment trains compiled models that the caller provides (the
// multi-task model, compiled once per kind of code its balancing methods
// need, and each task alone) on data loaded once, many times, a few runs at
// a time, and writes what it finds to a folder:
//   experiment.json   the plan and the model's identity (a resume must match it)
//   runs.jsonl        one line per finished run (a resumed experiment skips those)
//   runs/KEY/log.jsonl each run's JSON-lines log (Log.h)
//   results.json, results.csv   the statistics, once every run has finished
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Program.h"
#include "mtlrt/Result.h"
#include "mtlrt/Trainer.h"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace mtlrt {

/// A task's candidate weights in the search: the grid's values, or the
/// range [lo, hi] that random points draw from log-uniformly.
struct WeightChoice {
  std::string task;
  std::vector<double> values;
};

/// How a task is scored in the comparison: one of its metrics, or "loss".
struct TaskGoal {
  std::string task;
  std::string metric;
  bool higherIsBetter = true;
};

/// What an experiment runs: the model's `experiment` block and the flags.
struct ExperimentPlan {
  bool singleTaskBaselines = false;
  int64_t seeds = 1; ///< runs of each configuration, with seeds base, base + 1, ...
  bool search = false;
  std::vector<WeightChoice> weights;
  int64_t randomPoints = 0;         ///< > 0: random points, else the grid
  std::vector<std::string> balance; ///< empty: the model's
  std::vector<double> lr;           ///< empty: the model's
  int64_t folds = 3;
  std::string metric = "loss"; ///< the search's choice: "loss", "TASK.loss", "TASK.METRIC"
  bool maximize = false;
  /// The tasks compared with their single-task baselines (the main ones),
  /// each by its first metric.
  std::vector<TaskGoal> goals;
};

/// One point of the search: the settings it changes.
struct SearchPoint {
  std::vector<std::pair<std::string, double>> weights;
  std::string balance; ///< empty: the model's
  std::optional<double> lr;
};

/// The Rng streams of the search's random points and of the folds.
inline constexpr uint64_t kSearchStream = 0x5345415243480000ull;
inline constexpr uint64_t kFoldStream = 0x464f4c4453000000ull;

/// The points of a plan's search, in order: every weight setting (the
/// grid's product, first task slowest, or randomPoints draws with
/// Rng(seed, kSearchStream)) with every balance, with every lr. One point
/// with no changes when the plan has no search.
std::vector<SearchPoint> searchPoints(const ExperimentPlan &plan, uint64_t seed);
/// "sex = 0.5, body_mass = 1, balance = pcgrad, lr = 0.01"; "the model's settings" for none.
std::string describePoint(const SearchPoint &point);

/// k folds of `rows` (rows of `data`): each row in exactly one fold, the
/// folds as equal in size as can be. Stratified: rows are grouped by their
/// data source and by the class of `strataTask` (a classify or binary task;
/// -1: none; an unlabelled row is a group of its own), each group is
/// shuffled with Rng(seed, kFoldStream) and dealt to the folds in turn,
/// continuing where the previous group stopped. Each fold is sorted.
std::vector<std::vector<int64_t>> kFolds(const Dataset &data, std::span<const int64_t> rows,
                                         int64_t k, int strataTask, uint64_t seed);

/// A compiled model that an experiment trains, and its data.
struct ExperimentModel {
  std::string config; ///< "mtl", or "stl:TASK" for a task alone
  const mtl_model *model = nullptr;
  TrainingData data;
  /// For "mtl": whether the code has a balancing method's own parameters
  /// (balanceAddsParameters), so runs pick the compiled model that fits.
  bool balanceParameters = false;
};

/// How to run an experiment.
struct ExperimentOptions {
  std::string folder; ///< created, or continued with resume
  bool resume = false;
  int jobs = 2;    ///< runs at once
  int threads = 2; ///< threads in all; each run gets threads / jobs (at least 1)
  bool quiet = false;
  std::FILE *out = stdout;      ///< the tables
  std::FILE *progress = stderr; ///< the progress line, when a terminal
  /// Printed to `out` (unless quiet) once the folder is open, before the
  /// first run: what the caller compiled and where the experiment goes.
  std::string banner;
  /// When set (StopSignals::requested()), the runs in progress stop after
  /// their step and are not recorded, no run starts, and runExperiment
  /// says how many runs the folder keeps and how to continue.
  const std::atomic<bool> *interrupt = nullptr;
};

/// Whether `folder` can take the experiment: a new one must not hold an
/// experiment already, a resumed one must (its experiment.json readable)
/// and, where `model` is given, have recorded the same model name and source
/// hash (the rest of what a resume must find the same is compared by
/// runExperiment). runExperiment checks it; the driver checks it before
/// compiling too.
Status checkExperimentFolder(const std::string &folder, bool resume, const std::string &model = "",
                             const std::string &sourceHash = "");

/// Runs `plan` on `models` (one or more "mtl" entries, and one "stl:TASK"
/// per goal with baselines), each run trained with the model's settings
/// and `flags` (trainOptions), changed as the run says. Fails on a folder that
/// holds another experiment, a run that fails, or data without a test or
/// validation split to score on. The runs train and score on rows of the
/// models' data sets, which they do not copy.
Status runExperiment(const ExperimentPlan &plan, const std::vector<ExperimentModel> &models,
                     const TrainFlags &flags, const ExperimentOptions &options);

} // namespace mtlrt
