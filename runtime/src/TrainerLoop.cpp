// TrainerLoop.cpp: the epoch loop: shuffled batches, training steps, validation, early stopping.
#include "TrainerImpl.h"
#include "mtlrt/Checkpoint.h"
#include "mtlrt/Log.h"
#include "mtlrt/Progress.h"
#include "mtlrt/Report.h"

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

std::string divergenceMessage(const mtl_model &model, int64_t epoch, int64_t step, float total,
                              std::span<const float> losses) {
  std::vector<std::string> bad;
  for (int32_t t = 0; t < model.num_tasks; ++t)
    if (!std::isfinite(losses[size_t(t)]))
      bad.push_back(fmt::format("task '{}' has loss {}", model.tasks[t].name, losses[size_t(t)]));
  std::string culprit =
      bad.empty() ? std::string("every task loss is finite, so a regulariser or penalty overflowed")
                  : fmt::format("{}", fmt::join(bad, ", "));
  return fmt::format("training diverged at epoch {}, step {}: the total loss is {} ({}); "
                     "a lower learning rate or standardized inputs may help",
                     epoch, step, total, culprit);
}
} // namespace

/// Writes the trainer as it stands to `name` in the checkpoint directory.
static Status saveCheckpoint(const Trainer &trainer, const char *name) {
  std::string path = (std::filesystem::path(trainer.options().checkpointDir) / name).string();
  Result<Checkpoint> ck = captureCheckpoint(trainer);
  if (!ck)
    return fail(fmt::format("{}: {}", path, ck.error()));
  return writeCheckpoint(path, *ck);
}

Status Trainer::Impl::trainEpoch(const Dataset &data, std::span<const int64_t> order, int64_t epoch,
                                 EpochOutputs &out, EvalReport &train) {
  const int64_t rows = int64_t(order.size());
  const int64_t batches = (rows + options.batch - 1) / options.batch;
  std::fill(epochLossSums.begin(), epochLossSums.end(), 0.0);
  std::fill(epochCounts.begin(), epochCounts.end(), 0.0);
  double totalSum = 0;
  int64_t rowsDone = 0;
  out.progress.startEpoch(epoch, options.epochs, batches);
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t begin = b * options.batch, n = std::min(options.batch, rows - begin);
    gather(data, order.subspan(size_t(begin), size_t(n)));
    hyper.step = ++step;
    mtl_result res{0.0f, taskLosses.data(), taskCounts.data(), noOutputs.data()};
    model->train_step(&batch, &hyper, params.floats(), state.floats(), workspace.floats(), &res,
                      &parallel);
    if (!std::isfinite(res.total_loss)) {
      out.progress.finish();
      std::string message = divergenceMessage(*model, epoch, step, res.total_loss, taskLosses);
      out.log.failure(epoch, step, message);
      return fail(message);
    }
    // Epoch means weight each batch by its rows (total) or labelled rows (a
    // task), so a smaller last batch or sparse labels count for what they are.
    totalSum += double(res.total_loss) * double(n);
    rowsDone += n;
    for (size_t t = 0; t < epochLossSums.size(); ++t) {
      epochLossSums[t] += double(taskLosses[t]) * double(taskCounts[t]);
      epochCounts[t] += double(taskCounts[t]);
    }
    if (out.stepLosses)
      out.stepLosses->push_back(res.total_loss); // reserved in fit(): no allocation
    if (options.logEvery > 0 && step % options.logEvery == 0)
      out.log.step(*model, epoch, step, res.total_loss, taskLosses, taskCounts);
    out.progress.update(b + 1, totalSum / double(rowsDone), rowsDone);
    if (options.interrupt && options.interrupt->load(std::memory_order_relaxed))
      break; // fit() sees the short epoch by its rows
  }
  out.progress.finish();
  train.rows = rowsDone;
  train.loss = totalSum / double(rowsDone);
  train.tasks = emptyScores();
  for (size_t t = 0; t < epochLossSums.size(); ++t) {
    train.tasks[t].loss = epochCounts[t] > 0 ? epochLossSums[t] / epochCounts[t] : 0.0;
    train.tasks[t].labelled = epochCounts[t];
  }
  return Ok{};
}

Result<TrainResult> Trainer::fit(const Dataset &train, const Dataset *validation,
                                 const Dataset *test) {
  Impl &m = *impl;
  const mtl_model &model = *m.model;
  const TrainOptions &opt = m.options;
  for (const Dataset *d : {&train, validation, test})
    if (d)
      if (Status s = m.checkData(*d); !s)
        return s.takeError();

  // The rows to train on, and where validation rows come from.
  std::vector<int64_t> trainRows, valRows;
  const Dataset *valData = validation;
  if (validation) {
    trainRows = allRows(train.rows);
    valRows = allRows(validation->rows);
  } else if (opt.validate > 0) {
    Split split = splitRows(train.rows, opt.validate, opt.seed);
    trainRows = std::move(split.train);
    valRows = std::move(split.validation);
    valData = &train;
  } else {
    trainRows = allRows(train.rows);
  }
  const bool validating = valData && !valRows.empty();
  if (trainRows.empty())
    return fail(fmt::format("training data '{}' has no rows to train on", train.name));
  if (opt.earlyStop.enabled && !validating)
    return fail("early stopping needs validation data: set validate to a fraction or a data set");
  if (opt.keepBest && !validating)
    return fail("keeping the best checkpoint needs validation data: set validate to a fraction "
                "or a data set");
  const int64_t valCount = validating ? int64_t(valRows.size()) : 0;
  const bool resuming = m.resumePending;
  if (resuming) {
    // The checkpoint's statistics stay; the data must be what the run trained on.
    if (m.run.trainRows != int64_t(trainRows.size()) || m.run.valRows != valCount)
      return fail(fmt::format("cannot resume on data set '{}': it gives {} training and {} "
                              "validation rows, the checkpoint's run had {} and {}",
                              train.name, trainRows.size(), valCount, m.run.trainRows,
                              m.run.valRows));
    if (Status s = m.checkStandardizers(train); !s)
      return s.takeError();
  } else {
    m.fitStandardizers(train, trainRows);
    m.classNames = train.classNames;
    m.run = RunState{};
    m.run.trainRows = int64_t(trainRows.size());
    m.run.valRows = valCount;
  }
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

  RunLog log;
  if (!opt.logPath.empty()) {
    Result<RunLog> opened = RunLog::open(opt.logPath, resuming);
    if (!opened)
      return opened.takeError();
    log = std::move(opened.value());
  }
  log.start(model, opt, int64_t(trainRows.size()), int64_t(valRows.size()));
  ProgressBar progress(opt.quiet ? nullptr : opt.progress);
  EpochTable table(opt.quiet ? nullptr : opt.table, model, validating, opt.evalTrain);
  TrainResult result;
  const int64_t firstEpoch = m.run.epoch + 1;
  if (firstEpoch > opt.epochs) {
    // A resumed run that has already reached its epochs: say so rather than print an empty table.
    if (!opt.quiet)
      std::fprintf(opt.table,
                   "%s: the checkpoint has trained %lld of %lld epochs; nothing to do "
                   "(raise the epochs to train on)\n",
                   model.name, static_cast<long long>(m.run.epoch),
                   static_cast<long long>(opt.epochs));
  } else {
    table.header();
  }
  if (opt.keepStepLosses && firstEpoch <= opt.epochs)
    result.stepLosses.reserve(size_t((int64_t(trainRows.size()) + opt.batch - 1) / opt.batch *
                                     (opt.epochs - firstEpoch + 1)));
  Impl::EpochOutputs out{log, progress, opt.keepStepLosses ? &result.stepLosses : nullptr};
  BestTracker tracker{resolveMonitor(model, opt.earlyStop.monitor).value(), opt.earlyStop.minDelta,
                      m.run.bestValue, m.run.sinceBest};
  result.bestEpoch = m.run.bestEpoch;
  std::vector<int64_t> order(trainRows.size());
  Clock::time_point runStart = Clock::now();

  for (int64_t epoch = firstEpoch; epoch <= opt.epochs; ++epoch) {
    Clock::time_point epochStart = Clock::now();
    // Each epoch shuffles the split's rows afresh, so its order depends only on (seed, epoch).
    std::copy(trainRows.begin(), trainRows.end(), order.begin());
    if (opt.shuffle)
      shuffleRows(order, opt.seed, epoch);
    EpochRecord record;
    record.epoch = epoch;
    if (Status s = m.trainEpoch(train, order, epoch, out, record.train); !s)
      return s.takeError();
    if (record.train.rows < int64_t(order.size())) {
      // Interrupted mid-epoch: the steps stay taken, but part of an epoch is
      // no epoch to validate, log or resume from.
      result.interrupted = true;
      break;
    }
    record.steps = m.step;
    if (opt.evalTrain) {
      EvalReport again = m.evaluateRows(train, trainRows, true);
      for (size_t t = 0; t < again.tasks.size(); ++t)
        record.train.tasks[t].metrics = std::move(again.tasks[t].metrics);
    }
    if (validating)
      record.validation = m.evaluateRows(*valData, valRows, true);
    record.seconds = secondsSince(epochStart);
    table.row(record);
    log.epoch(record);
    result.epochs.push_back(std::move(record));

    bool improved = false, stop = false;
    if (validating) {
      improved = tracker.improves(*result.epochs.back().validation);
      if (improved)
        result.bestEpoch = epoch;
      else
        stop = opt.earlyStop.enabled && tracker.sinceBest >= opt.earlyStop.patience;
    }
    m.run.epoch = epoch;
    m.run.bestEpoch = result.bestEpoch;
    m.run.bestValue = tracker.best;
    m.run.sinceBest = tracker.sinceBest;
    m.run.stoppedEarly = stop;
    if (!opt.checkpointDir.empty()) {
      if (Status s = saveCheckpoint(*this, "last.safetensors"); !s)
        return s.takeError();
      if (opt.keepBest && improved)
        if (Status s = saveCheckpoint(*this, "best.safetensors"); !s)
          return s.takeError();
    }
    if (stop) {
      result.stoppedEarly = true;
      break;
    }
    if (opt.interrupt && opt.interrupt->load(std::memory_order_relaxed)) {
      result.interrupted = true; // during the epoch's last step or its validation
      break;
    }
  }
  result.steps = m.step;
  if (test) {
    std::vector<int64_t> rows = allRows(test->rows);
    result.test = m.evaluateRows(*test, rows, true);
  }
  result.seconds = secondsSince(runStart);
  log.end(result);
  if (!opt.quiet && !result.epochs.empty())
    printSummary(opt.table, model, result,
                 opt.earlyStop.monitor.empty() ? "loss" : opt.earlyStop.monitor);
  return result;
}

} // namespace mtlrt
