// TrainerData.cpp: checking data against the model, batching rows, shuffling, and evaluation.
#include "mtlrt/Metrics.h"
#include "train/TrainerImpl.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mtlrt {

// The ABI's enums and the data layer's share their order; taskMetrics relies on it.
static_assert(int(TaskSpec::Regress) == MTL_REGRESS && int(TaskSpec::Binary) == MTL_BINARY &&
              int(TaskSpec::Classify) == MTL_CLASSIFY &&
              int(TaskSpec::Multilabel) == MTL_MULTILABEL);
static_assert((1u << int(MetricKind::Accuracy)) == MTL_ACCURACY &&
              (1u << int(MetricKind::MacroF1)) == MTL_MACRO_F1 &&
              (1u << int(MetricKind::Auc)) == MTL_AUC && (1u << int(MetricKind::R2)) == MTL_R2);

int64_t sizeProduct(int64_t a, int64_t b) {
  int64_t product = 0;
  return a < 0 || b < 0 || __builtin_mul_overflow(a, b, &product) ? -1 : product;
}

uint64_t shuffleStream(int64_t epoch) { return 0x5348554600000000ull + uint64_t(epoch); }

void shuffleRows(std::span<int64_t> rows, uint64_t seed, int64_t epoch, int64_t source,
                 int64_t pass) {
  Rng rng(seed, shuffleStream(epoch) ^ (uint64_t(source) << 48) ^ (uint64_t(pass) << 40));
  for (size_t i = rows.size(); i-- > 1;)
    std::swap(rows[i], rows[size_t(rng.below(uint64_t(i) + 1))]);
}

Status Trainer::Impl::checkData(const Dataset &data) const {
  auto bad = [&](const std::string &what) {
    return fail(fmt::format("data set '{}' does not fit model '{}': {}", data.name,
                            model->name ? model->name : "", what));
  };
  if (data.rows < 0 || data.inputs.size() != size_t(model->num_inputs) ||
      data.targets.size() != size_t(model->num_tasks) ||
      data.inputWidths.size() != data.inputs.size() ||
      data.targetWidths.size() != data.targets.size())
    return bad(fmt::format("it has {} inputs and {} targets, the model {} inputs and {} tasks",
                           data.inputs.size(), data.targets.size(), model->num_inputs,
                           model->num_tasks));
  for (int32_t i = 0; i < model->num_inputs; ++i) {
    const mtl_input_desc &in = model->inputs[i];
    if (data.inputWidths[size_t(i)] != in.elements)
      return bad(fmt::format("input '{}' has {} values per row, the model expects {}", in.name,
                             data.inputWidths[size_t(i)], in.elements));
    if (int64_t(data.inputs[size_t(i)].size()) != data.rows * in.elements)
      return bad(fmt::format("input '{}' holds {} values, not {} rows of {}", in.name,
                             data.inputs[size_t(i)].size(), data.rows, in.elements));
  }
  for (int32_t t = 0; t < model->num_tasks; ++t) {
    const mtl_task_desc &task = model->tasks[t];
    int64_t width = task.kind == MTL_CLASSIFY ? 1 : task.width;
    if (data.targetWidths[size_t(t)] != width)
      return bad(fmt::format("task '{}' has {} target values per row, the model expects {}",
                             task.name, data.targetWidths[size_t(t)], width));
    if (int64_t(data.targets[size_t(t)].size()) != data.rows * width)
      return bad(fmt::format("task '{}' holds {} target values, not {} rows of {}", task.name,
                             data.targets[size_t(t)].size(), data.rows, width));
  }
  return Ok{};
}

namespace {
bool flagged(const std::vector<uint8_t> &flags, size_t slot) {
  return slot < flags.size() && flags[slot] != 0;
}
} // namespace

void Trainer::Impl::fitStandardizers(const Dataset &data, std::span<const int64_t> rows) {
  for (size_t i = 0; i < inputStd.size(); ++i)
    if (flagged(data.standardizeInputs, i) && model->inputs[i].dtype == MTL_F32)
      inputStd[i] = Standardizer::fit(data.inputs[i], data.inputWidths[i], rows);
    else
      inputStd[i].reset();
  for (size_t t = 0; t < targetStd.size(); ++t)
    if (flagged(data.standardizeTargets, t) && model->tasks[t].kind == MTL_REGRESS)
      targetStd[t] = Standardizer::fit(data.targets[t], data.targetWidths[t], rows);
    else
      targetStd[t].reset();
}

namespace {
uint64_t runDataValues(const Dataset &train, const Dataset *validation) {
  uint64_t values = valuesFingerprint(train);
  if (validation && validation != &train)
    values = (values * 0x9E3779B97F4A7C15ull) ^ valuesFingerprint(*validation);
  return values == 0 ? 1 : values; // 0 means "not known"
}
} // namespace

Status Trainer::Impl::checkDataValues(const Dataset &train, const Dataset *validation) const {
  if (run.dataValues == 0 || run.dataValues == runDataValues(train, validation))
    return Ok{};
  return fail(fmt::format(
      "cannot resume on data set '{}': its values differ from those the "
      "checkpoint's run trained on{} (as many rows, other values or another order); "
      "use --init-from to start a new run from its parameters",
      train.name,
      validation && validation != &train ? fmt::format(" or validated on ('{}')", validation->name)
                                         : ""));
}

Status Trainer::Impl::startRun(const Dataset &train, std::span<const int64_t> trainRows,
                               int64_t valRows, const Dataset *validation) {
  // Embedding rows stand for the values of the vocabulary they were trained
  // with (a checkpoint's, or an earlier fit's): the data must use it too.
  if (Status s = checkVocabularies(train, false, false); !s)
    return s;
  fitStandardizers(train, trainRows);
  classNames = train.classNames;
  categories = train.categories;
  run = RunState{};
  run.trainRows = int64_t(trainRows.size());
  run.valRows = valRows;
  run.dataValues = runDataValues(train, validation);
  return Ok{};
}

Status Trainer::Impl::checkStandardizers(const Dataset &data) const {
  auto check = [&](bool wanted, bool have, const char *what, const char *name) -> Status {
    if (wanted == have)
      return Ok{};
    return fail(fmt::format("cannot resume on data set '{}': it {} {} '{}', the checkpoint's run "
                            "did {}",
                            data.name, wanted ? "standardizes" : "does not standardize", what, name,
                            wanted ? "not" : "so"));
  };
  for (size_t i = 0; i < inputStd.size(); ++i)
    if (Status s = check(flagged(data.standardizeInputs, i) && model->inputs[i].dtype == MTL_F32,
                         inputStd[i].has_value(), "input", model->inputs[i].name);
        !s)
      return s;
  for (size_t t = 0; t < targetStd.size(); ++t)
    if (Status s = check(flagged(data.standardizeTargets, t) && model->tasks[t].kind == MTL_REGRESS,
                         targetStd[t].has_value(), "task", model->tasks[t].name);
        !s)
      return s;
  return Ok{};
}

Status Trainer::Impl::checkVocabularies(const Dataset &data, bool classes, bool resuming) const {
  const char *trained = resuming ? "the checkpoint's run" : "the parameters were trained with";
  const char *fix = resuming ? "read the data with the checkpoint's vocabularies (--resume does)"
                             : "read the data with the vocabularies of the parameters";
  auto differ = [](const std::vector<std::string> &a, const std::vector<std::string> &b) {
    return !a.empty() && !b.empty() && a != b;
  };
  for (size_t t = 0; classes && t < classNames.size() && t < data.classNames.size(); ++t)
    if (differ(classNames[t], data.classNames[t]))
      return fail(fmt::format("{}data set '{}': task '{}': the data numbers its classes {}, and {} "
                              "{}; {}",
                              resuming ? "cannot resume on " : "", data.name, model->tasks[t].name,
                              fmt::join(data.classNames[t], ", "), trained,
                              fmt::join(classNames[t], ", "), fix));
  for (size_t i = 0; i < categories.size() && i < data.categories.size(); ++i)
    if (!categories[i].empty() && !data.categories[i].empty() &&
        categories[i] != data.categories[i])
      return fail(fmt::format("{}data set '{}': input '{}': the data numbers its categories by "
                              "another vocabulary than {} ({} categories, the data's {}); {}",
                              resuming ? "cannot resume on " : "", data.name, model->inputs[i].name,
                              trained, categoryCount(categories[i]),
                              categoryCount(data.categories[i]), fix));
  return Ok{};
}

void Trainer::Impl::gather(const Dataset &data, std::span<const int64_t> rows) {
  const size_t n = rows.size();
  for (size_t i = 0; i < inputBufs.size(); ++i) {
    const size_t w = size_t(model->inputs[i].elements);
    const float *src = data.inputs[i].data();
    // Rows that lack the input (a data set that does not bind it) read 0.
    const bool gaps = flagged(data.inputGaps, i);
    if (model->inputs[i].dtype == MTL_I32) {
      int32_t *dst = inputBufs[i].ints();
      for (size_t r = 0; r < n; ++r)
        for (size_t j = 0; j < w; ++j) {
          const float id = src[size_t(rows[r]) * w + j];
          dst[r * w + j] = gaps && std::isnan(id) ? 0 : int32_t(id);
        }
      continue;
    }
    float *dst = inputBufs[i].floats();
    for (size_t r = 0; r < n; ++r)
      std::memcpy(dst + r * w, src + size_t(rows[r]) * w, w * sizeof(float));
    if (inputStd[i])
      inputStd[i]->apply(std::span<float>(dst, n * w));
    if (gaps)
      for (size_t k = 0; k < n * w; ++k)
        dst[k] = std::isnan(dst[k]) ? 0.0f : dst[k];
  }
  for (size_t t = 0; t < targetBufs.size(); ++t) {
    const size_t w = size_t(data.targetWidths[t]);
    const float *src = data.targets[t].data();
    float *dst = targetBufs[t].floats();
    for (size_t r = 0; r < n; ++r)
      std::memcpy(dst + r * w, src + size_t(rows[r]) * w, w * sizeof(float));
    if (targetStd[t])
      targetStd[t]->apply(std::span<float>(dst, n * w));
  }
  batch.rows = int64_t(n);
}

std::vector<TaskScores> Trainer::Impl::emptyScores() const {
  std::vector<TaskScores> scores(size_t(model->num_tasks));
  for (int32_t t = 0; t < model->num_tasks; ++t) {
    scores[size_t(t)].name = model->tasks[t].name;
    scores[size_t(t)].auxiliary = model->tasks[t].auxiliary != 0;
  }
  return scores;
}

std::string Trainer::Impl::balanceWarning(const Dataset &train) const {
  const balance::Method &method = balancer.method();
  if (!method.combinesGradients())
    return {};
  // mgda(rep) weighs the gradients of the shared representation, which
  // reach the heads; the others look at the shared parameters the update
  // changes (gradnorm at their norms), so with none there is nothing to do.
  using Kind = balance::Method::Kind;
  bool allFrozen = model->num_shared > 0 && method.kind != Kind::MgdaRep;
  for (int32_t s = 0; s < model->num_shared; ++s) {
    const size_t p = size_t(model->shared_params[s]);
    allFrozen = allFrozen && (lrScale[p] == 0 || (frozen[p] && options.unfreezeAfter == 0));
  }
  if (allFrozen)
    return fmt::format("balance '{}' {} on the shared parameters, and every one of them is "
                       "frozen (or at lr_scale 0) for the whole run: {}, at the cost of a "
                       "gradient per task",
                       method.text(),
                       method.kind == Kind::GradNorm ? "follows the tasks' gradient norms"
                                                     : "combines the tasks' gradients",
                       method.kind == Kind::GradNorm ? "the weights stay 1, as static's"
                                                     : "it trains as static does");
  // The same judgement as `mtlc check`'s for a model's own method: a batch
  // draws from one data set, and a missing label is NaN.
  if (!balanceOverridden || train.sourceNames.size() < 2)
    return {};
  const size_t tasks = size_t(model->num_tasks);
  std::vector<std::vector<uint8_t>> labels(train.sourceNames.size(), std::vector<uint8_t>(tasks));
  for (size_t t = 0; t < tasks; ++t) {
    const int64_t width = train.targetWidths[t];
    for (int64_t r = 0; r < train.rows; ++r)
      if (!std::isnan(train.targets[t][size_t(r * width)]))
        labels[size_t(train.sources[size_t(r)])][t] = 1;
  }
  size_t most = 0; // tasks the most generous data set labels
  for (const std::vector<uint8_t> &l : labels)
    most = std::max(most, size_t(std::count(l.begin(), l.end(), 1)));
  if (method.kind == Kind::GradNorm && most < tasks)
    return fmt::format("balance '{}' moves its weights on batches that label every task, and no "
                       "training data set labels all {} (a batch draws from one data set): the "
                       "weights stay 1, as static's",
                       method.text(), tasks);
  if (method.kind != Kind::GradNorm && most < 2)
    return fmt::format("balance '{}' combines the gradients of the tasks a batch labels, and "
                       "each training data set labels one task (a batch draws from one data "
                       "set): it trains as static does; a loss-based method (dwa, uncertainty, "
                       "famo) balances tasks with data of their own",
                       method.text());
  return {};
}

EvalReport Trainer::Impl::evaluateRows(const Dataset &data, std::span<const int64_t> rows,
                                       bool metrics) {
  takeOfferedCode(step);
  const size_t tasks = size_t(model->num_tasks);
  EvalReport report;
  report.rows = int64_t(rows.size());
  report.tasks = emptyScores();
  evalOutputs.resize(tasks);
  evalTargets.resize(tasks);
  for (size_t t = 0; t < tasks; ++t) {
    evalOutputs[t].resize(rows.size() * size_t(model->tasks[t].width));
    evalTargets[t].resize(rows.size() * size_t(data.targetWidths[t]));
  }
  // The total is Σ_t a_t L_t + the rest (penalties, uncertainty's s_t / 2),
  // a_t = w_t or w_t exp(-s_t) / 2, with each L_t over all the rows that
  // label task t, as report.tasks has it. A batch's total_loss has each
  // task's mean over the batch's labelled rows, so batches weighed by their
  // rows would make the total depend on where the batches break whenever
  // some rows lack a task's labels; only the rest is taken from them.
  std::vector<double> lossSums(tasks, 0.0), counts(tasks, 0.0), factors(tasks);
  for (size_t t = 0; t < tasks; ++t)
    factors[t] = double(hyper.task_weights[t]) * balancer.lossFactor(int(t), params.floats());
  double restSum = 0, penaltySum = 0;
  hyper.step = step;
  for (size_t begin = 0, n = 0; begin < rows.size(); begin += n) {
    // A batch holds one data set's rows, as in training: a batch's total is
    // the sum of its tasks' means, so rows of several data sets in one batch
    // would weigh by where the batches happen to break (the order of
    // `validate = [A, B]` would change the total).
    n = std::min(rows.size() - begin, size_t(maxRows));
    if (!data.sources.empty())
      for (size_t k = 1; k < n; ++k)
        if (data.sources[size_t(rows[begin + k])] != data.sources[size_t(rows[begin])]) {
          n = k;
          break;
        }
    gather(data, rows.subspan(begin, n));
    mtl_result res{0.0f, taskLosses.data(), taskCounts.data(), outputPtrs.data(), 0.0f, 0, nullptr,
                   0};
    model->eval_step(&batch, &hyper, params.floats(), workspace.floats(), &res, &parallel);
    double rest = double(res.total_loss);
    penaltySum += double(res.penalty) * double(n);
    for (size_t t = 0; t < tasks; ++t) {
      rest -= factors[t] * double(taskLosses[t]);
      lossSums[t] += double(taskLosses[t]) * double(taskCounts[t]);
      counts[t] += double(taskCounts[t]);
      size_t w = size_t(model->tasks[t].width), tw = size_t(data.targetWidths[t]);
      std::memcpy(evalOutputs[t].data() + begin * w, outputBufs[t].floats(), n * w * 4);
      std::memcpy(evalTargets[t].data() + begin * tw, targetBufs[t].floats(), n * tw * 4);
    }
    // Infinite losses (a diverged model) leave the total infinite, not NaN.
    restSum += (std::isnan(rest) ? double(res.total_loss) : rest) * double(n);
  }
  report.loss = rows.empty() ? 0.0 : restSum / double(rows.size());
  report.penalty = rows.empty() ? 0.0 : penaltySum / double(rows.size());
  for (size_t t = 0; t < tasks; ++t) {
    report.tasks[t].loss = counts[t] > 0 ? lossSums[t] / counts[t] : 0.0;
    report.loss += rows.empty() ? 0.0 : factors[t] * report.tasks[t].loss;
    report.tasks[t].labelled = counts[t];
    if (metrics)
      report.tasks[t].metrics =
          taskMetrics(model->tasks[t], evalOutputs[t], evalTargets[t], report.rows);
  }
  return report;
}

std::vector<MetricValue> taskMetrics(const mtl_task_desc &task, std::span<const float> outputs,
                                     std::span<const float> targets, int64_t rows) {
  MetricInput in;
  in.kind = TaskSpec::Kind(task.kind); // mtl_task_kind and TaskSpec::Kind share their order
  in.rows = rows;
  in.width = task.width;
  in.outputs = outputs;
  in.targets = targets;
  std::vector<MetricValue> values;
  for (int bit = 0; bit <= int(MetricKind::R2); ++bit) {
    if (!(task.metrics & (1u << bit)))
      continue;
    // mtl_metric bit i is MetricKind i; a metric that cannot be computed (it
    // does not suit the task, or nothing is labelled) reads NaN.
    Result<double> value = computeMetric(MetricKind(bit), in);
    values.push_back({metricKindName(MetricKind(bit)), value ? *value : NAN});
  }
  return values;
}

} // namespace mtlrt
