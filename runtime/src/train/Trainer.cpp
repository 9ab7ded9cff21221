// Trainer.cpp: setting up a training run: checks, arenas, buffers, initial parameters.
#include "mtlrt/Trainer.h"
#include "mtlrt/FloatMode.h"

#include "mtlrt/Checkpoint.h"
#include "mtlrt/Init.h"
#include "mtlrt/Metrics.h"
#include "mtlrt/Report.h"
#include "mtlrt/RunConfig.h"
#include "support/Memory.h"
#include "train/ParamGroups.h"
#include "train/TrainerImpl.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mtlrt {

std::vector<int64_t> allRows(int64_t n) {
  std::vector<int64_t> rows(size_t(n > 0 ? n : 0));
  for (int64_t i = 0; i < n; ++i)
    rows[size_t(i)] = i;
  return rows;
}

Result<Monitor> resolveMonitor(const mtl_model &model, const std::string &spec) {
  Monitor mon;
  if (spec.empty() || spec == "loss") {
    mon.metric = "loss";
    return mon;
  }
  size_t dot = spec.find('.');
  std::string taskName = spec.substr(0, dot);
  for (int32_t t = 0; t < model.num_tasks; ++t)
    if (taskName == model.tasks[t].name)
      mon.task = t;
  if (dot == std::string::npos || mon.task < 0)
    return fail(fmt::format("early stopping: cannot monitor '{}': expected 'loss', "
                            "'TASK.loss' or 'TASK.METRIC' for a task of model '{}'",
                            spec, model.name ? model.name : ""));
  mon.metric = spec.substr(dot + 1);
  std::vector<std::string> names = metricNames(model.tasks[mon.task].metrics);
  if (mon.metric != "loss" && std::find(names.begin(), names.end(), mon.metric) == names.end())
    return fail(fmt::format("early stopping: task '{}' has no metric '{}' (its metrics: loss{}{})",
                            taskName, mon.metric, names.empty() ? "" : ", ",
                            fmt::join(names, ", ")));
  mon.minimize = !higherIsBetter(mon.metric);
  return mon;
}

Result<Trainer> Trainer::create(const mtl_model *model, TrainOptions options,
                                std::shared_ptr<ThreadPool> pool) {
  if (!model)
    return fail("trainer: no model");
  if (pool)
    options.threads = pool->threads();
  if (Status s = checkModel(*model); !s)
    return s.takeError();
  if (options.threads < 1 || options.threads > kMaxThreads)
    return fail(
        fmt::format("trainer: threads = {} is not in [1, {}]", options.threads, kMaxThreads));
  if (options.epochs < 1 || options.batch < 1)
    return fail(fmt::format("trainer: epochs ({}) and batch ({}) must be at least 1",
                            options.epochs, options.batch));
  if (!std::isfinite(options.lr) || options.lr < 0)
    return fail(fmt::format("trainer: learning rate {} is not a finite number >= 0", options.lr));
  if (!(options.validate >= 0 && options.validate < 1))
    return fail(
        fmt::format("trainer: validate = {} is not a fraction in [0, 1)", options.validate));
  if (!(options.test >= 0 && options.validate + options.test < 1))
    return fail(
        fmt::format("trainer: test = {} is not a fraction in [0, 1 - validate)", options.test));
  if (options.earlyStop.enabled && options.earlyStop.patience < 1)
    return fail("trainer: early stopping needs patience >= 1");
  if (Result<Monitor> mon = resolveMonitor(*model, options.earlyStop.monitor); !mon)
    return mon.takeError();
  if (options.saveInit && options.checkpointDir.empty())
    return fail("trainer: saveInit needs a checkpoint directory");
  if (!options.resumeFrom.empty() && !options.initFrom.empty())
    return fail("trainer: resume from a checkpoint or initialise from one, not both");

  auto impl = std::make_unique<Impl>();
  Impl &m = *impl;
  m.model = model;
  m.taskWeights.resize(size_t(model->num_tasks));
  for (int32_t t = 0; t < model->num_tasks; ++t)
    m.taskWeights[size_t(t)] = float(model->tasks[t].weight);
  for (const auto &[name, weight] : options.taskWeights) {
    int32_t t = 0;
    while (t < model->num_tasks && name != model->tasks[t].name)
      ++t;
    if (t == model->num_tasks)
      return fail(
          fmt::format("trainer: weight given for '{}', which is not a task of the model", name));
    if (!std::isfinite(weight) || weight < 0)
      return fail(
          fmt::format("trainer: weight {} of task '{}' is not finite and >= 0", weight, name));
    m.taskWeights[size_t(t)] = float(weight);
  }
  m.lrScale.assign(size_t(model->num_params), 1.0f);
  m.frozen.assign(size_t(model->num_params), 0);
  for (const auto &[group, scale] : options.lrScales) {
    if (!(scale >= 0 && scale <= 1e6))
      return fail(
          fmt::format("lr_scale: the scale of '{}' is {}; it must lie in [0, 1e6]", group, scale));
    Result<std::vector<int32_t>> tensors = groupTensors(*model, group, "lr_scale");
    if (!tensors)
      return tensors.takeError();
    for (int32_t k : *tensors)
      m.lrScale[size_t(k)] = float(scale);
  }
  for (const std::string &group : options.freeze) {
    Result<std::vector<int32_t>> tensors = groupTensors(*model, group, "freeze");
    if (!tensors)
      return tensors.takeError();
    for (int32_t k : *tensors)
      m.frozen[size_t(k)] = 1;
  }
  if (options.unfreezeAfter < 0)
    return fail(fmt::format("trainer: unfreeze_after = {} is negative", options.unfreezeAfter));
  if (options.freeze.empty() && options.unfreezeAfter > 0)
    return fail(fmt::format("unfreeze_after = {} thaws nothing: no parameter group is frozen "
                            "(--freeze GROUP, or freeze = [...] in the model's train item)",
                            options.unfreezeAfter));
  if (!options.freeze.empty() && options.unfreezeAfter > 0 &&
      options.unfreezeAfter >= options.epochs)
    return fail(fmt::format("unfreeze_after = {} leaves nothing to train unfrozen in the run's {} "
                            "epochs; unfreeze earlier (--unfreeze-after) or train for more "
                            "(--epochs)",
                            options.unfreezeAfter, options.epochs));
  m.setEpochScales(1);
  m.hyper.lr_scales = m.stepScales.data();
  Result<Schedule> schedule = Schedule::parse(options.schedule);
  if (!schedule)
    return schedule.takeError();
  m.schedule = *schedule;
  if (schedule->warmupEpochs() >= double(options.epochs))
    return fail(fmt::format("the schedule '{}' leaves no epoch after its warmup in the run's {} "
                            "epochs; warm up for fewer (--schedule 'cosine(warmup = N)') or "
                            "train for more (--epochs)",
                            options.schedule, options.epochs));
  Result<Sampling> sampling = Sampling::parse(options.sampling);
  if (!sampling)
    return sampling.takeError();
  m.sampling = *sampling;
  if (!(options.clipNorm >= 0 && std::isfinite(options.clipNorm)))
    return fail(
        fmt::format("trainer: clip_norm = {} is not a finite number >= 0", options.clipNorm));

  m.idLimits.assign(size_t(model->num_inputs), int64_t(1) << 31);
  if (auto config = modelRunConfig(*model))
    for (size_t i = 0; i < config->inputs.size(); ++i)
      if (config->inputs[i].vocab > 0)
        m.idLimits[i] = config->inputs[i].vocab;
  Result<balance::Method> method = balance::parseMethod(options.balance);
  if (!method)
    return fail(method.error());
  if (method->combinesGradients() && !model->task_grad_step)
    return fail(
        model->num_shared > 0 && model->num_tasks > 1
            ? fmt::format("balance '{}' combines the tasks' gradients on their shared parameters, "
                          "and model '{}' was compiled without them: its own method does not "
                          "need them. Compile it with such a method (`balance {}` in the model, "
                          "or mtlc train --balance) or with --grad-stats",
                          method->text(), model->name, method->text())
            : fmt::format("balance '{}' combines the tasks' gradients on their shared "
                          "parameters, and model '{}' has {}",
                          method->text(), model->name,
                          model->num_tasks < 2 ? "one task" : "no parameter that tasks share"));
  const bool compiledUncertainty = !balance::logVarOffsets(*model).empty();
  if ((method->kind == balance::Method::Kind::Uncertainty) != compiledUncertainty)
    return fail(
        compiledUncertainty
            ? fmt::format("model '{}' was compiled with balance 'uncertainty': its tasks' "
                          "log-variances are parameters in its loss, so it trains only with "
                          "that method, not '{}'. Compile it with the other method (`balance` "
                          "in the model, or mtlc train --balance)",
                          model->name, method->text())
            : fmt::format("balance 'uncertainty' learns a log-variance per task as parameters "
                          "in the loss, and model '{}' was compiled without them. Compile it "
                          "with the method (`balance uncertainty` in the model, or mtlc train "
                          "--balance uncertainty)",
                          model->name));
  if (method->kind == balance::Method::Kind::MgdaRep && !model->rep_grad_step)
    return fail(fmt::format("balance 'mgda(rep)' needs a representation that every task's loss "
                            "depends on (a shared trunk's output), and no value or parameter of "
                            "model '{}' is shared by all its tasks; use 'mgda'",
                            model->name));
  options.balance = method->text();
  if (auto config = modelRunConfig(*model)) {
    Result<balance::Method> own = balance::parseMethod(config->train.balance);
    m.balanceOverridden = !own || own->text() != options.balance;
  }
  if (options.gradStats && !model->task_grad_step && model->num_shared > 0 && model->num_tasks > 1)
    return fail(fmt::format("gradient statistics need model '{}' compiled with them: "
                            "mtlc train --grad-stats compiles it so",
                            model->name));
  m.balancer = balance::Balancer(*model, *method, options.seed, options.gradStats);
  m.balancer.setClipNorm(options.clipNorm);
  m.options = std::move(options);
  m.pool = pool ? std::move(pool) : std::make_shared<ThreadPool>(m.options.threads);
  m.parallel = m.pool->abi();
  m.threadChoice = ThreadChoice(m.pool->threads(), m.options.measureThreads);

  m.maxRows = m.options.batch;
  // Every buffer is zeroed as it is allocated: more than the machine has would
  // have the system kill the process before an allocation fails, so the
  // total is checked first.
  {
    int64_t rowFloats = model->workspace_per_row;
    for (int32_t i = 0; i < model->num_inputs; ++i)
      rowFloats += model->inputs[i].elements;
    for (int32_t t = 0; t < model->num_tasks; ++t)
      rowFloats += model->tasks[t].width +
                   (model->tasks[t].kind == MTL_CLASSIFY ? 1 : model->tasks[t].width);
    const double fixed = 4.0 * (double(model->params_size) + double(model->state_size) +
                                double(model->grads_size) + double(model->workspace_fixed));
    const double bytes = fixed + 4.0 * double(rowFloats) * double(m.maxRows);
    const uint64_t memory = physicalMemoryBytes();
    if (memory > 0 && fixed > double(memory))
      return fail(fmt::format("model '{}' needs {:.1f} GB of memory for its {} parameters, their "
                              "gradients and optimizer state, more than this machine's {:.1f} "
                              "GB; use smaller layers",
                              model->name, fixed / 1e9, model->params_size, double(memory) / 1e9));
    if (memory > 0 && bytes > double(memory))
      return fail(fmt::format("batches of {} rows need {:.1f} GB of memory ({} floats a row), "
                              "more than this machine's {:.1f} GB; use a smaller batch",
                              m.maxRows, bytes / 1e9, rowFloats, double(memory) / 1e9));
  }
  m.params = Buffer(model->params_size);
  m.state = Buffer(model->state_size);
  m.grads = Buffer(model->grads_size);
  // Sizes come from a descriptor and the options: an overflowed product makes
  // a buffer that is not ok(), reported below like a failed allocation.
  int64_t perRow = sizeProduct(model->workspace_per_row, m.maxRows);
  m.workspace = Buffer(perRow < 0 || perRow > INT64_MAX - model->workspace_fixed
                           ? -1
                           : model->workspace_fixed + perRow);

  for (int32_t i = 0; i < model->num_inputs; ++i) {
    m.inputBufs.emplace_back(sizeProduct(model->inputs[i].elements, m.maxRows));
    m.inputPtrs.push_back(m.inputBufs.back().floats());
  }
  for (int32_t t = 0; t < model->num_tasks; ++t) {
    const mtl_task_desc &task = model->tasks[t];
    int64_t targetWidth = task.kind == MTL_CLASSIFY ? 1 : task.width;
    m.targetBufs.emplace_back(sizeProduct(targetWidth, m.maxRows));
    m.targetPtrs.push_back(m.targetBufs.back().floats());
    m.outputBufs.emplace_back(sizeProduct(task.width, m.maxRows));
    m.outputPtrs.push_back(m.outputBufs.back().floats());
  }
  bool allocated = m.params.ok() && m.state.ok() && m.workspace.ok() && m.grads.ok();
  for (const std::vector<Buffer> *group : {&m.inputBufs, &m.targetBufs, &m.outputBufs})
    for (const Buffer &b : *group)
      allocated = allocated && b.ok();
  if (!allocated)
    return fail(fmt::format("trainer: cannot allocate the model's memory (arenas of {} floats, "
                            "and a workspace of {} + {} floats a row, for batches of {} rows)",
                            model->params_size + model->state_size + model->grads_size,
                            model->workspace_fixed, model->workspace_per_row, m.maxRows));
  if (Status s = initParams(*model, m.params.floats(), m.options.seed); !s)
    return s.takeError();
  initState(*model, m.state.floats());
  m.noOutputs.assign(size_t(model->num_tasks), nullptr);
  m.taskLosses.assign(size_t(model->num_tasks), 0.0f);
  m.taskCounts.assign(size_t(model->num_tasks), 0.0f);
  m.epochLossSums.assign(size_t(model->num_tasks), 0.0);
  m.epochCounts.assign(size_t(model->num_tasks), 0.0);
  int64_t gateFloats = 0;
  for (int32_t g = 0; g < model->num_gates; ++g)
    gateFloats += model->gates[g].experts;
  m.gateSums.assign(size_t(gateFloats), 0.0f);
  m.epochGateSums.assign(size_t(gateFloats), 0.0);
  m.epochGateRows.assign(size_t(model->num_gates), 0.0);
  m.inputStd.resize(size_t(model->num_inputs));
  m.targetStd.resize(size_t(model->num_tasks));
  m.batch.inputs = m.inputPtrs.data();
  m.batch.targets = m.targetPtrs.data();
  m.hyper.lr = m.options.lr;
  m.hyper.task_weights = m.taskWeights.data();
  m.hyper.seed = m.options.seed;
  Trainer trainer(std::move(impl));
  const TrainOptions &opt = trainer.options();
  if (!opt.resumeFrom.empty() || !opt.initFrom.empty()) {
    bool resume = !opt.resumeFrom.empty();
    Result<Checkpoint> ck = readCheckpoint(resume ? opt.resumeFrom : opt.initFrom);
    if (!ck)
      return ck.takeError();
    if (resume) {
      if (Status s = applyCheckpoint(*ck, trainer, Restore::Everything); !s)
        return s.takeError();
    } else {
      Result<InitReport> report = initFromCheckpoint(*ck, trainer, opt.initMap);
      if (!report)
        return report.takeError();
      trainer.impl->initReport = std::move(*report);
    }
  }
  return trainer;
}

void Trainer::Impl::setEpochScales(int64_t epoch) {
  const bool frozenNow = options.unfreezeAfter == 0 || epoch <= options.unfreezeAfter;
  stepScales.resize(lrScale.size()); // sized once, in create(): hyper.lr_scales stays valid
  for (size_t k = 0; k < lrScale.size(); ++k)
    stepScales[k] = frozen[k] && frozenNow ? 0.0f : lrScale[k];
}

const std::optional<InitReport> &Trainer::initReport() const { return impl->initReport; }
int64_t Trainer::resumedEpochs() const { return impl->resumePending ? impl->run.epoch : 0; }

Trainer::Trainer(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Trainer::Trainer(Trainer &&) noexcept = default;
Trainer &Trainer::operator=(Trainer &&) noexcept = default;
Trainer::~Trainer() = default;

std::span<float> Trainer::params() {
  return {impl->params.floats(), size_t(impl->model->params_size)};
}
std::span<float> Trainer::state() {
  return {impl->state.floats(), size_t(impl->model->state_size)};
}
std::span<const float> Trainer::params() const {
  return {impl->params.floats(), size_t(impl->model->params_size)};
}
std::span<const float> Trainer::state() const {
  return {impl->state.floats(), size_t(impl->model->state_size)};
}
std::span<const float> Trainer::taskWeights() const { return impl->taskWeights; }
const RunState &Trainer::runState() const { return impl->run; }

const std::vector<EpochRecord> &Trainer::fitEpochs() const { return impl->fitEpochs; }

bool Trainer::broken() const { return impl->broken; }
void Trainer::restartOptimizer() {
  initState(*impl->model, impl->state.floats());
  impl->step = 0;
  impl->broken = false;
}
void Trainer::resumeAt(const RunState &state) {
  impl->run = state;
  impl->resumePending = true;
}
int64_t Trainer::step() const { return impl->step; }
void Trainer::setStep(int64_t step) { impl->step = step; }
const mtl_model &Trainer::model() const { return *impl->model; }
const TrainOptions &Trainer::options() const { return impl->options; }

const std::vector<std::optional<Standardizer>> &Trainer::inputStandardizers() const {
  return impl->inputStd;
}
const std::vector<std::optional<Standardizer>> &Trainer::targetStandardizers() const {
  return impl->targetStd;
}

Status Trainer::setStandardizers(std::vector<std::optional<Standardizer>> inputs,
                                 std::vector<std::optional<Standardizer>> targets) {
  const mtl_model &model = *impl->model;
  if (inputs.size() != size_t(model.num_inputs) || targets.size() != size_t(model.num_tasks))
    return fail(fmt::format("standardisation statistics for {} inputs and {} tasks do not fit "
                            "model '{}' ({} inputs, {} tasks)",
                            inputs.size(), targets.size(), model.name ? model.name : "",
                            model.num_inputs, model.num_tasks));
  auto fits = [](const std::optional<Standardizer> &z, int64_t width, const char *what,
                 const char *name) -> Status {
    if (z && (z->mean.size() != size_t(width) || z->stddev.size() != size_t(width)))
      return fail(fmt::format("standardisation statistics of {} '{}' have {} features, not {}",
                              what, name, z->mean.size(), width));
    return Ok{};
  };
  for (int32_t i = 0; i < model.num_inputs; ++i)
    if (Status s = fits(inputs[size_t(i)], model.inputs[i].elements, "input", model.inputs[i].name);
        !s)
      return s;
  for (int32_t t = 0; t < model.num_tasks; ++t) {
    int64_t width = model.tasks[t].kind == MTL_CLASSIFY ? 1 : model.tasks[t].width;
    if (Status s = fits(targets[size_t(t)], width, "task", model.tasks[t].name); !s)
      return s;
  }
  impl->inputStd = std::move(inputs);
  impl->targetStd = std::move(targets);
  return Ok{};
}

const std::vector<std::vector<std::string>> &Trainer::classNames() const {
  return impl->classNames;
}
void Trainer::setClassNames(std::vector<std::vector<std::string>> names) {
  impl->classNames = std::move(names);
}
const std::vector<Categories> &Trainer::categories() const { return impl->categories; }
void Trainer::setCategories(std::vector<Categories> categories) {
  impl->categories = std::move(categories);
}

const EpochRecord *TrainResult::record(int64_t epoch) const {
  for (const EpochRecord &r : epochs)
    if (r.epoch == epoch)
      return &r;
  return nullptr;
}

Result<EvalReport> Trainer::evaluate(const Dataset &data) {
  return evaluate(data, allRows(data.rows));
}

Result<EvalReport> Trainer::evaluate(const Dataset &data, std::span<const int64_t> rows) {
  ScopedFloatMode mode(impl->options.flushDenormals);
  if (Status s = impl->checkData(data); !s)
    return s.takeError();
  for (int64_t r : rows)
    if (r < 0 || r >= data.rows)
      return fail(
          fmt::format("row {} is outside data set '{}' ({} rows)", r, data.name, data.rows));
  return impl->evaluateRows(data, rows, true);
}

Result<std::string> canonicalBalance(std::string_view text) {
  Result<balance::Method> method = balance::parseMethod(text);
  if (!method)
    return method.takeError();
  return method->text();
}

bool balanceAddsParameters(std::string_view text) {
  Result<balance::Method> method = balance::parseMethod(text);
  return method && method->kind == balance::Method::Kind::Uncertainty;
}

bool balanceCombinesGradients(std::string_view text) {
  Result<balance::Method> method = balance::parseMethod(text);
  return method && method->combinesGradients();
}

std::vector<double> Trainer::balanceState() const { return impl->balancer.state(); }
std::vector<double> Trainer::scheduleState() const { return impl->schedule.state(); }
bool Trainer::setScheduleState(const std::vector<double> &state) {
  return impl->schedule.setState(state);
}

bool Trainer::setBalanceState(const std::vector<double> &state) {
  return impl->balancer.setState(state);
}

} // namespace mtlrt
