// Report.cpp: formatting the epoch table and the final summary for people.
#include "mtlrt/Report.h"

#include "mtlrt/Metrics.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace mtlrt {

std::vector<std::string> metricNames(uint32_t bits) {
  std::vector<std::string> names;
  for (int bit = 0; bit <= int(MetricKind::R2); ++bit)
    if (bits & (1u << bit))
      names.push_back(metricKindName(MetricKind(bit)));
  return names;
}

const char *taskKindName(int32_t kind) {
  switch (kind) {
  case MTL_REGRESS:
    return "regress";
  case MTL_BINARY:
    return "binary";
  case MTL_CLASSIFY:
    return "classify";
  case MTL_MULTILABEL:
    return "multilabel";
  }
  return "unknown";
}

std::string formatValue(double v) {
  if (std::isnan(v))
    return "-";
  double a = std::fabs(v);
  if (a != 0 && (a >= 1e5 || a < 1e-3))
    return fmt::format("{:.3e}", v);
  return fmt::format("{:.4f}", v);
}

std::string formatTaskLoss(double loss, double labelled) {
  return labelled > 0 ? formatValue(loss) : "-";
}

std::string formatDuration(double seconds) {
  // A summary written by hand, or another tool's, may hold anything here.
  if (!(seconds >= 0) || std::isinf(seconds))
    return "an unknown time";
  if (seconds >= 3.6e12) // past a billion hours: no whole hours to count
    return fmt::format("{:.3g} h", seconds / 3600);
  double ms = seconds * 1e3;
  if (ms < 9.95)
    return fmt::format("{:.1f} ms", ms);
  if (ms < 999.5)
    return fmt::format("{:.0f} ms", ms);
  if (seconds < 9.995)
    return fmt::format("{:.2f} s", seconds);
  if (seconds < 59.95)
    return fmt::format("{:.1f} s", seconds);
  auto s = int64_t(std::llround(seconds));
  if (s < 3600)
    return fmt::format("{} min {:02} s", s / 60, s % 60);
  return fmt::format("{} h {:02} min", s / 3600, s / 60 % 60);
}

bool compactTableShows(int64_t epoch, int64_t epochs) {
  constexpr int64_t kAll = 20, kFirst = 3, kMultiples = 15;
  if (epochs <= kAll || epoch <= kFirst || epoch == epochs)
    return true;
  // 2, 5, 10, 20, 50, 100, ...: round epoch numbers are easy to read down a column.
  for (int64_t scale = 1;; scale *= 10)
    for (int64_t every : {2 * scale, 5 * scale, 10 * scale})
      if (epochs / every <= kMultiples)
        return epoch % every == 0;
}

EpochTable::EpochTable(std::FILE *out, const mtl_model &model, bool validation, bool trainMetrics)
    : out(out), validation(validation), trainMetrics(trainMetrics),
      penalty(model.has_penalty != 0) {
  auto column = [](std::string label) {
    size_t width = std::max<size_t>(label.size(), 9);
    return Column{std::move(label), width};
  };
  groups.push_back({"", {column("epoch")}});
  Group total{"total", {column("train")}};
  if (penalty) // the train total is Σ w_t (task train loss) + this
    total.columns.push_back(column("penalty"));
  if (validation)
    total.columns.push_back(column("val"));
  groups.push_back(std::move(total));
  for (int32_t t = 0; t < model.num_tasks; ++t) {
    const mtl_task_desc &task = model.tasks[t];
    Group g{std::string(task.name) + (task.auxiliary ? " (aux)" : ""), {column("train")}};
    std::vector<std::string> names = metricNames(task.metrics);
    if (trainMetrics)
      for (const std::string &name : names)
        g.columns.push_back(column("train " + name));
    if (validation) {
      g.columns.push_back(column("val"));
      for (const std::string &name : names)
        g.columns.push_back(column(name));
    }
    groups.push_back(std::move(g));
  }
  // A group's title must fit over its columns.
  for (Group &g : groups) {
    size_t width = 0;
    for (const Column &c : g.columns)
      width += c.width + 1;
    if (g.title.size() + 1 > width)
      g.columns.back().width += g.title.size() + 1 - width;
  }
}

void EpochTable::printRow(const std::vector<std::vector<std::string>> &cells) {
  std::string line;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (g > 0)
      line += " |";
    for (size_t c = 0; c < groups[g].columns.size(); ++c)
      line += fmt::format(" {:>{}}", cells[g][c], groups[g].columns[c].width);
  }
  std::fprintf(out, "%s\n", line.c_str());
}

void EpochTable::header() {
  if (!out)
    return;
  std::string titles;
  for (size_t g = 0; g < groups.size(); ++g) {
    size_t width = 0;
    for (const Column &c : groups[g].columns)
      width += c.width + 1;
    titles += fmt::format("{}{:<{}}", g > 0 ? " |" : "", " " + groups[g].title, width);
  }
  // Trailing blanks would only confuse diffs of captured output.
  titles.erase(titles.find_last_not_of(' ') + 1);
  std::fprintf(out, "%s\n", titles.c_str());
  std::vector<std::vector<std::string>> labels;
  for (const Group &g : groups) {
    labels.emplace_back();
    for (const Column &c : g.columns)
      labels.back().push_back(c.label);
  }
  printRow(labels);
  std::fflush(out);
}

void EpochTable::row(const EpochRecord &r) {
  if (!out)
    return;
  std::vector<std::vector<std::string>> cells;
  cells.push_back({std::to_string(r.epoch)});
  cells.push_back({formatValue(r.train.loss)});
  if (penalty)
    cells.back().push_back(formatValue(r.train.penalty));
  if (validation)
    cells.back().push_back(r.validation ? formatValue(r.validation->loss) : "-");
  for (size_t t = 0; t < r.train.tasks.size(); ++t) {
    const TaskScores &trained = r.train.tasks[t];
    std::vector<std::string> group{formatTaskLoss(trained.loss, trained.labelled)};
    if (trainMetrics)
      for (const MetricValue &m : r.train.tasks[t].metrics)
        group.push_back(formatValue(m.value));
    if (validation && r.validation) {
      const TaskScores &v = r.validation->tasks[t];
      group.push_back(formatTaskLoss(v.loss, v.labelled));
      for (const MetricValue &m : v.metrics)
        group.push_back(formatValue(m.value));
    }
    group.resize(groups[t + 2].columns.size(), "-");
    cells.push_back(std::move(group));
  }
  printRow(cells);
  std::fflush(out);
}

namespace {
void printTasks(std::FILE *out, const EvalReport &report, bool auxiliary) {
  size_t width = 4;
  for (const TaskScores &t : report.tasks)
    width = std::max(width, t.name.size());
  for (const TaskScores &t : report.tasks) {
    if (t.auxiliary != auxiliary)
      continue;
    std::string line =
        fmt::format("  {:<{}}  loss {}", t.name, width, formatTaskLoss(t.loss, t.labelled));
    for (const MetricValue &m : t.metrics)
      line += fmt::format("  {} {}", m.name, formatValue(m.value));
    std::fprintf(out, "%s\n", line.c_str());
  }
}

void printReport(std::FILE *out, const std::string &title, const EvalReport &report) {
  std::fprintf(out, "%s (%lld rows, total loss %s):\n", title.c_str(), (long long)report.rows,
               formatValue(report.loss).c_str());
  printTasks(out, report, false);
  if (std::any_of(report.tasks.begin(), report.tasks.end(),
                  [](const TaskScores &t) { return t.auxiliary; })) {
    std::fprintf(out, " auxiliary tasks:\n");
    printTasks(out, report, true);
  }
}
/// One line per gate: its task and mean weight on each expert (GateMeans).
void printGates(std::FILE *out, const std::string &title, const std::vector<GateMeans> &gates) {
  std::fprintf(out, "%s:\n", title.c_str());
  std::vector<std::string> heads;
  size_t width = 0;
  for (const GateMeans &g : gates) {
    heads.push_back(fmt::format("{} ({})", g.name, g.task.empty() ? "several tasks" : g.task));
    width = std::max(width, heads.back().size());
  }
  for (size_t k = 0; k < gates.size(); ++k) {
    std::string line = fmt::format("  {:<{}}", heads[k], width);
    for (size_t j = 0; j < gates[k].experts.size() && j < gates[k].means.size(); ++j)
      line += fmt::format("  {} {}", gates[k].experts[j],
                          std::isnan(gates[k].means[j]) ? "-"
                                                        : fmt::format("{:.3f}", gates[k].means[j]));
    std::fprintf(out, "%s\n", line.c_str());
  }
}

/// " on N threads (a step took ...)" where the threads were measured, else "".
std::string threadsChosen(const ThreadUse &use) {
  if (use.poolSeconds <= 0)
    return "";
  auto step = [](double seconds) {
    return seconds < 1e-3 ? fmt::format("{:.0f} µs", seconds * 1e6) : formatDuration(seconds);
  };
  return fmt::format(" on {} thread{} (a step took {} on {} threads, {} on one)", use.threads,
                     use.threads == 1 ? "" : "s", step(use.poolSeconds), use.pool,
                     step(use.oneSeconds));
}
} // namespace

void printSummary(std::FILE *out, const mtl_model &model, const TrainResult &result,
                  const std::string &monitor) {
  if (!out || result.epochs.empty())
    return;
  size_t epochs = result.epochs.size();
  std::fprintf(
      out, "\n%s: %zu epoch%s, %lld step%s in %s%s%s\n", model.name ? model.name : "model", epochs,
      epochs == 1 ? "" : "s", (long long)result.steps, result.steps == 1 ? "" : "s",
      formatDuration(result.seconds).c_str(), threadsChosen(result.threads).c_str(),
      result.stoppedEarly ? fmt::format(" (stopped early: no improvement in {})", monitor).c_str()
                          : "");
  // Both ends of the run, each labelled; the kept parameters are the test's.
  const EpochRecord &last = result.epochs.back();
  const EpochRecord *kept = result.record(result.keptEpoch);
  if (last.validation) {
    if (kept && kept != &last)
      printReport(out, fmt::format("validation, epoch {} (best by {}; kept)", kept->epoch, monitor),
                  *kept->validation);
    else if (!kept)
      std::fprintf(out, "kept: epoch %lld, the best by %s (before this run resumed)\n",
                   (long long)result.keptEpoch, monitor.c_str());
    // No best epoch: no validation pass had a finite value to monitor.
    printReport(
        out,
        fmt::format(
            "validation, epoch {} (last{})", last.epoch,
            kept != &last ? ""
            : result.bestEpoch <= 0
                ? fmt::format("; kept, no epoch's validation {} was finite", monitor)
            : result.bestEpoch == last.epoch
                ? fmt::format(", best by {}; kept", monitor)
                : fmt::format("; kept, not the best by {}: epoch {}", monitor, result.bestEpoch)),
        *last.validation);
  } else {
    printReport(out, fmt::format("training, epoch {} (last; kept)", last.epoch), last.train);
  }
  if (result.test)
    printReport(out, fmt::format("test, with the parameters of epoch {}", result.keptEpoch),
                *result.test);
  const EpochRecord &gated = kept ? *kept : last;
  if (!gated.gates.empty())
    printGates(out,
               fmt::format("gates, epoch {}{}: mean weight on each expert over the task's "
                           "training rows",
                           gated.epoch, &gated == kept ? " (kept)" : " (last)"),
               gated.gates);
  std::fflush(out);
}

} // namespace mtlrt
