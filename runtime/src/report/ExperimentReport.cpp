// ExperimentReport.cpp: the report of an experiment: multi-task against single-task, Δm, the
// search.
#include "mtlrt/Plot.h"
#include "mtlrt/Report.h"
#include "report/ExperimentData.h"
#include "report/Sections.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <limits>

namespace mtlrt::report {
namespace {
namespace fs = std::filesystem;

constexpr int kMtlColor = 0, kStlColor = 1;

std::string meanStd(const Spread &s) { return fmt::format("{} ± {}", cell(s.mean), cell(s.std)); }

std::string valuesText(const std::vector<double> &values) {
  std::vector<std::string> parts;
  for (double v : values)
    parts.push_back(cell(v));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string weightsText(const NamedValues &weights) {
  std::vector<std::string> parts;
  for (const auto &[task, w] : weights)
    parts.push_back(fmt::format("{}={:g}", task, w));
  return fmt::format("{}", fmt::join(parts, " "));
}

// A run's or a search point's settings: "a=1 b=0.5 static lr 0.01" (no lr
// where the model's own is used).
std::string settingsText(const NamedValues &weights, const std::string &balance, double lr) {
  std::string text = fmt::format("{} {}", weightsText(weights), balance);
  return std::isnan(lr) ? text : fmt::format("{} lr {:g}", text, lr);
}

// The largest value `metric` (METRIC, or TASK.METRIC as a search's) can
// take: 1 for the scores and r2; none for losses and errors.
double ceilingOf(const std::string &metric) {
  const std::string m = metric.substr(metric.find('.') + 1);
  return m == "loss" || m == "mse" || m == "mae" ? std::numeric_limits<double>::infinity() : 1.0;
}

std::string direction(bool higherIsBetter) {
  return higherIsBetter ? "higher is better" : "lower is better";
}

void addComparison(HtmlPage &page, const Experiment &e) {
  const bool baselines = std::any_of(e.tasks.begin(), e.tasks.end(),
                                     [](const ExperimentTask &t) { return t.stl.has_value(); });
  page.section(baselines ? "Multi-task against single-task" : "Scores per task");
  if (e.deltaM && std::isnan(e.deltaM->mean))
    page.paragraph("Δm is undefined: a compared metric is undefined in some seed's runs, or its "
                   "single-task score is 0.");
  else if (e.deltaM)
    page.paragraph(fmt::format(
        "Δm = {:+.2f}% ± {} (mean ± std over {} seeds): the mean relative improvement of the "
        "multi-task model over the single-task models across the tasks, each in its metric's "
        "direction; above zero, multi-task training helps.",
        e.deltaM->mean, std::isnan(e.deltaM->std) ? "-" : fmt::format("{:.2f}%", e.deltaM->std),
        e.deltaM->values.size()));
  page.beginFigures();
  for (const ExperimentTask &t : e.tasks) {
    IntervalChart chart;
    chart.title = fmt::format("{}: {} ({})", t.name, t.metric, direction(t.higherIsBetter));
    chart.yLabel = t.metric;
    chart.yMax = ceilingOf(t.metric);
    chart.width = int(std::max<size_t>(300, chart.title.size() * 7 + 30)); // the title fits
    if (t.mtl)
      chart.items.push_back({"multi-task", "seeds: " + valuesText(t.mtl->values), t.mtl->mean,
                             t.mtl->std, kMtlColor, false});
    if (t.stl)
      chart.items.push_back({"single-task", "seeds: " + valuesText(t.stl->values), t.stl->mean,
                             t.stl->std, kStlColor, false});
    page.figure(intervalChartSvg(chart));
  }
  page.endFigures();
  HtmlTable table;
  table.textColumns = 2;
  table.header = {"task", "metric", "multi-task (mean ± std)"};
  if (baselines)
    for (const char *h : {"single-task (mean ± std)", "difference", "95% interval", "p"})
      table.header.push_back(h);
  table.header.push_back("multi-task per seed");
  for (const ExperimentTask &t : e.tasks) {
    std::vector<std::string> row = {t.name,
                                    fmt::format("{} ({})", t.metric, direction(t.higherIsBetter)),
                                    t.mtl ? meanStd(*t.mtl) : "-"};
    if (baselines) {
      row.push_back(t.stl ? meanStd(*t.stl) : "-");
      const Difference d = t.difference.value_or(Difference{});
      row.push_back(cell(d.mean));
      row.push_back(std::isnan(d.lower) ? "-"
                                        : fmt::format("[{:+.4f}, {:+.4f}]", d.lower, d.upper));
      row.push_back(cell(d.p));
    }
    row.push_back(t.mtl ? valuesText(t.mtl->values) : "-");
    table.rows.push_back(std::move(row));
  }
  page.table(table);
  if (baselines)
    page.paragraph("The difference is multi-task minus single-task, paired by seed; an interval "
                   "that holds zero (or a large p) means the seeds cannot tell the two apart.");
}

void addSearch(HtmlPage &page, const Search &s) {
  page.section("Weight search");
  page.paragraph(fmt::format("{} settings, each scored by {} ({}) as the mean over {} folds of "
                             "the training data; the chosen one is marked.",
                             s.points.size(), s.metric, direction(s.higherIsBetter), s.folds));
  IntervalChart chart;
  chart.title = fmt::format("search: {} by setting", s.metric);
  chart.yLabel = s.metric;
  chart.yMax = ceilingOf(s.metric);
  chart.bars = false;
  chart.width = int(std::clamp<size_t>(s.points.size() * 36 + 80, 380, 1180));
  HtmlTable table;
  table.textColumns = 4;
  table.header = {"setting", "weights", "balance", "lr", "mean", "std", "per fold"};
  for (size_t k = 0; k < s.points.size(); ++k) {
    const SearchPoint &p = s.points[k];
    const bool chosen = int64_t(k) == s.chosen;
    chart.items.push_back({std::to_string(k + 1), settingsText(p.weights, p.balance, p.lr),
                           p.score.mean, p.score.std, kMtlColor, chosen});
    table.rows.push_back({fmt::format("{}{}", k + 1, chosen ? " (chosen)" : ""),
                          weightsText(p.weights), p.balance.empty() ? "model's" : p.balance,
                          std::isnan(p.lr) ? "model's" : fmt::format("{:g}", p.lr),
                          cell(p.score.mean), cell(p.score.std), valuesText(p.score.values)});
    if (chosen)
      table.highlighted.push_back(k);
  }
  page.beginFigures();
  page.figure(intervalChartSvg(chart));
  page.endFigures();
  page.table(table);
}

void addRuns(HtmlPage &page, const Experiment &e) {
  HtmlTable table;
  table.textColumns = 3;
  table.header = {"run", "configuration", "settings", "seed", "fold", "seconds", "epochs"};
  for (const ExperimentTask &t : e.tasks)
    table.header.push_back(fmt::format("{} {}", t.name, t.metric));
  for (const ExperimentRun &r : e.runs) {
    std::vector<std::string> row = {r.key,
                                    r.config,
                                    settingsText(r.weights, r.balance, r.lr),
                                    std::to_string(r.seed),
                                    r.fold >= 0 ? std::to_string(r.fold + 1) : "-",
                                    r.failed ? "-" : fmt::format("{:.2f}", r.seconds),
                                    r.failed ? "failed" : std::to_string(r.epochs)};
    for (const ExperimentTask &t : e.tasks) {
      auto scores = std::find_if(r.scores.begin(), r.scores.end(),
                                 [&](const TaskValues &v) { return v.name == t.name; });
      row.push_back(scores == r.scores.end() ? "-" : cell(valueOf(scores->metrics, t.metric)));
    }
    table.rows.push_back(std::move(row));
  }
  page.beginFolded(fmt::format("Every run ({})", e.runs.size()));
  page.table(table);
  page.endFolded();
}

// The first seed's multi-task run with a log (else any run with one): its
// curves, and each task's validation loss beside its single-task run's.
Status addCurves(HtmlPage &page, const Experiment &e, const fs::path &dir) {
  const ExperimentRun *shown = nullptr;
  for (const ExperimentRun &r : e.runs)
    if (!r.log.empty() && fs::exists(dir / r.log) &&
        (!shown || (r.config == "mtl" && (shown->config != "mtl" || r.seed < shown->seed))))
      shown = &r;
  if (!shown)
    return Ok{};
  Result<RunHistory> history = readRunHistory((dir / shown->log).string());
  if (!history)
    return history.takeError();
  addRunPlots(page, *history, shown->key);
  if (shown->config != "mtl")
    return Ok{};
  std::vector<std::pair<std::string, RunHistory>> alone;
  for (const ExperimentRun &r : e.runs)
    if (r.config.starts_with("stl:") && r.seed == shown->seed && !r.log.empty() &&
        fs::exists(dir / r.log)) {
      Result<RunHistory> h = readRunHistory((dir / r.log).string());
      if (!h)
        return h.takeError();
      alone.emplace_back(r.config.substr(4), std::move(*h));
    }
  if (alone.empty())
    return Ok{};
  page.section(
      fmt::format("Validation loss, multi-task against single-task (seed {})", shown->seed));
  page.beginFigures();
  for (const auto &[task, stl] : alone) {
    LineChart chart;
    chart.title = fmt::format("{}: validation loss", task);
    chart.yLabel = "loss";
    auto addLine = [&](const char *name, const RunHistory &h, int color) {
      PlotLine line{name, {}, {}, color, color == kStlColor};
      for (const EpochPoint &p : h.epochs) {
        const TaskValues *v = p.validation ? p.validation->task(task) : nullptr;
        line.x.push_back(double(p.epoch));
        line.y.push_back(v ? v->loss : NAN);
      }
      chart.lines.push_back(std::move(line));
    };
    addLine("multi-task", *history, kMtlColor);
    addLine("single-task", stl, kStlColor);
    page.figure(lineChartSvg(chart));
  }
  page.endFigures();
  return Ok{};
}

} // namespace

Result<std::string> experimentReport(const std::string &folder) {
  Result<Experiment> read = readExperiment(folder);
  if (!read)
    return read.takeError();
  const Experiment &e = *read;
  if (!e.finished && e.runs.empty())
    return fail(fmt::format("{}: the experiment has no results.json, and runs.jsonl holds no "
                            "finished run yet",
                            folder));
  HtmlPage page(fmt::format("{}: experiment", e.model.empty() ? "model" : e.model));
  std::string lead = fmt::format("{}, {} seed{}", folder, e.seeds, e.seeds == 1 ? "" : "s");
  if (!e.baselines.empty())
    lead += fmt::format(", baselines {}", e.baselines);
  if (e.search)
    lead += fmt::format(", a {}-fold search by {}", e.search->folds, e.search->metric);
  if (e.finished)
    lead += fmt::format(", {}", formatDuration(e.seconds));
  page.lead(lead);
  if (e.finished) {
    addComparison(page, e);
    if (e.search)
      addSearch(page, *e.search);
  } else {
    page.warning(fmt::format("There is no results.json: the experiment is still running, or "
                             "stopped before it finished. This report shows the {} run{} that "
                             "runs.jsonl records.",
                             e.runs.size(), e.runs.size() == 1 ? "" : "s"));
  }
  if (!e.runs.empty()) {
    page.section("Runs");
    addRuns(page, e);
  }
  if (Status s = addCurves(page, e, fs::path(folder)); !s)
    return s.takeError();
  return page.html();
}

std::vector<std::string> experimentInputs(const std::string &folder) {
  const fs::path dir(folder);
  std::vector<std::string> read;
  // results.csv is not read, but is the experiment's too.
  for (const char *name : {"experiment.json", "runs.jsonl", "results.json", "results.csv"})
    read.push_back((dir / name).string());
  if (Result<Experiment> e = readExperiment(folder); e)
    for (const ExperimentRun &r : e->runs)
      if (!r.log.empty())
        read.push_back((dir / r.log).string());
  return read;
}

} // namespace mtlrt::report
