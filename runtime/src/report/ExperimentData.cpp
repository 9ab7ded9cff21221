// ExperimentData.cpp: reading experiment.json, runs.jsonl and results.json.
#include "report/ExperimentData.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <tuple>

namespace mtlrt::report {
namespace {
namespace fs = std::filesystem;

Spread readSpread(const JsonReader &j, std::string_view valuesKey) {
  Spread s{j.number("mean"), j.number("std"), {}};
  for (const JsonReader &v : j.array(valuesKey))
    s.values.push_back(v.asNumber());
  return s;
}

NamedValues readWeights(const JsonReader &j) {
  NamedValues out;
  if (std::optional<JsonReader> weights = j.object("weights"))
    for (const auto &[task, w] : weights->members())
      out.emplace_back(task, w.asNumber());
  return out;
}

// A task as experiment.json and results.json describe it.
ExperimentTask readTask(const JsonReader &j) {
  ExperimentTask t;
  t.name = j.text("name");
  t.metric = j.text("metric");
  t.higherIsBetter = j.flag("higher_is_better", true);
  if (std::optional<JsonReader> mtl = j.object("mtl"))
    t.mtl = readSpread(*mtl, "values");
  if (std::optional<JsonReader> stl = j.object("stl"))
    t.stl = readSpread(*stl, "values");
  if (std::optional<JsonReader> d = j.object("difference")) {
    std::vector<JsonReader> ci = d->array("ci95");
    if (!ci.empty() && ci.size() != 2)
      d->problem("has a ci95 that is not two numbers");
    t.difference = Difference{d->number("mean"), ci.size() == 2 ? ci[0].asNumber() : NAN,
                              ci.size() == 2 ? ci[1].asNumber() : NAN, d->number("p")};
  }
  return t;
}

Search readSearch(const JsonReader &j) {
  Search s{j.text("metric"), j.flag("higher_is_better", true), j.integer("folds", 0), {}, -1};
  for (const JsonReader &p : j.array("points"))
    s.points.push_back({readWeights(p), p.text("balance"), p.number("lr"), readSpread(p, "folds")});
  s.chosen = j.integer("chosen", -1);
  if (s.chosen < -1 || s.chosen >= int64_t(s.points.size()))
    j.problem(fmt::format("chooses point {}, but there are {} (counted from 0)", s.chosen,
                          s.points.size()));
  return s;
}

ExperimentRun readRun(const JsonReader &j) {
  ExperimentRun r;
  r.key = j.text("key");
  r.config = j.text("config");
  if (r.key.empty() || r.config.empty())
    j.problem("a run needs its \"key\" and \"config\"");
  r.balance = j.text("balance");
  r.failed = j.text("status") == "failed";
  r.log = j.text("log");
  r.seed = j.integer("seed", 0);
  r.point = j.integer("point", -1);
  r.fold = j.integer("fold", -1);
  r.epochs = j.integer("epochs", 0);
  r.weights = readWeights(j);
  r.lr = j.number("lr");
  r.seconds = j.number("seconds");
  if (std::optional<JsonReader> scores = j.object("scores"))
    r.scores = readTaskValues(*scores);
  return r;
}

Status readResults(const std::string &path, Experiment &e) {
  Result<Json> json = readJsonFile(path);
  if (!json)
    return json.takeError();
  if (!json->is_object() || !json->contains("tasks"))
    return fail(fmt::format("{}: not the results an experiment writes (a JSON object with its "
                            "\"tasks\")",
                            path));
  JsonReader j(*json, path);
  e.finished = true;
  e.seconds = j.number("seconds");
  std::vector<ExperimentTask> tasks;
  for (const JsonReader &t : j.array("tasks"))
    tasks.push_back(readTask(t));
  e.tasks = std::move(tasks);
  if (std::optional<JsonReader> deltaM = j.object("delta_m"))
    e.deltaM = readSpread(*deltaM, "values");
  if (std::optional<JsonReader> search = j.object("search"))
    e.search = readSearch(*search);
  return j.status();
}

} // namespace

Result<Experiment> readExperiment(const std::string &folder) {
  const fs::path dir(folder);
  const std::string setupPath = (dir / "experiment.json").string();
  Result<Json> setup = readJsonFile(setupPath);
  if (!setup)
    return setup.takeError();
  if (!setup->is_object())
    return fail(fmt::format("{}: not a JSON object", setupPath));
  Experiment e;
  JsonReader j(*setup, setupPath);
  e.model = j.text("model");
  e.baselines = j.text("baselines");
  e.seeds = j.integer("seeds", 0);
  for (const JsonReader &t : j.array("tasks"))
    e.tasks.push_back(readTask(t));
  if (Status s = j.status(); !s)
    return s.takeError();
  const std::string runsPath = (dir / "runs.jsonl").string();
  if (fs::exists(runsPath))
    if (Status s = forEachJsonLine(runsPath, "",
                                   [&](const Json &record, int64_t line) {
                                     JsonReader run(record, fmt::format("{}:{}", runsPath, line));
                                     e.runs.push_back(readRun(run));
                                     return run.status();
                                   });
        !s)
      return s.takeError();
  // runs.jsonl lists the runs as they finished, which jobs at once reorder;
  // the plan's order is the search, each task alone (in the tasks' order),
  // then the multi-task runs.
  auto rank = [&](const ExperimentRun &r) {
    if (r.config == "search")
      return int64_t(0);
    for (size_t t = 0; t < e.tasks.size(); ++t)
      if (r.config == "stl:" + e.tasks[t].name)
        return int64_t(1 + t);
    return int64_t(1 + e.tasks.size());
  };
  std::stable_sort(e.runs.begin(), e.runs.end(),
                   [&](const ExperimentRun &a, const ExperimentRun &b) {
                     return std::tuple(rank(a), a.point, a.fold, a.seed) <
                            std::tuple(rank(b), b.point, b.fold, b.seed);
                   });
  const std::string resultsPath = (dir / "results.json").string();
  if (fs::exists(resultsPath))
    if (Status s = readResults(resultsPath, e); !s)
      return s.takeError();
  return e;
}

} // namespace mtlrt::report
