// TrainerLoop.cpp: the epoch loop: shuffled batches, training steps, validation, early stopping.
#include "mtlrt/Checkpoint.h"
#include "mtlrt/FloatMode.h"
#include "mtlrt/Log.h"
#include "mtlrt/Progress.h"
#include "mtlrt/Report.h"
#include "train/TrainerImpl.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mtlrt {

namespace {
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Follows the monitored validation value from epoch to epoch.
struct BestTracker {
  Monitor monitor;
  double minDelta = 0;
  double best = NAN;
  int64_t sinceBest = 0; ///< epochs since the last improvement

  /// The monitored value of one validation pass; NaN when it is undefined.
  double valueOf(const EvalReport &report) const {
    if (monitor.task < 0)
      return report.loss;
    const TaskScores &scores = report.tasks[size_t(monitor.task)];
    if (monitor.metric == "loss")
      return scores.loss;
    for (const MetricValue &m : scores.metrics)
      if (m.name == monitor.metric)
        return m.value;
    return NAN;
  }

  /// True when this epoch beats the best by more than minDelta (the first
  /// defined value always does); an undefined value never improves.
  bool improves(const EvalReport &report) {
    double value = valueOf(report);
    double gain = monitor.minimize ? best - value : value - best;
    if (!std::isnan(value) && (std::isnan(best) || gain > minDelta)) {
      best = value;
      sinceBest = 0;
      return true;
    }
    ++sinceBest;
    return false;
  }
};

// "nan" whatever its sign bit, "inf" or "-inf".
std::string nonFinite(float v) { return std::isnan(v) ? "nan" : fmt::format("{}", v); }

std::string divergenceMessage(const mtl_model &model, int64_t epoch, int64_t step,
                              const mtl_result &res) {
  if (res.skipped == 2)
    return fmt::format("training stopped at epoch {}, step {}: its update overflowed, leaving "
                       "parameters or optimizer state that are not finite, so nothing of it is "
                       "saved (the run's last checkpoint is the last epoch's). A lower learning "
                       "rate may help",
                       epoch, step);
  std::vector<std::string> bad;
  for (int32_t t = 0; t < model.num_tasks; ++t)
    if (!std::isfinite(res.task_losses[t]))
      bad.push_back(
          fmt::format("task '{}' has loss {}", model.tasks[t].name, nonFinite(res.task_losses[t])));
  if (!std::isfinite(res.penalty))
    bad.push_back(
        fmt::format("the regularisation and soft-sharing penalty is {}", nonFinite(res.penalty)));
  std::string culprit =
      !bad.empty() ? fmt::format("{}", fmt::join(bad, ", "))
      : !std::isfinite(res.total_loss)
          ? fmt::format("the total loss is {}", nonFinite(res.total_loss))
          : std::string("every loss is finite, but a gradient or the learning rate is too large "
                        "(2^60 or more) to update with");
  return fmt::format("training stopped at epoch {}, step {}: {}; the parameters and optimizer "
                     "state of step {}, the last good one, are kept. A lower learning rate or "
                     "standardized inputs may help",
                     epoch, step, culprit, step - 1);
}
} // namespace

/// The checkpoints of epochs not written yet: an epoch's are written when
/// the last were written kSeconds ago or more (every epoch of a run whose
/// epochs take that long), else when the run ends, stops or is interrupted,
/// so at most that much training is lost to a crash.
struct PendingCheckpoints {
  static constexpr double kSeconds = 1.0;
  std::optional<Checkpoint> last, best;
  Clock::time_point written = Clock::now() - std::chrono::hours(1);

  bool due() const { return secondsSince(written) >= kSeconds; }
  /// Writes best.safetensors if one is pending.
  Status writeBest(const std::string &dir) {
    if (!best)
      return Ok{};
    Status s = writeCheckpoint((std::filesystem::path(dir) / "best.safetensors").string(), *best);
    best.reset();
    return s;
  }
  /// Writes what is pending (nothing without a checkpoint directory).
  Status write(const std::string &dir) {
    if (dir.empty())
      return Ok{};
    if (last) {
      if (Status s =
              writeCheckpoint((std::filesystem::path(dir) / "last.safetensors").string(), *last);
          !s)
        return s;
      last.reset();
    }
    if (Status s = writeBest(dir); !s)
      return s;
    written = Clock::now();
    return Ok{};
  }
};

/// Writes the trainer as it stands to `name` in the checkpoint directory.
static Status saveCheckpoint(const Trainer &trainer, const char *name) {
  std::string path = (std::filesystem::path(trainer.options().checkpointDir) / name).string();
  Result<Checkpoint> ck = captureCheckpoint(trainer);
  if (!ck)
    return fail(fmt::format("{}: {}", path, ck.error()));
  return writeCheckpoint(path, *ck);
}

Status Trainer::Impl::trainEpoch(const Dataset &data, const EpochPlan &plan, int64_t epoch,
                                 EpochOutputs &out, EvalReport &train) {
  const int64_t batches = int64_t(plan.ends.size());
  std::fill(epochLossSums.begin(), epochLossSums.end(), 0.0);
  std::fill(epochCounts.begin(), epochCounts.end(), 0.0);
  std::fill(epochGateSums.begin(), epochGateSums.end(), 0.0);
  std::fill(epochGateRows.begin(), epochGateRows.end(), 0.0);
  double totalSum = 0, penaltySum = 0;
  int64_t rowsDone = 0;
  out.progress.startEpoch(epoch, options.epochs, batches);
  balancer.startEpoch(batches);
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t begin = b == 0 ? 0 : plan.ends[size_t(b - 1)], n = plan.ends[size_t(b)] - begin;
    gather(data, std::span(plan.rows).subspan(size_t(begin), size_t(n)));
    hyper.step = ++step;
    hyper.lr = float(double(options.lr) * schedule.factor(step, epoch, batches, options.epochs));
    mtl_result res{0.0f,
                   taskLosses.data(),
                   taskCounts.data(),
                   noOutputs.data(),
                   0.0f,
                   0,
                   gateSums.empty() ? nullptr : gateSums.data(),
                   0};
    trainStep(res);
    if (res.skipped) {
      out.progress.finish();
      std::string message = divergenceMessage(*model, epoch, step, res);
      out.log.failure(epoch, step, message);
      broken = res.skipped == 2;
      if (!broken) // the step changed nothing: the model still holds the last good step
        hyper.step = --step;
      return fail(message);
    }
    // Epoch means weight each batch by its rows (total) or labelled rows (a
    // task), so a smaller last batch or sparse labels count for what they are.
    totalSum += double(res.total_loss) * double(n);
    penaltySum += double(res.penalty) * double(n);
    rowsDone += n;
    for (size_t t = 0; t < epochLossSums.size(); ++t) {
      epochLossSums[t] += double(taskLosses[t]) * double(taskCounts[t]);
      epochCounts[t] += double(taskCounts[t]);
    }
    for (int32_t g = 0, at = 0; g < model->num_gates; at += model->gates[g++].experts) {
      const int32_t task = model->gates[g].task;
      epochGateRows[size_t(g)] += task < 0 ? double(n) : double(taskCounts[size_t(task)]);
      for (int32_t j = 0; j < model->gates[g].experts; ++j)
        epochGateSums[size_t(at + j)] += double(gateSums[size_t(at + j)]);
    }
    if (out.stepLosses)
      out.stepLosses->push_back(res.total_loss); // reserved in fit(): no allocation
    if (options.logEvery > 0 && step % options.logEvery == 0) {
      const BalanceStats stepBalance = balancer.lastStep();
      out.log.step(*model, epoch, step, res.total_loss, taskLosses, taskCounts, &stepBalance);
    }
    out.progress.update(b + 1, totalSum / double(rowsDone), rowsDone);
    if (options.interrupt && options.interrupt->load(std::memory_order_relaxed))
      break; // fit() sees the short epoch by its rows
  }
  out.progress.finish();
  train.rows = rowsDone;
  train.loss = totalSum / double(rowsDone);
  train.penalty = penaltySum / double(rowsDone);
  train.tasks = emptyScores();
  for (size_t t = 0; t < epochLossSums.size(); ++t) {
    train.tasks[t].loss = epochCounts[t] > 0 ? epochLossSums[t] / epochCounts[t] : 0.0;
    train.tasks[t].labelled = epochCounts[t];
  }
  return Ok{};
}

std::vector<GateMeans> Trainer::Impl::gateMeans() const {
  std::vector<GateMeans> out;
  for (int32_t g = 0, at = 0; g < model->num_gates; at += model->gates[g++].experts) {
    const mtl_gate_desc &gate = model->gates[g];
    GateMeans means{gate.name, gate.task < 0 ? "" : model->tasks[gate.task].name, {}, {}};
    const double rows = epochGateRows[size_t(g)];
    for (int32_t j = 0; j < gate.experts; ++j) {
      means.experts.push_back(gate.expert_names[j]);
      means.means.push_back(rows > 0 ? epochGateSums[size_t(at + j)] / rows : NAN);
    }
    out.push_back(std::move(means));
  }
  return out;
}

/// Puts the best epoch's parameters back after a fit, from the copy taken
/// when it ran or, when it ran before a resume, from the best.safetensors
/// beside the resumed checkpoint (copied into this run's checkpoint
/// directory). Returns the epoch whose parameters the trainer now holds.
int64_t Trainer::Impl::keepBest(Trainer &trainer, int64_t bestEpoch, bool haveCopy) {
  if (bestEpoch <= 0 || bestEpoch == run.epoch)
    return run.epoch;
  if (haveCopy) {
    std::copy(bestParams.begin(), bestParams.end(), params.floats());
    if (bestState && !applyCheckpoint(*bestState, trainer, Restore::Everything))
      return run.epoch; // cannot happen: the trainer took it; its parameters stay the best
    return bestEpoch;
  }
  if (options.resumeFrom.empty())
    return run.epoch;
  namespace fs = std::filesystem;
  const std::string path =
      (fs::path(options.resumeFrom).parent_path() / "best.safetensors").string();
  Result<Checkpoint> ck = readCheckpoint(path);
  int64_t epoch = -1;
  if (!ck || !ck->metaNumber("epoch", epoch) || epoch != bestEpoch ||
      !applyCheckpoint(*ck, trainer, Restore::ParamsOnly)) {
    if (!options.quiet)
      std::fprintf(stderr,
                   "note: the best epoch, %lld, was before the resume, and %s is %s: the last "
                   "epoch's parameters are kept\n",
                   static_cast<long long>(bestEpoch), path.c_str(),
                   !ck ? "missing or unreadable" : "not that epoch's checkpoint");
    return run.epoch;
  }
  if (!options.checkpointDir.empty())
    (void)writeCheckpoint((fs::path(options.checkpointDir) / "best.safetensors").string(), *ck);
  return bestEpoch;
}

namespace {
/// The rows to train on, and where validation and test rows come from: the
/// data sets given, or fractions held out of the training data.
Split fitSplit(const TrainOptions &opt, const Dataset &train, const Dataset *validation,
               const Dataset *test) {
  return splitSources(train, validation ? 0.0 : opt.validate, opt.seed, test ? 0.0 : opt.test);
}
} // namespace

Status Trainer::prepare(const Dataset &train, const Dataset *validation, const Dataset *test) {
  for (const Dataset *d : {&train, validation, test})
    if (d)
      if (Status s = impl->checkData(*d); !s)
        return s;
  const Split split = fitSplit(impl->options, train, validation, test);
  return impl->startRun(train, split.train,
                        validation ? validation->rows : int64_t(split.validation.size()),
                        validation);
}

Result<TrainResult> Trainer::fit(const Dataset &train, const Dataset *validation,
                                 const Dataset *test) {
  const TrainOptions &opt = impl->options;
  const Split split = fitSplit(opt, train, validation, test);
  const std::vector<int64_t> valRows = validation ? allRows(validation->rows) : split.validation;
  const std::vector<int64_t> testRows = test ? allRows(test->rows) : split.test;
  // What validation there is not: a fraction too small for the data holds
  // out no row, which "set validate" would not explain.
  const std::string noValidation =
      !validation && opt.validate > 0
          ? fmt::format("validate = {} of the {} training row{} holds out none; use more "
                        "rows, a larger fraction or a validation data set",
                        opt.validate, train.rows, train.rows == 1 ? "" : "s")
          : std::string("set validate to a fraction or a data set");
  // Said where nothing fails for it (early stopping and plateau do).
  if (!validation && opt.validate > 0 && valRows.empty() && !opt.quiet && !opt.earlyStop.enabled &&
      impl->schedule.kind() != Schedule::Kind::Plateau)
    std::fprintf(stderr, "warning: %s; the run trains without validation\n", noValidation.c_str());
  return fitRows(train, split.train, {validation ? validation : &train, valRows},
                 {test ? test : &train, testRows}, noValidation);
}

Result<TrainResult> Trainer::fit(const Dataset &train, std::span<const int64_t> trainRows,
                                 DataRows validation, DataRows test) {
  return fitRows(train, trainRows, validation, test, "give it validation rows");
}

namespace {
/// Whether `rows` are rows of `data` (ascending ones when `ascending`).
bool rowsOf(const Dataset &data, std::span<const int64_t> rows, bool ascending) {
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i] < 0 || rows[i] >= data.rows || (ascending && i > 0 && rows[i] <= rows[i - 1]))
      return false;
  return true;
}
} // namespace

Result<TrainResult> Trainer::fitRows(const Dataset &train, std::span<const int64_t> trainRows,
                                     DataRows validation, DataRows test,
                                     const std::string &noValidation) {
  Impl &m = *impl;
  const mtl_model &model = *m.model;
  const TrainOptions &opt = m.options;
  ScopedFloatMode mode(opt.flushDenormals);
  m.fitEpochs.clear();
  for (const Dataset *d : {&train, validation.data, test.data})
    if (d)
      if (Status s = m.checkData(*d); !s)
        return s.takeError();
  if (!rowsOf(train, trainRows, true))
    return fail(
        fmt::format("the training rows of data set '{}' are not ascending rows of it", train.name));
  for (const DataRows *d : {&validation, &test})
    if (d->data && !rowsOf(*d->data, d->rows, false))
      return fail(fmt::format("data set '{}' has {} rows, and a fit was given rows outside them",
                              d->data->name, d->data->rows));
  // Each data set's training rows, which the epochs' batches draw from.
  std::vector<std::vector<int64_t>> sourceRows = sourceRowLists(train);
  for (std::vector<int64_t> &rows : sourceRows)
    std::erase_if(rows, [&](int64_t r) {
      return !std::binary_search(trainRows.begin(), trainRows.end(), r);
    });
  const std::span<const int64_t> valRows =
      validation.data ? validation.rows : std::span<const int64_t>();
  const std::span<const int64_t> testRows = test.data ? test.rows : std::span<const int64_t>();
  const bool validating = !valRows.empty();
  if (trainRows.empty())
    return fail(fmt::format("training data '{}' has no rows to train on", train.name));
  if (opt.earlyStop.enabled && !validating)
    return fail("early stopping needs validation data: " + noValidation);
  if (m.schedule.kind() == Schedule::Kind::Plateau && !validating)
    return fail(fmt::format("schedule '{}' follows the validation loss and needs validation "
                            "data: {}",
                            opt.schedule, noValidation));
  const int64_t valCount = int64_t(valRows.size());
  const bool resuming = m.resumePending;
  if (resuming) {
    // The checkpoint's statistics stay; the data must be what the run trained on.
    if (m.run.trainRows != int64_t(trainRows.size()) || m.run.valRows != valCount)
      return fail(fmt::format("cannot resume on data set '{}': it gives {} training and {} "
                              "validation rows, the checkpoint's run had {} and {}",
                              train.name, trainRows.size(), valCount, m.run.trainRows,
                              m.run.valRows));
    if (Status s = m.checkDataValues(train, validation.data); !s)
      return s.takeError();
    if (Status s = m.checkStandardizers(train); !s)
      return s.takeError();
    // Head outputs and embedding rows stand for the checkpoint's classes and categories.
    if (Status s = m.checkVocabularies(train, true, true); !s)
      return s.takeError();
  } else if (Status s = m.startRun(train, trainRows, valCount, validation.data); !s)
    return s.takeError();
  m.resumePending = false;
  if (!opt.checkpointDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opt.checkpointDir, ec);
    if (ec)
      return fail(fmt::format("{}: cannot create the checkpoint directory: {}", opt.checkpointDir,
                              ec.message()));
    if (opt.saveInit)
      if (Status s = saveCheckpoint(*this, "init.safetensors"); !s)
        return s.takeError();
  }

  if (std::string why = m.balanceWarning(train); !why.empty() && !opt.quiet)
    std::fprintf(stderr, "warning: %s\n", why.c_str());

  RunLog log;
  if (!opt.logPath.empty()) {
    Result<RunLog> opened = RunLog::open(opt.logPath, resuming, m.run.epoch);
    if (!opened)
      return opened.takeError();
    log = std::move(opened.value());
  }
  log.start(model, opt, int64_t(trainRows.size()), valCount);
  ProgressBar progress(opt.quiet ? nullptr : opt.progress);
  EpochTable table(opt.quiet ? nullptr : opt.table, model, validating, opt.evalTrain);
  TrainResult result;
  // A resumed run that stopped early stays stopped, as the run it continues would have.
  const bool stoppedEarly = resuming && m.run.stoppedEarly;
  const int64_t firstEpoch = m.run.epoch + 1, lastEpoch = stoppedEarly ? m.run.epoch : opt.epochs;
  result.stoppedEarly = stoppedEarly;
  if (firstEpoch > lastEpoch) {
    // A resumed run that has already reached its epochs: say so rather than print an empty table.
    if (!opt.quiet && stoppedEarly)
      std::fprintf(opt.table,
                   "%s: the checkpoint's run stopped early after epoch %lld; nothing to do "
                   "(start a new run from it with --init-from to train on)\n",
                   model.name, static_cast<long long>(m.run.epoch));
    else if (!opt.quiet)
      std::fprintf(opt.table,
                   "%s: the checkpoint has trained %lld of %lld epochs; nothing to do "
                   "(raise the epochs to train on)\n",
                   model.name, static_cast<long long>(m.run.epoch),
                   static_cast<long long>(opt.epochs));
  } else {
    table.header();
  }
  int64_t stepsPerEpoch = 0;
  for (const std::vector<int64_t> &rows : sourceRows)
    stepsPerEpoch += (int64_t(rows.size()) + opt.batch - 1) / opt.batch;
  if (opt.keepStepLosses && firstEpoch <= lastEpoch)
    result.stepLosses.reserve(size_t(stepsPerEpoch * (lastEpoch - firstEpoch + 1)));
  Impl::EpochOutputs out{log, progress, opt.keepStepLosses ? &result.stepLosses : nullptr};
  BestTracker tracker{resolveMonitor(model, opt.earlyStop.monitor).value(), opt.earlyStop.minDelta,
                      m.run.bestValue, m.run.sinceBest};
  result.bestEpoch = m.run.bestEpoch;
  bool haveBestCopy = false;
  if (validating)
    m.bestParams.resize(size_t(model.params_size));
  m.bestState.reset();
  EpochPlan plan;
  Clock::time_point runStart = Clock::now();
  PendingCheckpoints pending;

  for (int64_t epoch = firstEpoch; epoch <= lastEpoch; ++epoch) {
    Clock::time_point epochStart = Clock::now();
    // Each epoch shuffles the split's rows afresh, so its order depends only on (seed, epoch).
    planEpoch(m.sampling, sourceRows, opt.batch, opt.shuffle, opt.seed, epoch, plan);
    EpochRecord record;
    record.epoch = epoch;
    m.setEpochScales(epoch);
    if (Status s = m.trainEpoch(train, plan, epoch, out, record.train); !s) {
      // What is kept, and saved, is the last good step (unless the update broke it).
      if (!opt.checkpointDir.empty()) {
        if (Status saved = pending.writeBest(opt.checkpointDir); !saved)
          return fail(fmt::format("{}; and {}", s.error(), saved.error()));
        if (!m.broken)
          if (Status saved = saveCheckpoint(*this, "last.safetensors"); !saved)
            return fail(fmt::format("{}; and {}", s.error(), saved.error()));
      }
      return s.takeError();
    }
    if (record.train.rows < int64_t(plan.rows.size())) {
      // Interrupted mid-epoch: the steps stay taken, but part of an epoch is
      // no epoch to validate, log or resume from; the last whole one is.
      result.interrupted = true;
      if (Status s = pending.write(opt.checkpointDir); !s)
        return s.takeError();
      break;
    }
    record.steps = m.step;
    record.lr = m.hyper.lr;
    record.balance = m.balancer.takeStats();
    record.gates = m.gateMeans();
    std::vector<double> epochLosses;
    for (const TaskScores &t : record.train.tasks)
      epochLosses.push_back(t.loss);
    m.balancer.endEpoch(epochLosses);
    if (opt.evalTrain) {
      EvalReport again = m.evaluateRows(train, trainRows, true);
      for (size_t t = 0; t < again.tasks.size(); ++t)
        record.train.tasks[t].metrics = std::move(again.tasks[t].metrics);
    }
    if (validating)
      record.validation = m.evaluateRows(*validation.data, valRows, true);
    record.seconds = secondsSince(epochStart);
    table.row(record);
    log.epoch(record);
    if (!log.problem().empty()) // a full disk: the checkpoints would fail next
      return fail(log.problem());
    m.fitEpochs.push_back(std::move(record));

    bool improved = false, stop = false;
    if (validating) {
      const double value = tracker.valueOf(*m.fitEpochs.back().validation);
      m.schedule.endEpoch(tracker.monitor.minimize ? value : -value);
      improved = tracker.improves(*m.fitEpochs.back().validation);
      if (improved) {
        result.bestEpoch = epoch;
        std::copy_n(m.params.floats(), m.bestParams.size(), m.bestParams.begin());
        haveBestCopy = true;
      } else {
        stop = opt.earlyStop.enabled && tracker.sinceBest >= opt.earlyStop.patience;
      }
    }
    m.run.epoch = epoch;
    m.run.bestEpoch = result.bestEpoch;
    m.run.bestValue = tracker.best;
    m.run.sinceBest = tracker.sinceBest;
    m.run.stoppedEarly = stop;
    const bool interrupted = opt.interrupt && opt.interrupt->load(std::memory_order_relaxed);
    const bool keepBest = improved && opt.keepBestState;
    if (keepBest || !opt.checkpointDir.empty()) {
      // One capture of the epoch for both: the best state kept in memory,
      // and the checkpoints, written now where the last were written a
      // while ago or the run ends here, else kept until then (short epochs
      // would spend most of their time waiting on the disk).
      Result<Checkpoint> now = captureCheckpoint(*this);
      if (!now)
        return now.takeError();
      if (keepBest)
        m.bestState = *now;
      if (!opt.checkpointDir.empty()) {
        if (improved)
          pending.best = *now;
        pending.last = std::move(*now);
        if (stop || interrupted || epoch == lastEpoch || pending.due())
          if (Status s = pending.write(opt.checkpointDir); !s)
            return s.takeError();
      }
    }
    if (stop) {
      result.stoppedEarly = true;
      break;
    }
    if (interrupted) {
      result.interrupted = true; // during the epoch's last step or its validation
      break;
    }
  }
  // The fit succeeded: its epochs are the result's (fitEpochs() keeps those
  // of a fit that failed).
  result.epochs = std::move(m.fitEpochs);
  m.fitEpochs.clear();
  result.steps = m.step;
  result.lastEpoch = m.run.epoch;
  // An interrupted run keeps what it trained, up to its last step.
  result.keptEpoch = result.interrupted
                         ? m.run.epoch
                         : m.keepBest(*this, validating ? result.bestEpoch : 0, haveBestCopy);
  if (!testRows.empty())
    result.test = m.evaluateRows(*test.data, testRows, true);
  result.seconds = secondsSince(runStart);
  result.threads = m.threadChoice.use();
  log.end(result);
  if (!log.problem().empty())
    return fail(log.problem());
  if (!opt.quiet && !result.epochs.empty())
    printSummary(opt.table, model, result,
                 opt.earlyStop.monitor.empty() ? "loss" : opt.earlyStop.monitor);
  return result;
}

} // namespace mtlrt
