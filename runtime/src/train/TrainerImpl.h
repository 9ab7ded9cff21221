// TrainerImpl.h: the Trainer's private state, shared by the files that implement it.
#pragma once

#include "balance/Balancer.h"
#include "mtlrt/Abi.h"
#include "mtlrt/Checkpoint.h"
#include "mtlrt/CodeSwap.h"
#include "mtlrt/Dataset.h"
#include "mtlrt/ThreadPool.h"
#include "mtlrt/Trainer.h"
#include "support/Buffer.h"
#include "train/Sampling.h"
#include "train/Schedule.h"
#include "train/ThreadChoice.h"

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mtlrt {

class ProgressBar;
class RunLog;

struct Trainer::Impl {
  const mtl_model *model = nullptr;
  TrainOptions options;
  std::shared_ptr<ThreadPool> pool; ///< its own, or one it shares (the C library's sessions)
  mtl_parallel parallel{};          ///< the pool's, or ThreadPool::callerOnly(): threadChoice's way
  ThreadChoice threadChoice;
  Buffer params, state, workspace, grads;
  balance::Balancer balancer;
  int64_t step = 0;
  RunState run;                       ///< where the last fit stands
  std::vector<EpochRecord> fitEpochs; ///< the current fit's epochs so far (fitEpochs())
  bool resumePending = false;         ///< the next fit() continues `run` (resumeAt)
  /// A step's update overflowed: the parameters are not finite (see mtl_result.skipped).
  bool broken = false;
  int64_t maxRows = 0; ///< rows of the largest batch the buffers hold
  /// Per input: ids must be below this (the embedding's vocabulary; 2^31 when
  /// the model carries no run configuration); unused for float inputs.
  std::vector<int64_t> idLimits;

  // Batch buffers and the ABI structures that point at them.
  std::vector<Buffer> inputBufs, targetBufs, outputBufs;
  std::vector<const void *> inputPtrs;
  std::vector<const float *> targetPtrs;
  std::vector<float *> outputPtrs, noOutputs;
  std::vector<float> taskLosses, taskCounts, taskWeights;
  mtl_batch batch{};
  mtl_hyper hyper{};

  // Fitted on the training rows of the last fit(); unset slots are left as they are.
  std::vector<std::optional<Standardizer>> inputStd, targetStd;
  // Per task: the class names of the last fit's training data (may be empty).
  std::vector<std::vector<std::string>> classNames;
  std::vector<Categories> categories;
  std::optional<InitReport> initReport;

  // Per parameter tensor: its learning-rate scale and whether it is frozen
  // (TrainOptions), and the scales of the current epoch's steps, which
  // hyper.lr_scales points at.
  std::vector<float> lrScale, stepScales;
  std::vector<uint8_t> frozen;
  Schedule schedule;
  Sampling sampling;
  /// Sets stepScales for the steps of `epoch`.
  void setEpochScales(int64_t epoch);

  // The parameters of the best epoch so far of the current fit (validation only).
  std::vector<float> bestParams;
  // With options.keepBestState: everything of the best epoch so far.
  std::optional<Checkpoint> bestState;

  // Whole-split head outputs and targets per task, for metrics; reused.
  std::vector<std::vector<float>> evalOutputs, evalTargets;
  // Per-task sums of an epoch's losses (times labelled rows) and labelled rows.
  std::vector<double> epochLossSums, epochCounts;
  // mtl_result.gate_sums of a step, and their sums and the rows counted per
  // gate over an epoch (empty for a model without gates).
  std::vector<float> gateSums;
  std::vector<double> epochGateSums, epochGateRows;
  /// The epoch's mean gate weights, from epochGateSums and epochGateRows.
  std::vector<GateMeans> gateMeans() const;

  /// Where a training epoch reports as it goes.
  struct EpochOutputs {
    RunLog &log;
    ProgressBar &progress;
    std::vector<float> *stepLosses; ///< null: not kept; else reserved for every step
  };

  /// Checks that `data` has the model's inputs and targets, with matching widths.
  Status checkData(const Dataset &data) const;
  /// Fits the standardisers on `rows` of `data` for every slot it marks.
  void fitStandardizers(const Dataset &data, std::span<const int64_t> rows);
  /// A new run on `trainRows` of `train`, `valRows` validation rows (of
  /// `validation`, when it is another data set): its statistics,
  /// vocabularies, counts and data fingerprint; fails on data numbered
  /// otherwise than the parameters.
  Status startRun(const Dataset &train, std::span<const int64_t> trainRows, int64_t valRows,
                  const Dataset *validation);
  /// For a resumed fit: fails unless `train` and `validation` hold the
  /// values the checkpoint's run trained on (RunState::dataValues).
  Status checkDataValues(const Dataset &train, const Dataset *validation) const;
  /// For a resumed fit: fails unless the slots `data` marks for
  /// standardisation are exactly those with statistics.
  Status checkStandardizers(const Dataset &data) const;
  /// Fails when `data` numbers a task's classes or an input's categories
  /// by another vocabulary than the parameters were trained with (those of
  /// classNames and categories that are not empty; `classes` false: the
  /// categories only). `resuming` words the message for a resumed fit.
  Status checkVocabularies(const Dataset &data, bool classes, bool resuming) const;
  /// Copies `rows` of `data` into the batch buffers (standardised, ids as
  /// int32) and sets batch.rows. Allocates nothing.
  void gather(const Dataset &data, std::span<const int64_t> rows);
  /// Checks raw rows for forward()/trainBatch(): slot counts, ids, labels
  /// (`targets` may be empty: no labels to check).
  Status checkRaw(int64_t rows, std::span<const float *const> inputs,
                  std::span<const float *const> targets) const;
  /// Copies `n` raw rows starting at row `first` into the batch buffers,
  /// standardised, ids as int32; without targets, the targets are NaN.
  void gatherRaw(int64_t first, int64_t n, std::span<const float *const> inputs,
                 std::span<const float *const> targets);
  /// Runs the build TrainOptions::codeSwap offers, if it offers one not
  /// taken yet, from now on; `stepsDone` is the step count so far.
  void takeOfferedCode(int64_t stepsDone) {
    if (options.codeSwap)
      if (const mtl_model *faster = options.codeSwap->take(stepsDone)) {
        model = faster;
        balancer.setModel(*faster);
        threadChoice.restart();
      }
  }
  /// Points `parallel` at the pool, or at the caller alone.
  void runOn(ThreadChoice::Way way) {
    parallel = way == ThreadChoice::Way::Pool ? pool->abi() : ThreadPool::callerOnly();
  }
  /// One training step (gradients, balancing, update) on the gathered batch,
  /// timed while threadChoice measures.
  void trainStep(mtl_result &result) {
    takeOfferedCode(hyper.step - 1);
    const ThreadChoice::Way way = threadChoice.next();
    runOn(way);
    const bool timed = threadChoice.measuring();
    const auto start =
        timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    balancer.step(batch, hyper, taskWeights, params.floats(), state.floats(), workspace.floats(),
                  grads.floats(), result, &parallel);
    if (timed) {
      threadChoice.record(
          batch.rows, way,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      runOn(threadChoice.chosen()); // evaluation runs the chosen way
    }
  }
  /// One training step per batch of `plan`; fills `train` with the epoch's
  /// losses. Fails, having logged it, when a total loss is not finite.
  Status trainEpoch(const Dataset &data, const EpochPlan &plan, int64_t epoch, EpochOutputs &out,
                    EvalReport &train);
  /// After a fit: puts back the parameters of `bestEpoch` (0: none) from
  /// bestParams (`haveCopy`) or best.safetensors; returns the kept epoch.
  int64_t keepBest(Trainer &trainer, int64_t bestEpoch, bool haveCopy);
  /// Runs eval_step over `rows` in batches; with `metrics`, also every task's metrics.
  EvalReport evaluateRows(const Dataset &data, std::span<const int64_t> rows, bool metrics);
  /// A TaskScores list with names and auxiliary flags filled in.
  std::vector<TaskScores> emptyScores() const;
  /// Why the run's gradient method trains as static does: every shared
  /// tensor is frozen for the whole run, or (when the method is chosen over
  /// the model's own, which `mtlc check` looked at) `train`'s data sets give
  /// it nothing to combine. Empty if neither.
  std::string balanceWarning(const Dataset &train) const;
  bool balanceOverridden = false; ///< options.balance is not the model's own method
};

/// a * b, or -1 when either is negative or the product overflows.
int64_t sizeProduct(int64_t a, int64_t b);

/// What early stopping (and the best epoch) watches, resolved against the model.
struct Monitor {
  int task = -1;      ///< -1: the total loss
  std::string metric; ///< "loss" or a metric name
  bool minimize = true;
};

/// Resolves "loss", "TASK.loss" or "TASK.METRIC"; fails naming what is wrong.
Result<Monitor> resolveMonitor(const mtl_model &model, const std::string &spec);

/// 0, 1, ..., n-1.
std::vector<int64_t> allRows(int64_t n);

/// Every metric of `task` on the labelled rows: `outputs` is rows x width
/// head outputs, `targets` rows x target width (NaN: no label).
std::vector<MetricValue> taskMetrics(const mtl_task_desc &task, std::span<const float> outputs,
                                     std::span<const float> targets, int64_t rows);

} // namespace mtlrt
