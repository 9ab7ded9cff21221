// ReplPredict.cpp: the REPL's :predict ROWS: predictions of the current parameters beside the
// labels.
//
// The rows are those of the model's training data as loaded (1-based, in
// file order after rows with missing inputs were dropped), validation rows
// included. A Predictor (runtime/include/mtlrt/Predictor.h) with a copy of
// the current parameters and statistics turns the raw rows into what a user
// reads: the most likely class and its probability (classify and binary,
// where a binary task's classes are 0 and 1 or the data's names for them;
// "not finite", and no class, where the outputs are not numbers),
// per-label probabilities (multilabel), values on the data's scale
// (regress).
#include "repl/ReplSession.h"

#include "mtlrt/Predictor.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace mtl::driver {
namespace {

constexpr int64_t kMaxRows = 1000;

// A class id as the data names it: its name where the data has names.
std::string className(const std::vector<std::string> &names, int64_t id) {
  if (id >= 0 && id < static_cast<int64_t>(names.size()))
    return names[size_t(id)];
  return std::to_string(id);
}

// `n` values, each divided by `scale`.
std::string values(const float *v, int64_t n, double scale = 1.0) {
  std::vector<std::string> parts;
  for (int64_t k = 0; k < n; ++k)
    parts.push_back(fmt::format("{:.4g}", scale == 1.0 ? v[k] : float(v[k] / scale)));
  return fmt::format("{}", fmt::join(parts, ","));
}

// The prediction cell of one row of task `task` and the label cell beside it;
// a regression label read with `scale(x)` is shown divided by `scale`, as
// the prediction is.
std::pair<std::string, std::string> cells(const mtl_task_desc &task,
                                          const std::vector<std::string> &names, const float *out,
                                          const float *target, double scale) {
  int64_t w = task.width;
  std::string label = "-";
  switch (task.kind) {
  case MTL_CLASSIFY:
  case MTL_BINARY: {
    if (!std::isnan(target[0]))
      label = className(names, static_cast<int64_t>(target[0]));
    // Outputs that are not numbers choose no class.
    const int64_t cls = mtlrt::predictedClass(task, out);
    if (cls < 0)
      return {"not finite", label};
    const float p = task.kind == MTL_CLASSIFY ? out[cls] : cls ? out[0] : 1 - out[0];
    return {fmt::format("{} {:.3f}", className(names, cls), p), label};
  }
  case MTL_MULTILABEL:
    if (std::none_of(target, target + w, [](float x) { return std::isnan(x); }))
      label = values(target, w);
    return {values(out, w), label};
  default:
    if (std::none_of(target, target + w, [](float x) { return std::isnan(x); }))
      label = values(target, w, scale);
    return {values(out, w), label};
  }
}

} // namespace

bool ReplSession::predict(int64_t first, int64_t last) {
  if (!needLoaded())
    return false;
  if (!trainData_) {
    fmt::print("error: model '{}' has no data to predict on; add a `data` item\n", c_->model->name);
    return false;
  }
  if (!dataFollowsParams())
    return false;
  const mtlrt::Dataset &data = *trainData_;
  if (first < 1 || last < first || last > data.rows) {
    fmt::print("error: {} out of range: the training data '{}' has {} rows (1-{})\n",
               first == last ? fmt::format("row {} is", first)
                             : fmt::format("rows {}-{} are", first, last),
               data.name, data.rows, data.rows);
    return false;
  }
  int64_t rows = last - first + 1;
  if (rows > kMaxRows) {
    fmt::print("error: {} rows asked for; :predict shows at most {} at a time\n", rows, kMaxRows);
    return false;
  }
  auto trainer = currentTrainer();
  if (!trainer) {
    fmt::print("error: {}\n", trainer.error());
    return false;
  }
  auto predictor = mtlrt::Predictor::create(c_->compiled);
  if (!predictor) {
    fmt::print("error: {}\n", predictor.error());
    return false;
  }
  if (mtlrt::Status s = predictor->copyFrom(*trainer); !s) {
    fmt::print("error: {}\n", s.error());
    return false;
  }
  const mtl_model &m = *c_->compiled;
  // Rows of a data set that does not bind an input read it as 0, as training does.
  const std::vector<int64_t> picked = [&] {
    std::vector<int64_t> r;
    for (int64_t k = first - 1; k < last; ++k)
      r.push_back(k);
    return r;
  }();
  mtlrt::Dataset shown = mtlrt::subsetRows(data, picked);
  std::vector<const float *> inputs;
  for (size_t i = 0; i < shown.inputs.size(); ++i) {
    for (float &v : shown.inputs[i].write())
      v = std::isnan(v) ? 0.0f : v;
    inputs.push_back(shown.inputs[i].data());
  }
  std::vector<std::vector<float>> outputs(size_t(m.num_tasks));
  std::vector<float *> outputPtrs;
  for (int t = 0; t < m.num_tasks; ++t) {
    outputs[size_t(t)].assign(size_t(rows * m.tasks[t].width), 0.0f);
    outputPtrs.push_back(outputs[size_t(t)].data());
  }
  if (mtlrt::Status s = predictor->predict(rows, inputs, outputPtrs); !s) {
    fmt::print("error: {}\n", s.error());
    return false;
  }

  // The table: the row, then per task its prediction and the label.
  std::vector<std::vector<std::string>> table(1);
  table[0].push_back("row");
  for (int t = 0; t < m.num_tasks; ++t) {
    table[0].push_back(m.tasks[t].name);
    table[0].push_back("label");
  }
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<std::string> line{std::to_string(first + r)};
    for (int t = 0; t < m.num_tasks; ++t) {
      const mtl_task_desc &task = m.tasks[t];
      static const std::vector<std::string> none;
      const auto &names = size_t(t) < data.classNames.size() ? data.classNames[size_t(t)] : none;
      int64_t tw = data.targetWidths[size_t(t)];
      auto [pred, label] =
          cells(task, names, outputs[size_t(t)].data() + r * task.width,
                data.targets[size_t(t)].data() + (first - 1 + r) * tw, predictor->targetScale(t));
      line.push_back(pred);
      line.push_back(label);
    }
    table.push_back(std::move(line));
  }
  std::vector<size_t> widths(table[0].size(), 0);
  for (const auto &line : table)
    for (size_t k = 0; k < line.size(); ++k)
      widths[k] = std::max(widths[k], line[k].size());
  if (params_.empty())
    fmt::print("note: untrained parameters (use :train or :load FILE.safetensors)\n");
  for (const auto &line : table) {
    std::string text = fmt::format("{:>{}}", line[0], widths[0]);
    for (size_t k = 1; k < line.size(); ++k)
      text += fmt::format("{}{:<{}}", k % 2 == 1 ? "   " : "  ", line[k], widths[k]);
    while (!text.empty() && text.back() == ' ')
      text.pop_back();
    fmt::print("{}\n", text);
  }
  return true;
}

} // namespace mtl::driver
