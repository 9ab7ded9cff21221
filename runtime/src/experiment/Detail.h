// Detail.h: what the experiment's runner (Run.cpp) shares with its folder (Folder.cpp) and its
// statistics and tables (Results.cpp).
#pragma once

#include "mtlrt/Experiment.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace mtlrt::experiment {

using json = nlohmann::ordered_json;

/// One training run of an experiment.
struct RunSpec {
  std::string key;    ///< "search/p3/f1", "mtl/seed7", "stl:species/seed7"
  std::string config; ///< "search", "mtl", "stl:TASK"
  int64_t point = -1, fold = -1;
  uint64_t seed = 0;
};

/// Finished runs by key: what runs.jsonl holds (see Experiment.h).
using RunRecords = std::map<std::string, json>;

/// The value a search point's run scored by the plan's metric ("loss": the
/// total loss; "TASK.NAME": that task's loss or metric); NaN when absent.
double searchValue(const json &run, const std::string &metric);

/// The search's points with their fold values, and the chosen one's index
/// (the best mean by the plan's metric; the first of equals).
json searchResults(const ExperimentPlan &plan, const std::vector<SearchPoint> &points,
                   const RunRecords &runs, int64_t &chosen);

/// results.json: the per-task comparison of the final runs (and Δm) with
/// the search's results; `seeds` are the final runs' seeds.
json experimentResults(const ExperimentPlan &plan, const RunRecords &runs,
                       const std::vector<uint64_t> &seeds, json search, const std::string &model,
                       double seconds);

/// The tables of results.json as the terminal shows them, and as CSV.
std::string resultsTable(const json &results);
std::string resultsCsv(const json &results);

/// Per data set the experiment reads (training, validation, test): its
/// name, rows and a 64-bit FNV-1a hash of its values, so that a resume on
/// data that changed under the same path is refused.
std::string dataRead(const TrainingData &data);

/// What the folder's experiment.json records about the experiment (`read`:
/// dataRead of the multi-task model's data); a resume must find the same.
json identity(const ExperimentPlan &plan, const ExperimentModel &m, const TrainOptions &base,
              const std::vector<SearchPoint> &points, const std::string &read);

/// The experiment folder, new (experiment.json written) or resumed (its
/// identity checked, its finished runs read; runs.jsonl written afresh
/// without a last line cut short).
Result<RunRecords> openFolder(const ExperimentOptions &o, const json &id);

/// Appends one finished run's record to the folder's runs.jsonl.
Status appendRun(const std::string &folder, const json &record);

/// The key's folder name under runs/ ("mtl/seed7" -> "mtl-seed7").
std::string runFolderName(const std::string &key);

} // namespace mtlrt::experiment
