// ReplTrain.cpp: the REPL's training commands: :train, :eval, :reset and :set.
//
// Parameters and optimizer state live in the session between runs, so a
// :train continues where the last one stopped: each run creates a Trainer
// with the current settings and copies the arrays (and the step count) into
// it. Task weights and the learning rate are run-time inputs of the compiled
// step, and so is the seed (dropout mixes it into its masks at run time), so
// :set never recompiles.
//
// A run on a terminal shows the runtime's progress bar (epoch, loss, ETA) and
// its time; piped output has neither, so a scripted session's transcript is
// the same on every run. Ctrl-C stops a run after the current step and keeps
// what it trained, so nothing of the session is lost.
#include "driver/DataSpecs.h"
#include "repl/ReplInterrupt.h"
#include "repl/ReplSession.h"

#include "mtlrt/Report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <limits>
#include <unistd.h>

namespace mtl::driver {
namespace {

// A task's loss and metrics, as a run's summary line shows them.
std::string metricsText(const mtlrt::TaskScores &t) {
  std::string out = "loss " + mtlrt::formatTaskLoss(t.loss, t.labelled);
  for (const mtlrt::MetricValue &m : t.metrics)
    out += fmt::format("  {} {:.4f}", m.name, m.value);
  return out;
}

} // namespace

double ReplSession::weightOf(const std::string &task) const {
  for (const auto &[name, w] : overrides_.weights)
    if (name == task)
      return w;
  for (const sema::Task &t : c_->model->tasks)
    if (t.name == task)
      return t.weight;
  return 0;
}

mtlrt::TrainOptions ReplSession::trainOptions() const {
  // The model's settings as every run of it reads them, then the session's overrides.
  mtlrt::TrainOptions to = runConfig(*c_->model).train;
  to.epochs = overrides_.epochs.value_or(to.epochs);
  to.batch = overrides_.batch.value_or(to.batch);
  to.seed = overrides_.seed.value_or(to.seed);
  if (overrides_.lr)
    to.lr = static_cast<float>(*overrides_.lr);
  to.balance = overrides_.balance.value_or(to.balance);
  to.sampling = overrides_.sampling.value_or(to.sampling);
  to.taskWeights = overrides_.weights;
  to.quiet = true;          // the REPL prints its own, time-free summary
  to.measureThreads = true; // as `mtlc train` without --threads
  return to;
}

bool ReplSession::train(std::optional<int64_t> epochs, bool reset) {
  if (!needLoaded())
    return false;
  if (!trainData_) {
    fmt::print("error: model '{}' has no data to train on; add a `data` item\n", c_->model->name);
    return false;
  }
  if (!reset && !dataFollowsParams())
    return false;
  mtlrt::TrainOptions to = trainOptions();
  if (epochs)
    to.epochs = *epochs;
  // The progress bar only: the REPL prints its own table and summary.
  to.quiet = false;
  to.keepBestState = true;
  to.table = nullptr;
  to.progress = stdout;
  to.interrupt = &replInterrupted();
  if (reset)
    resetParams();
  // unfreeze_after counts the epochs of the session's parameters, not of
  // each :train: the groups thaw once, after that many epochs in all.
  if (!to.freeze.empty() && to.unfreezeAfter > 0) {
    const int64_t left = params_.empty() ? to.unfreezeAfter : to.unfreezeAfter - epochs_;
    if (left <= 0)
      to.freeze.clear();
    to.unfreezeAfter = left < to.epochs ? std::max<int64_t>(left, 0) : 0; // 0: the whole run
    if (left > 0)
      fmt::print("frozen: {} for {} of this run\n", fmt::join(to.freeze, ", "),
                 left == 1          ? std::string("the first epoch")
                 : left < to.epochs ? fmt::format("the first {} epochs", left)
                                    : std::string("every epoch"));
  }
  auto trainer = mtlrt::Trainer::create(c_->compiled, to);
  if (!trainer) {
    fmt::print("error: {}\n", trainer.error());
    return false;
  }
  bool continued = !params_.empty();
  if (continued) {
    std::copy(params_.begin(), params_.end(), trainer->params().begin());
    std::copy(state_.begin(), state_.end(), trainer->state().begin());
    trainer->setStep(step_);
    trainer->setClassNames(classNames_);
    trainer->setCategories(categories_); // fit() refuses data numbered otherwise
    if (!balanceState_.empty())
      (void)trainer->setBalanceState(balanceState_); // false: another method, which starts afresh
  }
  int64_t firstStep = step_;
  auto result = trainer->fit(*trainData_, validationData_ ? &*validationData_ : nullptr);
  if (!result) {
    fmt::print("error: {}\n", result.error());
    // The steps before the one that failed stay taken, as the message says,
    // and so does the record of the epochs they completed (:runs, :plot).
    if (!trainer->broken() && trainer->step() > firstStep) {
      split_ = {to.validate, to.seed};
      takeFrom(*trainer, trainer->runState().epoch);
      ReplRun run = newRun(to, continued, *trainer, trainer->fitEpochs());
      run.failedAfter = step_;
      fmt::print("run {}: {} epoch{}, steps {}-{}{}, then failed\n", run.number, run.epochs,
                 run.epochs == 1 ? "" : "s", firstStep + 1, step_, continued ? " (continued)" : "");
      runs_.push_back(std::move(run));
    }
    return false;
  }
  split_ = {to.validate, to.seed};
  // A kept best epoch comes with its own optimizer state and step
  // (keepBestState), as best.safetensors has them.
  takeFrom(*trainer, result->keptEpoch);

  ReplRun run = newRun(to, continued, *trainer, result->epochs);
  if (result->steps > firstStep)
    run.usPerStep = result->seconds * 1e6 / static_cast<double>(result->steps - firstStep);
  const auto epochCount = static_cast<int64_t>(result->epochs.size());
  const bool terminal = isatty(fileno(stdout)) != 0;
  if (terminal && result->interrupted)
    fmt::print("\r\x1b[K"); // over the "^C" the terminal echoed
  fmt::print("run {}: {} epoch{}, steps {}-{}{}{}\n", run.number, epochCount,
             epochCount == 1 ? "" : "s", firstStep + 1, result->steps,
             continued ? " (continued)" : "",
             terminal ? " in " + mtlrt::formatDuration(result->seconds) : "");
  const size_t epochWidth = std::max<size_t>(3, std::to_string(epochCount).size());
  for (const mtlrt::EpochRecord &e : result->epochs) {
    if (mtlrt::compactTableShows(e.epoch, epochCount)) {
      std::string line =
          fmt::format("  epoch {:>{}}  train loss {:.4f}", e.epoch, epochWidth, e.train.loss);
      if (e.validation)
        line += fmt::format("  val loss {:.4f}", e.validation->loss);
      fmt::print("{}\n", line);
    }
  }
  // The validation of the epoch the session now holds: the last, or the
  // best one kept; none when stopped inside an epoch, past the last validation.
  auto kept = std::find_if(result->epochs.rbegin(), result->epochs.rend(),
                           [&](const mtlrt::EpochRecord &e) { return e.steps == step_; });
  bool midEpoch = kept == result->epochs.rend();
  if (!midEpoch && kept != result->epochs.rbegin())
    fmt::print("  kept epoch {}, the best: its parameters, optimizer state and step {}\n",
               kept->epoch, step_);
  if (!midEpoch && kept->validation) {
    run.validation = kept->validation->tasks;
    for (const mtlrt::TaskScores &t : run.validation)
      fmt::print("  {:<12} {}\n", t.name, metricsText(t));
  }
  if (result->interrupted) {
    run.interruptedAt = step_;
    fmt::print("interrupted {} epoch {}, step {}; kept the parameters of step {}\n",
               midEpoch ? "at" : "after", midEpoch ? epochCount + 1 : epochCount, step_, step_);
  }
  runs_.push_back(std::move(run));
  return true;
}

ReplRun ReplSession::newRun(const mtlrt::TrainOptions &to, bool continued,
                            const mtlrt::Trainer &trainer,
                            const std::vector<mtlrt::EpochRecord> &epochs) {
  ReplRun run;
  run.number = static_cast<int>(runs_.size()) + 1;
  run.lr = to.lr;
  run.batch = to.batch;
  run.epochs = static_cast<int64_t>(epochs.size());
  run.seed = to.seed;
  run.continued = continued;
  run.balance = trainer.options().balance;
  run.source = c_->compiled->source_hash ? c_->compiled->source_hash : "";
  if (!epochs.empty())
    run.balancing = epochs.back().balance;
  for (const sema::Task &t : c_->model->tasks)
    run.weights.emplace_back(t.name, weightOf(t.name));
  for (const mtlrt::EpochRecord &e : epochs) {
    run.gates.push_back(e.gates);
    for (const mtlrt::TaskScores &t : e.train.tasks) {
      auto it = std::find_if(lossHistory_.begin(), lossHistory_.end(),
                             [&](const auto &h) { return h.first == t.name; });
      if (it == lossHistory_.end())
        it = lossHistory_.insert(lossHistory_.end(), {t.name, {}});
      it->second.push_back(t.loss);
    }
  }
  return run;
}

void ReplSession::takeFrom(const mtlrt::Trainer &trainer, int64_t epochs) {
  auto params = trainer.params();
  auto state = trainer.state();
  params_.assign(params.begin(), params.end());
  state_.assign(state.begin(), state.end());
  step_ = trainer.step();
  inputStd_ = trainer.inputStandardizers();
  targetStd_ = trainer.targetStandardizers();
  classNames_ = trainer.classNames();
  categories_ = trainer.categories();
  runState_ = trainer.runState();
  balanceState_ = trainer.balanceState();
  epochs_ += epochs;
}

bool ReplSession::eval() {
  if (!needLoaded())
    return false;
  if (!trainData_) {
    fmt::print("error: model '{}' has no data to evaluate on\n", c_->model->name);
    return false;
  }
  if (!dataFollowsParams())
    return false;
  mtlrt::TrainOptions to = trainOptions();
  std::optional<mtlrt::Dataset> held;
  const mtlrt::Dataset *data = validationData_ ? &*validationData_ : nullptr;
  // The rows the parameters' last run held out, whatever :set seed says now.
  const auto [validate, seed] = split_.value_or(std::pair(to.validate, to.seed));
  if (!data && validate > 0) {
    held =
        mtlrt::subsetRows(*trainData_, mtlrt::splitSources(*trainData_, validate, seed).validation);
    data = &*held;
  }
  if (!data) {
    fmt::print("error: model '{}' has no validation data (set `validate` in its train item)\n",
               c_->model->name);
    return false;
  }
  if (data->rows == 0) {
    if (validationData_)
      fmt::print("error: model '{}' has no validation rows: its validation data is empty\n",
                 c_->model->name);
    else
      fmt::print("error: model '{}' has no validation rows: validate = {} of its {} training "
                 "row{} holds out none; use a larger fraction or a validation data set\n",
                 c_->model->name, validate, trainData_->rows, trainData_->rows == 1 ? "" : "s");
    return false;
  }
  auto trainer = currentTrainer();
  if (!trainer) {
    fmt::print("error: {}\n", trainer.error());
    return false;
  }
  auto report = trainer->evaluate(*data);
  if (!report) {
    fmt::print("error: {}\n", report.error());
    return false;
  }
  fmt::print("validation ({} rows{}): loss {:.4f}\n", report->rows,
             params_.empty() ? ", untrained parameters" : "", report->loss);
  for (const mtlrt::TaskScores &t : report->tasks)
    fmt::print("  {:<12} {}\n", t.name, metricsText(t));
  return true;
}

void ReplSession::forgetParams() {
  params_.clear();
  state_.clear();
  step_ = 0;
  inputStd_.clear();
  targetStd_.clear();
  classNames_.clear();
  categories_.clear();
  runState_ = {};
  balanceState_.clear();
  epochs_ = 0;
  lossHistory_.clear();
  split_.reset();
}

bool ReplSession::resetParams() {
  if (!needLoaded())
    return false;
  forgetParams();
  fmt::print("parameters reset: the next :train starts from initial parameters (seed {})\n",
             overrides_.seed.value_or(c_->model->train.seed));
  return true;
}

bool ReplSession::setWeight(const std::string &task, double weight) {
  if (!needLoaded())
    return false;
  bool known = false;
  std::vector<std::string> names;
  for (const sema::Task &t : c_->model->tasks) {
    known = known || t.name == task;
    names.push_back(t.name);
  }
  if (!known) {
    fmt::print("error: no task named '{}' (tasks: {})\n", task, fmt::join(names, ", "));
    return false;
  }
  if (!std::isfinite(weight) || weight < 0 || weight > std::numeric_limits<float>::max()) {
    fmt::print("error: a task weight is a number from 0 to {:.2g}, the largest float, got {}\n",
               std::numeric_limits<float>::max(), weight);
    return false;
  }
  std::erase_if(overrides_.weights, [&](const auto &w) { return w.first == task; });
  overrides_.weights.emplace_back(task, weight);
  fmt::print("weight of '{}' = {:g} (no recompilation)\n", task, weight);
  return true;
}

bool ReplSession::setLr(double lr) {
  // It is a float at run time: neither 0 nor a denormal there, nor infinite.
  if (!std::isnormal(static_cast<float>(lr)) || lr <= 0) {
    fmt::print("error: the learning rate is a positive float from {:.2g} to {:.2g}, got {}\n",
               std::numeric_limits<float>::min(), std::numeric_limits<float>::max(), lr);
    return false;
  }
  overrides_.lr = lr;
  fmt::print("lr = {:g} (no recompilation)\n", lr);
  return true;
}

bool ReplSession::setBalance(const std::string &method) {
  mtlrt::Result<std::string> text = mtlrt::canonicalBalance(method);
  if (!text) {
    fmt::print("error: {}\n", text.error());
    return false;
  }
  const mtl_model *m = c_ ? c_->compiled : nullptr;
  if (m && mtlrt::balanceCombinesGradients(*text) && (m->num_tasks < 2 || m->num_shared == 0)) {
    // As check and train say it: before the setting, not at the next :train.
    fmt::print("error: balance '{}' combines the tasks' gradients on the parameters they share, "
               "and model '{}' has {}; balance it on the losses (static, dwa, rlw, uncertainty "
               "or famo)\n",
               *text, m->name,
               m->num_tasks < 2 ? "one task" : "no parameter that two tasks' heads use");
    return false;
  }
  overrides_.balance = *text;
  if (m && !m->task_grad_step && m->num_shared > 0 && mtlrt::balanceCombinesGradients(*text)) {
    // The model was compiled without each task's gradient: once more, with it.
    fmt::print("balance = {} (recompiling with each task's gradient)\n", *text);
    return compile(text_, nullptr, 0);
  }
  const bool hasLogVars = c_ && c_->model->balance.kind == sema::BalanceKind::Uncertainty;
  if (m && hasLogVars != mtlrt::balanceAddsParameters(*text)) {
    fmt::print("balance = {} (recompiling {} uncertainty's log-variances in the loss)\n", *text,
               hasLogVars ? "without" : "with");
    return compile(text_, nullptr, 0);
  }
  fmt::print("balance = {} (no recompilation)\n", *text);
  return true;
}

bool ReplSession::setBatch(int64_t batch) {
  if (batch < 1) {
    fmt::print("error: the batch size is at least 1, got {}\n", batch);
    return false;
  }
  overrides_.batch = batch;
  fmt::print("batch = {} (no recompilation)\n", batch);
  return true;
}

bool ReplSession::setEpochs(int64_t epochs) {
  if (epochs < 1) {
    fmt::print("error: epochs is at least 1, got {}\n", epochs);
    return false;
  }
  overrides_.epochs = epochs;
  fmt::print("epochs = {} (no recompilation)\n", epochs);
  return true;
}

bool ReplSession::setSampling(const std::string &sampling) {
  mtlrt::Result<std::string> text = mtlrt::canonicalSampling(sampling);
  if (!text) {
    fmt::print("error: {}\n", text.error());
    return false;
  }
  overrides_.sampling = *text;
  const bool several = trainData_ && !trainData_->sources.empty();
  fmt::print("sampling = {} (no recompilation){}\n", *text,
             several ? "" : "; the model trains on one data set, which it does not change");
  return true;
}

bool ReplSession::setSeed(uint64_t seed) {
  overrides_.seed = seed;
  fmt::print("seed = {} (no recompilation)\n", seed);
  return true;
}

} // namespace mtl::driver
