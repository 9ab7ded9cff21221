// RunPlots.cpp: a training log's curves: total loss, each task's loss and metrics, the balancing.
#include "mtlrt/Plot.h"
#include "mtlrt/Report.h"
#include "report/Sections.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace mtlrt::report {
namespace {

constexpr int kTrainColor = 0, kValidationColor = 1; // blue and orange on every page

bool anyFinite(const std::vector<double> &ys) {
  return std::any_of(ys.begin(), ys.end(), [](double y) { return std::isfinite(y); });
}

std::vector<double> epochsOf(const RunHistory &h) {
  std::vector<double> xs;
  for (const EpochPoint &e : h.epochs)
    xs.push_back(double(e.epoch));
  return xs;
}

// A series of `get` over the epochs (NaN where an epoch lacks it).
template <typename Get> std::vector<double> series(const RunHistory &h, Get get) {
  std::vector<double> ys;
  for (const EpochPoint &e : h.epochs)
    ys.push_back(get(e));
  return ys;
}

// A chart of a training and a validation series, each only when it has a value.
std::string trainValChart(const std::string &title, const std::string &yLabel,
                          const std::vector<double> &xs, std::vector<double> train,
                          std::vector<double> validation) {
  LineChart chart;
  chart.title = title;
  chart.yLabel = yLabel;
  if (anyFinite(train))
    chart.lines.push_back({"training", xs, std::move(train), kTrainColor, false});
  if (anyFinite(validation))
    chart.lines.push_back({"validation", xs, std::move(validation), kValidationColor, true});
  return lineChartSvg(chart);
}

const Scores *validation(const EpochPoint &e) { return e.validation ? &*e.validation : nullptr; }

double taskLoss(const Scores *s, const std::string &task) {
  const TaskValues *t = s ? s->task(task) : nullptr;
  return t ? t->loss : NAN;
}

double taskMetric(const Scores *s, const std::string &task, const std::string &metric) {
  const TaskValues *t = s ? s->task(task) : nullptr;
  return t ? valueOf(t->metrics, metric) : NAN;
}

// The metrics any epoch recorded for `task`, in the order they were logged.
std::vector<std::string> metricsOf(const RunHistory &h, const std::string &task) {
  std::vector<std::string> names;
  auto add = [&](const Scores *s) {
    if (const TaskValues *t = s ? s->task(task) : nullptr)
      for (const auto &[name, value] : t->metrics)
        if (std::find(names.begin(), names.end(), name) == names.end())
          names.push_back(name);
  };
  for (const EpochPoint &e : h.epochs) {
    add(&e.train);
    add(validation(e));
  }
  return names;
}

// "Title", or "Title (whose)".
std::string titled(const char *title, const std::string &whose) {
  return whose.empty() ? title : fmt::format("{} ({})", title, whose);
}

void addTaskPlots(HtmlPage &page, const RunHistory &h, const std::vector<double> &xs,
                  const std::string &whose) {
  page.section(titled("Tasks", whose));
  for (const std::string &task : taskNames(h)) {
    auto info = std::find_if(h.tasks.begin(), h.tasks.end(),
                             [&](const LoggedTask &t) { return t.name == task; });
    std::string heading = task;
    if (info != h.tasks.end() && !info->kind.empty())
      heading += fmt::format(" ({}{})", info->kind, info->auxiliary ? ", auxiliary" : "");
    page.subsection(heading);
    page.beginFigures();
    page.figure(trainValChart(
        fmt::format("{}: loss", task), "loss", xs,
        series(h, [&](const EpochPoint &e) { return taskLoss(&e.train, task); }),
        series(h, [&](const EpochPoint &e) { return taskLoss(validation(e), task); })));
    for (const std::string &metric : metricsOf(h, task))
      page.figure(trainValChart(
          fmt::format("{}: {}", task, metric), metric, xs,
          series(h, [&](const EpochPoint &e) { return taskMetric(&e.train, task, metric); }),
          series(h, [&](const EpochPoint &e) { return taskMetric(validation(e), task, metric); })));
    page.endFigures();
  }
}

// One line per named value (a task, a pair of tasks) over the epochs.
LineChart namedLines(const RunHistory &h, const std::vector<std::string> &names,
                     NamedValues EpochPoint::*field) {
  LineChart chart;
  const std::vector<double> xs = epochsOf(h);
  for (size_t k = 0; k < names.size(); ++k)
    chart.lines.push_back(
        {names[k], xs, series(h, [&](const EpochPoint &e) { return valueOf(e.*field, names[k]); }),
         int(k), k >= 7}); // past the palette's seven colours, dashes tell the lines apart
  return chart;
}

void addBalancePlots(HtmlPage &page, const RunHistory &h, const std::string &whose) {
  const std::vector<std::string> tasks = taskNames(h);
  std::vector<std::string> pairs;
  for (const EpochPoint &e : h.epochs)
    for (const auto &[pair, value] : e.cosines)
      if (std::find(pairs.begin(), pairs.end(), pair) == pairs.end())
        pairs.push_back(pair);
  page.section(titled("Task balancing", whose));
  page.paragraph(fmt::format(
      "Balancing method: {}. Each task's effective weight on the shared gradient is the median "
      "over an epoch's steps{}.",
      h.balance.empty() ? "not logged" : h.balance,
      pairs.empty() ? ""
                    : "; gradient norms and cosines are the means over its steps, of each task's "
                      "weighted gradient on the shared parameters"));
  page.beginFigures();
  LineChart weights = namedLines(h, tasks, &EpochPoint::weights);
  weights.title = "task weights";
  weights.yLabel = "effective weight";
  page.figure(lineChartSvg(weights));
  if (std::any_of(h.epochs.begin(), h.epochs.end(),
                  [](const EpochPoint &e) { return !e.gradNorms.empty(); })) {
    LineChart norms = namedLines(h, tasks, &EpochPoint::gradNorms);
    norms.title = "gradient norms on the shared parameters";
    norms.yLabel = "norm";
    page.figure(lineChartSvg(norms));
  }
  page.endFigures();
  if (pairs.empty())
    return;
  HeatMap map;
  map.title = "gradient cosine between tasks (red: conflicting, blue: aligned)";
  map.columns = epochsOf(h);
  double largest = 0;
  for (const std::string &pair : pairs) {
    std::string label = pair;
    if (size_t comma = label.find(','); comma != std::string::npos)
      label.replace(comma, 1, " / ");
    map.rows.push_back(label);
    for (const EpochPoint &e : h.epochs) {
      map.values.push_back(valueOf(e.cosines, pair));
      if (std::isfinite(map.values.back()))
        largest = std::max(largest, std::fabs(map.values.back()));
    }
  }
  // The scale's end: the smallest of 0.1, 0.2, 0.5 and 1 that holds every cosine.
  for (double limit : {0.1, 0.2, 0.5, 1.0})
    if (largest <= limit) {
      map.limit = limit;
      break;
    }
  page.beginFigures();
  page.figure(heatMapSvg(map));
  page.endFigures();
}

// One chart per gate: its mean weight on each expert over the epochs.
void addGatePlots(HtmlPage &page, const RunHistory &h, const std::string &whose) {
  std::vector<const GateValues *> gates; // as the first epoch that has each names it
  for (const EpochPoint &e : h.epochs)
    for (const GateValues &g : e.gates)
      if (std::none_of(gates.begin(), gates.end(),
                       [&](const GateValues *seen) { return seen->name == g.name; }))
        gates.push_back(&g);
  page.section(titled("Gates", whose));
  page.paragraph("Each mix gate's mean weight on each expert over an epoch's training rows "
                 "labelled for its task: which experts each task uses.");
  page.beginFigures();
  for (const GateValues *gate : gates) {
    LineChart chart;
    chart.title = gate->task.empty() ? fmt::format("{} (several tasks)", gate->name)
                                     : fmt::format("{} ({})", gate->name, gate->task);
    chart.yLabel = "mean weight";
    const std::vector<double> xs = epochsOf(h);
    for (size_t k = 0; k < gate->experts.size(); ++k) {
      const std::string &expert = gate->experts[k].first;
      std::vector<double> ys = series(h, [&](const EpochPoint &e) {
        for (const GateValues &g : e.gates)
          if (g.name == gate->name)
            return valueOf(g.experts, expert);
        return double(NAN);
      });
      chart.lines.push_back({expert, xs, std::move(ys), int(k), k >= 7});
    }
    page.figure(lineChartSvg(chart));
  }
  page.endFigures();
}

} // namespace

std::vector<std::string> taskNames(const RunHistory &h) {
  std::vector<std::string> names;
  for (const LoggedTask &t : h.tasks)
    names.push_back(t.name);
  if (names.empty() && !h.epochs.empty())
    for (const TaskValues &t : h.epochs.front().train.tasks)
      names.push_back(t.name);
  return names;
}

std::string cell(double value) { return formatValue(value); }

void addRunPlots(HtmlPage &page, const RunHistory &h, const std::string &whose) {
  const std::vector<double> xs = epochsOf(h);
  page.section(titled("Losses", whose));
  page.beginFigures();
  page.figure(trainValChart(
      "total loss", "loss", xs, series(h, [](const EpochPoint &e) { return e.train.loss; }),
      series(h, [](const EpochPoint &e) { return e.validation ? e.validation->loss : NAN; })));
  std::vector<double> lr = series(h, [](const EpochPoint &e) { return e.lr; });
  auto [lo, hi] = std::minmax_element(lr.begin(), lr.end());
  if (anyFinite(lr) && *lo != *hi) {
    LineChart chart{
        .title = "learning rate", .yLabel = "lr", .lines = {{"", xs, lr, kTrainColor, false}}};
    page.figure(lineChartSvg(chart));
  }
  page.endFigures();
  addTaskPlots(page, h, xs, whose);
  if (std::any_of(h.epochs.begin(), h.epochs.end(),
                  [](const EpochPoint &e) { return !e.weights.empty(); }))
    addBalancePlots(page, h, whose);
  if (std::any_of(h.epochs.begin(), h.epochs.end(),
                  [](const EpochPoint &e) { return !e.gates.empty(); }))
    addGatePlots(page, h, whose);
}

void addEpochTable(HtmlPage &page, const RunHistory &h) {
  HtmlTable t;
  t.header = {"epoch", "lr", "train loss", "val loss"};
  const std::vector<std::string> tasks = taskNames(h);
  // Validation metrics, or the training ones of a run without validation data.
  const bool validated = std::any_of(h.epochs.begin(), h.epochs.end(),
                                     [](const EpochPoint &e) { return e.validation.has_value(); });
  std::vector<std::vector<std::string>> metrics;
  for (const std::string &task : tasks) {
    t.header.push_back(task + " train loss");
    t.header.push_back(task + " val loss");
    metrics.push_back(metricsOf(h, task));
    for (const std::string &m : metrics.back())
      t.header.push_back(fmt::format("{} {} {}", task, validated ? "val" : "train", m));
  }
  // A long run's table holds every stride-th epoch and the last: a page,
  // not the log (which holds them all).
  constexpr size_t kMaxRows = 2000;
  // The smallest stride that keeps the rows, the last included, at most kMaxRows.
  const size_t n = h.epochs.size(),
               stride = n <= kMaxRows ? 1 : (n - 1 + kMaxRows - 2) / (kMaxRows - 1);
  for (size_t i = 0; i < n; ++i) {
    if (i % stride != 0 && i + 1 != n)
      continue;
    const EpochPoint &e = h.epochs[i];
    std::vector<std::string> row = {std::to_string(e.epoch), cell(e.lr), cell(e.train.loss),
                                    cell(e.validation ? e.validation->loss : NAN)};
    for (size_t k = 0; k < tasks.size(); ++k) {
      row.push_back(cell(taskLoss(&e.train, tasks[k])));
      row.push_back(cell(taskLoss(validation(e), tasks[k])));
      for (const std::string &m : metrics[k])
        row.push_back(cell(taskMetric(validated ? validation(e) : &e.train, tasks[k], m)));
    }
    t.rows.push_back(std::move(row));
  }
  page.beginFolded(stride == 1 ? fmt::format("Every epoch's numbers ({} epochs)", n)
                               : fmt::format("One epoch's numbers in {} from the first, and "
                                             "the last's ({} epochs; the log holds them all)",
                                             stride, n));
  page.table(t);
  page.endFolded();
}

} // namespace mtlrt::report
