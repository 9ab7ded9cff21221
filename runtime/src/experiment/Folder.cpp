// Folder.cpp: an experiment's folder: what it records of the experiment, its run records, resuming.
#include "experiment/Detail.h"

#include "mtlrt/AtomicFile.h"

#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>

namespace mtlrt {
namespace fs = std::filesystem;
using experiment::json;
using experiment::RunRecords;

namespace {

/// Whether a resumed experiment's folder (`saved`, its experiment.json)
/// records the same as this one (`id`): every key of `id` must match.
Status sameExperiment(const std::string &folder, const json &saved, const json &id) {
  std::vector<std::string> differences;
  for (const auto &[key, value] : id.items()) {
    // A folder begun before mtlc recorded the data read has no fingerprint
    // to compare: it resumes as it did then.
    if (key == "data_read" && !saved.contains(key))
      continue;
    json was = saved.contains(key) ? saved[key] : json();
    if (was != value)
      differences.push_back(
          fmt::format("{} was {}, this one's is {}", key, was.dump(), value.dump()));
  }
  if (!differences.empty())
    return fail(fmt::format("--resume {}: a resumed experiment must be the same, and that "
                            "experiment's {}{}",
                            folder, fmt::join(differences, "; its "),
                            id.contains("data_read") && saved.contains("data_read") &&
                                    saved["data_read"] != id["data_read"]
                                ? " (its data changed since it began: continue it on the data "
                                  "it began with, or start it afresh)"
                                : ""));
  return Ok{};
}

/// What is wrong with a run record as the experiment writes it (its fields'
/// types: the results read them), or "" when nothing is.
std::string recordProblem(const json &r) {
  if (!r.is_object() || !r.contains("key") || !r["key"].is_string() || !r.contains("config") ||
      !r["config"].is_string())
    return "not a run record (a run needs its \"key\" and \"config\" as text)";
  for (const char *k : {"status", "scored_on", "balance", "log", "error"})
    if (r.contains(k) && !r[k].is_string())
      return fmt::format("\"{}\" is {}, not text", k, r[k].type_name());
  for (const char *k : {"seed", "point", "fold", "epochs", "kept_epoch"})
    if (r.contains(k) && !r[k].is_number_integer())
      return fmt::format("\"{}\" is {}, not a whole number", k, r[k].type_name());
  for (const char *k : {"lr", "seconds", "total_loss"})
    if (r.contains(k) && !r[k].is_number() && !r[k].is_null())
      return fmt::format("\"{}\" is {}, not a number", k, r[k].type_name());
  for (const char *k : {"weights", "scores"})
    if (r.contains(k) && !r[k].is_object())
      return fmt::format("\"{}\" is {}, not an object", k, r[k].type_name());
  const json weights = r.value("weights", json::object()),
             scores = r.value("scores", json::object());
  for (const auto &[task, w] : weights.items())
    if (!w.is_number())
      return fmt::format("weights.{} is {}, not a number", task, w.type_name());
  for (const auto &[task, taskScores] : scores.items()) {
    if (!taskScores.is_object())
      return fmt::format("scores.{} is {}, not an object", task, taskScores.type_name());
    for (const auto &[metric, v] : taskScores.items())
      if (!v.is_number() && !v.is_null())
        return fmt::format("scores.{}.{} is {}, not a number", task, metric, v.type_name());
  }
  return "";
}

/// Reads the finished runs of a resumed experiment. A last line cut short
/// (the process was killed while writing it) is dropped; any other bad line fails.
Result<RunRecords> readRuns(const std::string &path) {
  RunRecords runs;
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line))
    if (!line.empty())
      lines.push_back(line);
  for (size_t i = 0; i < lines.size(); ++i) {
    json record = json::parse(lines[i], nullptr, false);
    if (record.is_discarded() && i + 1 == lines.size())
      break;
    std::string problem = record.is_discarded() ? "not JSON" : recordProblem(record);
    if (!problem.empty())
      return fail(fmt::format("{}:{}: {}; remove the line (its run is then run again) or start "
                              "the experiment afresh",
                              path, i + 1, problem));
    std::string key = record["key"].get<std::string>();
    runs[key] = std::move(record);
  }
  return runs;
}

} // namespace

Status checkExperimentFolder(const std::string &folder, bool resume, const std::string &model,
                             const std::string &sourceHash) {
  const fs::path file = fs::path(folder) / "experiment.json";
  std::error_code ec;
  if (!resume && fs::exists(file, ec))
    return fail(fmt::format("{} holds an experiment already; continue it with --resume {}, or "
                            "choose another folder",
                            folder, folder));
  if (!resume) {
    // The folder, or the first of its parents that exists, must be a folder.
    for (fs::path at = fs::path(folder).lexically_normal(); !at.empty(); at = at.parent_path()) {
      if (fs::exists(at, ec)) {
        if (!fs::is_directory(at, ec))
          return fail(fmt::format("--dir {}: {} is a file, not a folder; name a folder for the "
                                  "experiment",
                                  folder, at.string()));
        break;
      }
      if (at == at.parent_path())
        break;
    }
    // A folder without an experiment keeps files named as an experiment's.
    std::string held;
    for (const char *name : {"runs.jsonl", "results.json", "results.csv", "report.html"})
      if (fs::exists(fs::path(folder) / name, ec))
        held += fmt::format("{}{}", held.empty() ? "" : ", ", name);
    if (!held.empty())
      return fail(fmt::format("--dir {}: the folder holds files that an experiment writes ({}), "
                              "which this one would replace; choose another folder",
                              folder, held));
    return Ok{};
  }
  std::ifstream in(file);
  if (!in.is_open())
    return fail(fmt::format("--resume {}: no experiment there ({} is missing or unreadable)",
                            folder, file.string()));
  json saved = json::parse(in, nullptr, false);
  if (!saved.is_object())
    return fail(fmt::format("--resume {}: {} is not the JSON object an experiment writes; start "
                            "the experiment afresh",
                            folder, file.string()));
  if (model.empty())
    return Ok{};
  return sameExperiment(folder, saved, {{"model", model}, {"source_hash", sourceHash}});
}

namespace experiment {

std::string dataRead(const TrainingData &data) {
  std::vector<std::string> parts;
  for (const std::optional<Dataset> &set : data.sets) {
    if (!set)
      continue;
    uint64_t hash = 14695981039346656037ull;
    auto add = [&](std::span<const float> values) {
      const auto *bytes = reinterpret_cast<const unsigned char *>(values.data());
      for (size_t i = 0; i < values.size() * sizeof(float); ++i)
        hash = (hash ^ bytes[i]) * 1099511628211ull;
    };
    for (const Values &values : set->inputs)
      add(values);
    for (const std::vector<float> &values : set->targets)
      add(values);
    parts.push_back(fmt::format("{}: {} rows, values {:016x}", set->name, set->rows, hash));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

/// What the folder records about the experiment; a resume must find the same.
json identity(const ExperimentPlan &plan, const ExperimentModel &m, const TrainOptions &base,
              const std::vector<SearchPoint> &points, const std::string &read) {
  const mtl_model &model = *m.model;
  json data = json::object(); // the files --data put in place of the model's
  for (const auto &[name, path] : m.data.run.paths)
    data[name] = path;
  json tasks = json::array();
  for (const TaskGoal &g : plan.goals)
    tasks.push_back(
        {{"name", g.task}, {"metric", g.metric}, {"higher_is_better", g.higherIsBetter}});
  json search = json::array();
  for (const SearchPoint &p : points)
    search.push_back(describePoint(p));
  return {{"model", model.name},
          {"source_hash", model.source_hash ? model.source_hash : ""},
          {"seed", base.seed},
          {"epochs", base.epochs},
          {"batch", base.batch},
          {"data", data},
          {"data_read", read},
          {"seeds", plan.seeds},
          {"baselines", plan.singleTaskBaselines ? "single_task" : "none"},
          {"folds", plan.search ? json(plan.folds) : json(nullptr)},
          {"metric", plan.search ? json(plan.metric) : json(nullptr)},
          {"search", plan.search ? search : json(nullptr)},
          {"tasks", tasks}};
}

/// The experiment folder, new or resumed; checks a resumed one's identity.
Result<RunRecords> openFolder(const ExperimentOptions &o, const json &id) {
  const fs::path file = fs::path(o.folder) / "experiment.json";
  std::error_code ec;
  if (Status s = checkExperimentFolder(o.folder, o.resume); !s)
    return s.takeError();
  if (!o.resume) {
    fs::create_directories(o.folder, ec);
    if (ec)
      return fail(
          fmt::format("{}: cannot create the experiment folder: {}", o.folder, ec.message()));
    if (Status s = writeFileAtomic(file.string(), id.dump(2) + "\n", "experiment.json"); !s)
      return s.takeError();
    return RunRecords{};
  }
  std::ifstream in(file);
  json saved = json::parse(in, nullptr, false);
  if (Status s = sameExperiment(o.folder, saved, id); !s)
    return s.takeError();
  // Written afresh without a line cut short, so that new records start on a line of their own.
  const std::string path = (fs::path(o.folder) / "runs.jsonl").string();
  Result<RunRecords> runs = readRuns(path);
  if (!runs)
    return runs;
  std::string lines;
  for (const auto &[key, record] : *runs)
    lines += record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (Status s = writeFileAtomic(path, lines, "runs.jsonl"); !s)
    return s.takeError();
  return runs;
}

/// Appends one finished run's record to runs.jsonl.
Status appendRun(const std::string &folder, const json &record) {
  const std::string path = (fs::path(folder) / "runs.jsonl").string();
  std::FILE *f = std::fopen(path.c_str(), "a");
  if (!f)
    return fail(fmt::format("{}: cannot append a run record", path));
  std::string line = record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  bool ok = std::fwrite(line.data(), 1, line.size(), f) == line.size();
  ok = std::fflush(f) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  if (!ok)
    return fail(fmt::format("{}: cannot append a run record", path));
  return Ok{};
}

} // namespace experiment
} // namespace mtlrt
