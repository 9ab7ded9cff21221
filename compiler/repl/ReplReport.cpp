// ReplReport.cpp: what the REPL shows: :show, :time, :runs, :compare and :plot.
#include "driver/Printers.h"
#include "driver/Shapes.h"
#include "repl/ReplSession.h"

#include "mtlrt/AtomicFile.h"
#include "mtlrt/Plot.h"
#include "mtlrt/Report.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>

namespace mtl::driver {
namespace {

// "task.metric" → value for one run's validation scores, in a stable order.
std::vector<std::pair<std::string, double>> scoreList(const ReplRun &r) {
  std::vector<std::pair<std::string, double>> out;
  for (const mtlrt::TaskScores &t : r.validation) {
    out.emplace_back(fmt::format("{}.loss", t.name), t.loss);
    for (const mtlrt::MetricValue &m : t.metrics)
      out.emplace_back(fmt::format("{}.{}", t.name, m.name), m.value);
  }
  return out;
}

std::string weightsText(const ReplRun &r) {
  std::vector<std::string> parts;
  for (const auto &[task, w] : r.weights)
    parts.push_back(fmt::format("{}={:g}", task, w));
  return fmt::format("{}", fmt::join(parts, " "));
}

// One task's loss per epoch as a text chart, `height` rows high.
void plotSeries(const std::string &task, const std::vector<double> &ys) {
  constexpr int kHeight = 8, kWidth = 60;
  int n = static_cast<int>(ys.size());
  int width = std::min(n, kWidth);
  double lo = *std::min_element(ys.begin(), ys.end());
  double hi = *std::max_element(ys.begin(), ys.end());
  std::vector<std::string> rows(kHeight, std::string(width, ' '));
  for (int c = 0; c < width; ++c) {
    double y = ys[static_cast<size_t>(c) * n / width];
    int row =
        hi > lo ? static_cast<int>(std::lround((hi - y) / (hi - lo) * (kHeight - 1))) : kHeight / 2;
    rows[row][c] = '*';
  }
  fmt::print("{}: training loss per epoch (epochs 1-{})\n", task, n);
  for (int r = 0; r < kHeight; ++r) {
    std::string label;
    if (r == 0)
      label = fmt::format("{:.4f}", hi);
    else if (r == kHeight - 1)
      label = fmt::format("{:.4f}", lo);
    fmt::print("  {:>10} |{}\n", label, rows[r]);
  }
  fmt::print("  {:>10} +{}\n", "", std::string(width, '-'));
  std::string axis = fmt::format("1{:>{}}", n, std::max(width - 1, 1));
  fmt::print("  {:>10}  {}\n", "", width > 1 ? axis : "1");
}

} // namespace

void ReplSession::printBalance(const sema::Model &m) const {
  const std::string method = overrides_.balance.value_or(m.balance.text);
  fmt::print("balance {}{}\n", method, overrides_.balance ? " (:set)" : "");
  if (runs_.empty()) {
    fmt::print("  no run yet: :train, then :show balance tells what it did\n");
    return;
  }
  const ReplRun &run = runs_.back();
  const mtlrt::BalanceStats &b = run.balancing;
  fmt::print("run {} ({}), its last epoch, {} steps:\n", run.number, run.balance, b.steps);
  // The run's own tasks: a model loaded since may have others.
  std::vector<std::string> tasks;
  for (const auto &[name, weight] : run.weights)
    tasks.push_back(name);
  const size_t n = std::min(b.weights.size(), tasks.size());
  size_t width = 4;
  for (const std::string &t : tasks)
    width = std::max(width, t.size());
  const bool grads = b.gradNorms.size() == b.weights.size();
  fmt::print("  {:<{}}  {:>8}{}\n", "task", width, "weight", grads ? "  grad norm" : "");
  for (size_t t = 0; t < n; ++t)
    fmt::print("  {:<{}}  {:>8.4g}{}\n", tasks[t], width, b.weights[t],
               grads ? fmt::format("  {:>9.4g}", b.gradNorms[t]) : "");
  if (!grads) {
    fmt::print("  (gradient statistics: with a gradient method, or :set balance pcgrad ...)\n");
    return;
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j)
      fmt::print("  {} / {}: cosine {:+.3f}, conflicting in {:.0f}% of steps\n", tasks[i], tasks[j],
                 b.cosines[i * b.weights.size() + j], 100 * b.conflicts[i * b.weights.size() + j]);
}

void ReplSession::printGates() const {
  const ReplRun *run = runs_.empty() ? nullptr : &runs_.back();
  if (c_->compiled->num_gates == 0) {
    fmt::print("the model has no gates (mix(gate, expert, ...) has one)\n");
    return;
  }
  if (!run || run->gates.empty()) {
    fmt::print("no run yet: :train, then :show gates tells which experts each task used\n");
    return;
  }
  const auto epochs = static_cast<int64_t>(run->gates.size());
  fmt::print("run {}, each gate's mean weight on its experts over the task's training rows:\n",
             run->number);
  for (size_t g = 0; g < run->gates.front().size(); ++g) {
    const mtlrt::GateMeans &first = run->gates.front()[g];
    fmt::print("  {} ({})\n    epoch", first.name,
               first.task.empty() ? "several tasks" : "task " + first.task);
    std::vector<size_t> widths;
    for (const std::string &e : first.experts) {
      widths.push_back(std::max<size_t>(6, e.size()));
      fmt::print("  {:>{}}", e, widths.back());
    }
    fmt::print("\n");
    for (int64_t e = 1; e <= epochs; ++e) {
      if (!mtlrt::compactTableShows(e, epochs))
        continue;
      fmt::print("    {:>5}", e);
      const std::vector<double> &means = run->gates[size_t(e - 1)][g].means;
      for (size_t j = 0; j < means.size() && j < widths.size(); ++j)
        fmt::print("  {:>{}}", std::isnan(means[j]) ? "-" : fmt::format("{:.4f}", means[j]),
                   widths[j]);
      fmt::print("\n");
    }
  }
}

bool ReplSession::show(const std::string &what) {
  if (!needLoaded())
    return false;
  const sema::Model &m = *c_->model;
  if (what == "shapes") {
    printModelShapes(m);
    return true;
  }
  if (what == "balance") {
    printBalance(m);
    return true;
  }
  if (what == "gates") {
    printGates();
    return true;
  }
  if (what == "data") {
    printData();
    return true;
  }
  if (what == "tasks") {
    for (const sema::Task &t : m.tasks) {
      std::vector<std::string> metrics;
      for (sema::Metric x : t.metrics)
        metrics.push_back(sema::metricName(x));
      bool overridden = std::any_of(overrides_.weights.begin(), overrides_.weights.end(),
                                    [&](const auto &w) { return w.first == t.name; });
      fmt::print("  {:<12} {:<16} loss {:<14} weight {:g}{}  metrics {}{}\n", t.name,
                 sema::taskKindText(t), sema::lossName(t.loss), weightOf(t.name),
                 overridden ? " (:set)" : "", fmt::join(metrics, ", "),
                 t.auxiliary ? "  auxiliary" : "");
    }
    return true;
  }
  if (what == "params") {
    const mtl_model &d = *c_->compiled;
    size_t nameWidth = 24; // wider for long names (uncertainty.<task>.log_var)
    for (int i = 0; i < d.num_params; ++i)
      nameWidth = std::max(nameWidth, std::string_view(d.params[i].name).size());
    int64_t trained = 0; // elements, without the arena's padding or the buffers
    for (int i = 0; i < d.num_params; ++i) {
      const mtl_tensor_desc &t = d.params[i];
      trained += t.buffer ? 0 : t.size;
      std::vector<int64_t> dims(t.dims, t.dims + t.rank);
      std::string norm = "-";
      if (!params_.empty()) {
        double sum = 0;
        for (int64_t k = 0; k < t.size; ++k)
          sum += double(params_[t.offset + k]) * params_[t.offset + k];
        norm = fmt::format("{:.4f}", std::sqrt(sum));
      }
      fmt::print("  {:<{}} {:<12} {:>8}  norm {}{}\n", t.name, nameWidth,
                 fmt::format("[{}]", fmt::join(dims, ", ")), t.size, norm,
                 t.buffer ? "  (buffer, not trained)" : "");
    }
    fmt::print("  {} parameters{}\n", trained,
               params_.empty()
                   ? " (not trained: initialised at the next :train)"
                   : fmt::format(", trained for {} step{}", step_, step_ == 1 ? "" : "s"));
    return true;
  }
  static const std::vector<std::string> stages = {"ast", "ir", "grad", "opt", "llvm", "asm"};
  if (std::find(stages.begin(), stages.end(), what) == stages.end()) {
    fmt::print("error: :show takes ast, ir, grad, opt, llvm, asm, shapes, params, tasks, balance, "
               "gates or data, not '{}'\n",
               what);
    return false;
  }
  PipelineOptions po;
  po.text = text_;
  po.modelName = modelName_;
  po.target.cpu = targetCpu_;
  Compilation c;
  bool ok = runPipeline(path_, emitStage(what), c, po);
  c.diags.flush(stdout, color_);
  if (!ok)
    return false;
  auto text = emitText(what, c);
  if (!text) {
    fmt::print("error: {}\n", llvm::toString(text.takeError()));
    return false;
  }
  fmt::print("{}", *text);
  return true;
}

void ReplSession::printTime() const {
  if (!c_) {
    fmt::print("nothing compiled yet\n");
    return;
  }
  fmt::print("last compilation: {:.1f} ms (-O{})\n", compileMs_, backend::TargetOptions{}.optLevel);
  for (const auto &[stage, ms] : compileTimes_)
    fmt::print("  {:<9} {:8.2f} ms\n", stage, ms);
  const backend::FunctionCacheReport &r = cacheReport_;
  if (r.indexed)
    fmt::print("functions: {} reused from earlier compilations, {} from the disk cache, as the "
               "model's index in the disk cache lists them (no code was generated)\n",
               r.reused, r.loaded);
  else
    fmt::print("functions: {} compiled, {} reused from earlier compilations, {} from the disk "
               "cache, {} identical to another of the model, {} in the model's own module\n",
               r.compiled, r.reused, r.loaded, r.duplicates, r.kept);
  if (runs_.empty())
    fmt::print("no training run yet\n");
  else if (runs_.back().failedAfter > 0)
    fmt::print("last training run (run {}): failed after step {}, not timed\n", runs_.back().number,
               runs_.back().failedAfter);
  else
    fmt::print("last training run (run {}): {:.1f} µs/step\n", runs_.back().number,
               runs_.back().usPerStep);
}

void ReplSession::printRuns() const {
  if (runs_.empty()) {
    fmt::print("no training runs yet; use :train\n");
    return;
  }
  std::vector<std::string> columns;
  for (const ReplRun &r : runs_)
    for (const auto &[name, v] : scoreList(r))
      if (std::find(columns.begin(), columns.end(), name) == columns.end())
        columns.push_back(name);
  std::string header = fmt::format("{:>3}  {:<8} {:>5} {:>6} {:>5}  {:<20}", "run", "lr", "batch",
                                   "epochs", "seed", "weights");
  for (const std::string &c : columns)
    header += fmt::format(" {:>{}}", c, std::max<size_t>(c.size(), 7));
  fmt::print("{}\n", header);
  for (const ReplRun &r : runs_) {
    std::string line = fmt::format("{:>3}  {:<8g} {:>5} {:>6} {:>5}  {:<20}", r.number, r.lr,
                                   r.batch, r.epochs, r.seed, weightsText(r));
    auto scores = scoreList(r);
    for (const std::string &c : columns) {
      auto it =
          std::find_if(scores.begin(), scores.end(), [&](const auto &s) { return s.first == c; });
      std::string v = it == scores.end() ? "-" : fmt::format("{:.4f}", it->second);
      line += fmt::format(" {:>{}}", v, std::max<size_t>(c.size(), 7));
    }
    std::vector<std::string> notes;
    if (r.continued)
      notes.push_back("continued");
    if (r.interruptedAt > 0)
      notes.push_back(fmt::format("interrupted at step {}", r.interruptedAt));
    if (r.failedAfter > 0)
      notes.push_back(fmt::format("failed after step {}", r.failedAfter));
    fmt::print("{}{}\n", line, notes.empty() ? "" : fmt::format("  ({})", fmt::join(notes, ", ")));
  }
}

bool ReplSession::compare(int a, int b) const {
  int n = static_cast<int>(runs_.size());
  for (int x : {a, b})
    if (x < 1 || x > n) {
      fmt::print("error: no run {} (runs: {})\n", x, n == 0 ? "none yet" : fmt::format("1-{}", n));
      return false;
    }
  const ReplRun &ra = runs_[a - 1], &rb = runs_[b - 1];
  // The model's versions in the session, numbered as the runs first met them.
  std::map<std::string, int> versions;
  for (const ReplRun &r : runs_)
    versions.emplace(r.source, int(versions.size()) + 1);
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> settings = {
      {"lr", {fmt::format("{:g}", ra.lr), fmt::format("{:g}", rb.lr)}},
      {"batch", {fmt::format("{}", ra.batch), fmt::format("{}", rb.batch)}},
      {"epochs", {fmt::format("{}", ra.epochs), fmt::format("{}", rb.epochs)}},
      {"seed", {fmt::format("{}", ra.seed), fmt::format("{}", rb.seed)}},
      {"balance", {ra.balance, rb.balance}},
      {"model version",
       {fmt::format("{}", versions[ra.source]), fmt::format("{}", versions[rb.source])}},
      {"continued", {ra.continued ? "yes" : "no", rb.continued ? "yes" : "no"}}};
  auto stoppedAt = [](const ReplRun &r) {
    return r.interruptedAt > 0 ? fmt::format("step {}", r.interruptedAt) : std::string("no");
  };
  if (ra.interruptedAt > 0 || rb.interruptedAt > 0)
    settings.push_back({"interrupted", {stoppedAt(ra), stoppedAt(rb)}});
  auto failedAfter = [](const ReplRun &r) {
    return r.failedAfter > 0 ? fmt::format("step {}", r.failedAfter) : std::string("no");
  };
  if (ra.failedAfter > 0 || rb.failedAfter > 0)
    settings.push_back({"failed after", {failedAfter(ra), failedAfter(rb)}});
  std::map<std::string, std::pair<std::string, std::string>> weights;
  for (const auto &[t, w] : ra.weights)
    weights[t] = {fmt::format("{:g}", w), "-"};
  for (const auto &[t, w] : rb.weights) {
    auto &slot = weights[t];
    if (slot.first.empty())
      slot.first.push_back('-'); // (assigning "-" trips GCC 12's -Wrestrict)
    slot.second = fmt::format("{:g}", w);
  }
  for (const auto &[t, v] : weights)
    settings.push_back({fmt::format("weight {}", t), v});
  size_t width = 12; // wider for a long setting, such as a method with arguments
  for (const auto &[name, v] : settings)
    width = std::max({width, v.first.size(), v.second.size()});
  fmt::print("{:<22} {:>{}} {:>{}}\n", "setting", fmt::format("run {}", a), width,
             fmt::format("run {}", b), width);
  for (const auto &[name, v] : settings)
    fmt::print("{:<22} {:>{}} {:>{}}{}\n", name, v.first, width, v.second, width,
               v.first != v.second ? "   * differs" : "");
  auto sa = scoreList(ra), sb = scoreList(rb);
  if (!sa.empty() || !sb.empty())
    fmt::print("{:<22} {:>12} {:>12} {:>10}\n", "validation", "", "", "b - a");
  for (const auto &[name, va] : sa) {
    auto it = std::find_if(sb.begin(), sb.end(), [&](const auto &s) { return s.first == name; });
    if (it == sb.end())
      fmt::print("{:<22} {:>12.4f} {:>12}\n", name, va, "-");
    else
      fmt::print("{:<22} {:>12.4f} {:>12.4f} {:>+10.4f}\n", name, va, it->second, it->second - va);
  }
  return true;
}

bool ReplSession::plot(const std::string &task, const std::string &svg) const {
  if (!svg.empty() && c_ && !writesNoInput(svg, ":plot --svg"))
    return false;
  if (mtlrt::Status s =
          mtlrt::replacesOnlyItsKind(svg, {"<svg", "<?xml"}, ":plot --svg", "an SVG image");
      !svg.empty() && !s) {
    fmt::print("error: {}\n", s.error());
    return false;
  }
  if (lossHistory_.empty()) { // a chart to write is missing; one to show is only empty
    fmt::print("{}nothing to plot: no epochs trained since the parameters were reset\n",
               svg.empty() ? "" : "error: ");
    return svg.empty();
  }
  mtlrt::LineChart chart;
  chart.title = "training loss per epoch";
  chart.yLabel = "loss";
  for (const auto &[name, ys] : lossHistory_)
    if (task.empty() || name == task) {
      if (svg.empty())
        plotSeries(name, ys);
      mtlrt::PlotLine line{name, {}, ys, int(chart.lines.size()), false};
      for (size_t e = 1; e <= ys.size(); ++e)
        line.x.push_back(double(e));
      chart.lines.push_back(std::move(line));
    }
  if (chart.lines.empty()) {
    std::vector<std::string> names;
    for (const auto &h : lossHistory_)
      names.push_back(h.first);
    fmt::print("error: no trained task named '{}' (tasks: {})\n", task, fmt::join(names, ", "));
    return false;
  }
  if (svg.empty())
    return true;
  if (mtlrt::Status s = mtlrt::writeOutputFile(svg, mtlrt::lineChartSvg(chart) + "\n", "the plot");
      !s) {
    fmt::print("error: {}\n", s.error());
    return false;
  }
  const size_t epochs = chart.lines.front().y.size();
  fmt::print("wrote {}: the training loss of {} over {} epoch{}\n", svg,
             task.empty() ? "every task" : task, epochs, epochs == 1 ? "" : "s");
  return true;
}

} // namespace mtl::driver
