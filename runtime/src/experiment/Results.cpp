// Results.cpp: an experiment's statistics (the search's choice, the per-task comparison, Δm) and
// their tables.
#include "experiment/Detail.h"

#include "mtlrt/Stats.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace mtlrt::experiment {
namespace {

double number(const json &j) { return j.is_number() ? j.get<double>() : NAN; }

/// A score of a run: scores[task][metric], NaN when absent.
double score(const json &run, const std::string &task, const std::string &metric) {
  const json &scores = run.value("scores", json::object());
  if (!scores.contains(task) || !scores[task].contains(metric))
    return NAN;
  return number(scores[task][metric]);
}

json summaryJson(const std::vector<double> &values) {
  Summary s = summarize(values);
  return {{"mean", s.mean}, {"std", s.std}, {"values", values}};
}

/// `v` with `digits` decimals (and its sign when `sign`), or "-" when undefined.
std::string fixed(double v, int digits, bool sign = false) {
  if (std::isnan(v))
    return "-";
  return sign ? fmt::format("{:+.{}f}", v, digits) : fmt::format("{:.{}f}", v, digits);
}

/// "0.9851 ± 0.0067"; "0.9851 ± -" for one seed, whose spread is undefined.
std::string meanStd(const json &s) {
  return fmt::format("{} ± {}", fixed(number(s["mean"]), 4), fixed(number(s["std"]), 4));
}

std::string csvField(const json &j) {
  double v = number(j);
  return std::isnan(v) ? "" : fmt::format("{:.9g}", v);
}

} // namespace

std::string runFolderName(const std::string &key) {
  std::string name = key;
  std::replace(name.begin(), name.end(), '/', '-');
  std::replace(name.begin(), name.end(), ':', '-');
  return name;
}

double searchValue(const json &run, const std::string &metric) {
  if (metric == "loss")
    return number(run.value("total_loss", json()));
  size_t dot = metric.find('.');
  return score(run, metric.substr(0, dot), metric.substr(dot + 1));
}

json searchResults(const ExperimentPlan &plan, const std::vector<SearchPoint> &points,
                   const RunRecords &runs, int64_t &chosen) {
  json list = json::array();
  double best = NAN;
  chosen = 0;
  for (size_t p = 0; p < points.size(); ++p) {
    std::vector<double> folds;
    int64_t failed = 0;
    for (int64_t f = 0; f < plan.folds; ++f) {
      auto it = runs.find(fmt::format("search/p{}/f{}", p + 1, f + 1));
      folds.push_back(it == runs.end() ? NAN : searchValue(it->second, plan.metric));
      failed += it != runs.end() && it->second.value("status", "") == "failed" ? 1 : 0;
    }
    Summary s = summarize(folds);
    json weights = json::object();
    for (const auto &[task, w] : points[p].weights)
      weights[task] = w;
    list.push_back({{"description", describePoint(points[p])},
                    {"weights", weights},
                    {"balance", points[p].balance.empty() ? json() : json(points[p].balance)},
                    {"lr", points[p].lr ? json(*points[p].lr) : json()},
                    {"mean", s.mean},
                    {"std", s.std},
                    {"folds", folds},
                    {"failed", failed}});
    bool better = plan.maximize ? s.mean > best : s.mean < best;
    if (!std::isnan(s.mean) && (std::isnan(best) || better)) {
      best = s.mean;
      chosen = int64_t(p);
    }
  }
  return {{"metric", plan.metric},
          {"higher_is_better", plan.maximize},
          {"folds", plan.folds},
          {"points", list},
          {"chosen", chosen}};
}

json experimentResults(const ExperimentPlan &plan, const RunRecords &runs,
                       const std::vector<uint64_t> &seeds, json search, const std::string &model,
                       double seconds) {
  json tasks = json::array();
  std::vector<double> deltas(seeds.size(), 0.0);
  std::string scoredOn;
  for (const TaskGoal &g : plan.goals) {
    std::vector<double> mtl, stl;
    for (uint64_t s : seeds) {
      const json &run = runs.at(fmt::format("mtl/seed{}", s));
      scoredOn = run.value("scored_on", "");
      mtl.push_back(score(run, g.task, g.metric));
      if (plan.singleTaskBaselines)
        stl.push_back(score(runs.at(fmt::format("stl:{}/seed{}", g.task, s)), g.task, g.metric));
    }
    json task = {{"name", g.task},
                 {"metric", g.metric},
                 {"higher_is_better", g.higherIsBetter},
                 {"mtl", summaryJson(mtl)}};
    if (plan.singleTaskBaselines) {
      task["stl"] = summaryJson(stl);
      PairedTest t = pairedTTest(mtl, stl);
      task["difference"] = {{"mean", t.mean}, {"ci95", {t.lo, t.hi}}, {"p", t.p}};
      // Δm's term: the relative change, signed so that better is positive.
      // Undefined (NaN) where a score is, or where the single-task score is 0.
      for (size_t s = 0; s < seeds.size(); ++s) {
        const double term = (g.higherIsBetter ? 1 : -1) * (mtl[s] - stl[s]) / std::fabs(stl[s]);
        deltas[s] += std::isfinite(term) ? term : NAN;
      }
    }
    tasks.push_back(std::move(task));
  }
  json out = {{"model", model},
              {"seconds", seconds},
              {"seeds", seeds.size()},
              {"scored_on", scoredOn},
              {"tasks", tasks}};
  if (plan.singleTaskBaselines && !plan.goals.empty()) {
    for (double &d : deltas)
      d *= 100.0 / double(plan.goals.size());
    out["delta_m"] = summaryJson(deltas);
  }
  if (!search.is_null())
    out["search"] = std::move(search);
  return out;
}

std::string resultsTable(const json &r) {
  std::string out;
  if (r.contains("search")) {
    const json &s = r["search"];
    out +=
        fmt::format("search: {} points x {} folds, chosen by {} on the held-out fold ({} is "
                    "better)\n",
                    s["points"].size(), s["folds"].get<int64_t>(), s["metric"].get<std::string>(),
                    s["higher_is_better"].get<bool>() ? "higher" : "lower");
    size_t width = 5;
    for (const json &p : s["points"])
      width = std::max(width, p["description"].get<std::string>().size());
    const int64_t chosen = s["chosen"].get<int64_t>();
    for (size_t i = 0; i < s["points"].size(); ++i) {
      const json &p = s["points"][i];
      const int64_t failed = p.value("failed", int64_t(0));
      out += fmt::format(
          "  {}{:>3}  {:<{}}  {}{}\n", int64_t(i) == chosen ? '*' : ' ', i + 1,
          p["description"].get<std::string>(), width, meanStd(p),
          failed > 0 ? fmt::format("  (failed on {} of {} folds)", failed, p["folds"].size()) : "");
    }
    out += "\n";
  }
  const bool baselines = r.contains("delta_m");
  out += fmt::format("{} on the {} data, {} seed{} each ({:.1f} s)\n",
                     baselines ? "multi-task against single-task" : "multi-task",
                     r["scored_on"].get<std::string>(), r["seeds"].get<int64_t>(),
                     r["seeds"].get<int64_t>() == 1 ? "" : "s", number(r["seconds"]));
  size_t width = 4;
  for (const json &t : r["tasks"])
    width = std::max(width, t["name"].get<std::string>().size());
  out += fmt::format("  {:<{}}  {:<9} {:<17}", "task", width, "metric", "multi-task");
  out += baselines ? fmt::format(" {:<17} {:<30} {}\n", "single-task", "difference (95% CI)", "p")
                   : "\n";
  for (const json &t : r["tasks"]) {
    out += fmt::format("  {:<{}}  {:<9} {:<17}", t["name"].get<std::string>(), width,
                       t["metric"].get<std::string>(), meanStd(t["mtl"]));
    if (!baselines) {
      out += "\n";
      continue;
    }
    const json &d = t["difference"];
    std::string interval = std::isnan(number(d["ci95"][0]))
                               ? fixed(number(d["mean"]), 4, true)
                               : fmt::format("{:+.4f} [{:+.4f}, {:+.4f}]", number(d["mean"]),
                                             number(d["ci95"][0]), number(d["ci95"][1]));
    double p = number(d["p"]);
    out += fmt::format(" {:<17} {:<30} {}\n", meanStd(t["stl"]), interval,
                       std::isnan(p) ? "-" : fmt::format("{:.3f}{}", p, p < 0.05 ? " *" : ""));
  }
  if (baselines && std::isnan(number(r["delta_m"]["mean"])))
    out += "  Δm = - (undefined: a compared metric is undefined in some seed's runs, or its "
           "single-task score is 0)\n";
  else if (baselines)
    out += fmt::format("  Δm = {}% ± {} (mean relative change over single-task, "
                       "positive is better; * p < 0.05)\n",
                       fixed(number(r["delta_m"]["mean"]), 2, true),
                       std::isnan(number(r["delta_m"]["std"]))
                           ? "-"
                           : fixed(number(r["delta_m"]["std"]), 2) + "%");
  return out;
}

std::string resultsCsv(const json &r) {
  std::string out = "task,metric,higher_is_better,mtl_mean,mtl_std,stl_mean,stl_std,difference,"
                    "ci95_low,ci95_high,p\n";
  for (const json &t : r["tasks"]) {
    out += fmt::format("{},{},{},{},{}", t["name"].get<std::string>(),
                       t["metric"].get<std::string>(), t["higher_is_better"].get<bool>(),
                       csvField(t["mtl"]["mean"]), csvField(t["mtl"]["std"]));
    if (t.contains("stl"))
      out +=
          fmt::format(",{},{},{},{},{},{}\n", csvField(t["stl"]["mean"]), csvField(t["stl"]["std"]),
                      csvField(t["difference"]["mean"]), csvField(t["difference"]["ci95"][0]),
                      csvField(t["difference"]["ci95"][1]), csvField(t["difference"]["p"]));
    else
      out += ",,,,,,\n";
  }
  if (r.contains("delta_m"))
    out += fmt::format("delta_m,percent,true,{},{},,,,,,\n", csvField(r["delta_m"]["mean"]),
                       csvField(r["delta_m"]["std"]));
  return out;
}

} // namespace mtlrt::experiment
