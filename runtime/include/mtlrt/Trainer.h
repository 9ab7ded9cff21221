// Trainer.h: the epoch loop that drives a compiled model (mtl_model) over loaded data.
//
// The Trainer owns the three arenas of the ABI (parameters, optimizer state,
// workspace for the largest batch) and the batch buffers, all allocated once
// in create(); a training step gathers rows into those buffers and calls the
// model, allocating nothing. Every random choice (initialisation, the
// validation split, the per-epoch shuffle, dropout) derives from the seed, and
// the thread pool only splits independent work, so a run repeats bit for bit
// with any number of threads.
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Checkpoint.h"
#include "mtlrt/Dataset.h"
#include "mtlrt/Result.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace mtlrt {

class CodeSwap;
class ThreadPool;

/// Stop when the monitored validation value has not improved for `patience` epochs.
struct EarlyStopOptions {
  bool enabled = false;
  int64_t patience = 5;
  /// "loss" (total validation loss), "TASK.loss", or "TASK.METRIC" for one of
  /// that task's metrics (accuracy, precision, recall, f1, macro_f1, auc, mse,
  /// mae, r2). Losses, mse and mae are minimised; every other metric is maximised.
  std::string monitor = "loss";
  /// An epoch improves on the best only by more than this.
  double minDelta = 0;
};

/// The most threads a trainer or predictor runs.
inline constexpr int kMaxThreads = 1024;

/// How to train. The driver fills it from the model's `train` block and the
/// command line.
struct TrainOptions {
  int64_t epochs = 10; ///< >= 1
  int64_t batch = 32;  ///< rows per step, >= 1; evaluation uses the same size
  uint64_t seed = 0;
  bool shuffle = true;
  int threads = 2; ///< threads of the pool, the caller's included; in [1, kMaxThreads]
  /// Time the first steps on the pool and on the calling thread alone, and
  /// run the rest the faster way (ThreadChoice.h; the results are the same
  /// bits either way). `mtlc train` sets it unless --threads is given.
  bool measureThreads = false;
  /// Flush denormal floats to zero (MXCSR FTZ and DAZ) while the model's
  /// code runs, on every thread of the pool; the caller's mode is restored
  /// when each call returns. False: IEEE denormals (slower once values decay).
  bool flushDenormals = true;
  /// The learning rate handed to every step: the optimizer's, or an override.
  float lr = 1e-3f;
  /// Per-task weight overrides by task name; other tasks keep the model's weight.
  std::vector<std::pair<std::string, double>> taskWeights;
  /// How the task losses are balanced (docs/balancing.md): "static",
  /// "pcgrad", "dwa(temperature = 2)", ...
  std::string balance = "static";
  /// The learning-rate schedule: constant, cosine(warmup = N), step(every =
  /// N, gamma = G) or plateau(patience = N, factor = F) (Schedule.h); plateau
  /// follows earlyStop.monitor on the validation data.
  std::string schedule = "constant";
  /// > 0: scale the gradients of each step to at most this L2 norm.
  double clipNorm = 0;
  /// How the batches draw from the data sets when the training Dataset
  /// merges several (Sampling.h): "round_robin", "proportional" or
  /// "temperature(T)".
  std::string sampling = "proportional";
  /// Split every step's gradients by task for the statistics (each task's
  /// gradient norm and the tasks' cosine similarities), even when the
  /// balancing method does not need them.
  bool gradStats = false;
  /// Fraction of the training data held out (see splitRows) when fit() gets no
  /// validation Dataset; 0: no validation.
  double validate = 0;
  /// Fraction of the training data held out for the test when fit() gets no
  /// test Dataset; 0: no test.
  double test = 0;
  EarlyStopOptions earlyStop;
  bool evalTrain = false;      ///< also compute metrics on the training split each epoch
  std::string logPath;         ///< JSON-lines log; empty: none
  int64_t logEvery = 0;        ///< a step record every this many steps; 0: epochs only
  bool quiet = false;          ///< no progress bar, table or summary
  bool keepStepLosses = false; ///< record every step's total loss in TrainResult
  /// After a fit that keeps an earlier best epoch, hold that epoch's whole
  /// state (optimizer state, step, balancing, run position) with its
  /// parameters, as best.safetensors has them, instead of the last step's.
  bool keepBestState = false;
  std::FILE *table = stdout;    ///< where the epoch table and summary go
  std::FILE *progress = stderr; ///< where the progress bar goes, if it is a terminal
  /// Non-null: fit() reads it after every training step and, once it is
  /// true, stops after that step (a signal handler may set it: Ctrl-C in the
  /// REPL). The steps taken stay taken: parameters, optimizer state and
  /// step() are those of the last step. An epoch cut short is not validated,
  /// logged, checkpointed or counted in runState(); one whose last step had
  /// run ends as every epoch does. fit() then returns with
  /// TrainResult::interrupted set. The caller clears the flag.
  const std::atomic<bool> *interrupt = nullptr;
  /// Non-null: before each training step and each evaluation pass, the
  /// trainer takes the build of the model's code this offers (once; see
  /// CodeSwap.h) and runs it instead of the model it was created with.
  std::shared_ptr<CodeSwap> codeSwap;

  // Checkpoints (docs/checkpoints.md). Failing to write one fails fit().
  /// Non-empty: fit() creates the directory and writes `last.safetensors`
  /// there after every epoch (and, when a step fails, the last good step's),
  /// and with validation data `best.safetensors` after each epoch that
  /// improves on the best by earlyStop.monitor.
  std::string checkpointDir;
  /// Write `init.safetensors` in checkpointDir with the parameters fit() starts from.
  bool saveInit = false;
  /// Non-empty: create() resumes the checkpoint at this path (parameters,
  /// optimizer state, step, standardisation, run position), and fit()
  /// continues at the epoch after the checkpoint's, repeating bit for bit
  /// what an uninterrupted run would have done. The model and the settings
  /// that steer the run (seed, batch, shuffle, validate, lr, task weights, monitor)
  /// must equal the checkpoint's.
  std::string resumeFrom;
  /// Non-empty: create() initialises the parameters from this checkpoint by
  /// name (initFromCheckpoint, with initMap's rules); the optimizer state,
  /// step and epochs start afresh. Excludes resumeFrom.
  std::string initFrom;
  std::vector<std::string> initMap; ///< "trunk.* <- encoder.*" (InitRule)
  /// Parameter groups that are not trained (a shared value or task name, a
  /// tensor name, or a pattern with '*'): their tensors and optimizer state
  /// stay as they are.
  std::vector<std::string> freeze;
  /// > 0: the frozen groups train from epoch unfreezeAfter + 1 on; 0: never.
  int64_t unfreezeAfter = 0;
  /// Learning-rate multipliers of parameter groups (as freeze names them);
  /// a later entry overrides an earlier one for the tensors both name.
  std::vector<std::pair<std::string, double>> lrScales;
};

/// One named metric value.
struct MetricValue {
  std::string name; ///< "accuracy", "macro_f1", "auc", ...
  double value = 0;
};

/// How one task did on one pass over some rows.
struct TaskScores {
  std::string name;
  bool auxiliary = false;
  double loss = 0;     ///< mean over labelled rows (each batch's mean, weighted by its count)
  double labelled = 0; ///< labelled rows seen
  std::vector<MetricValue> metrics; ///< in the order of mtl_metric bits; empty if not computed
};

/// One pass over a split: losses, and metrics where they were computed.
struct EvalReport {
  double loss = 0;    ///< total loss: mean of each batch's total, weighted by its rows
  double penalty = 0; ///< the part of `loss` from regularisers and soft sharing, averaged alike
  int64_t rows = 0;
  std::vector<TaskScores> tasks; ///< in the model's task order
};

/// What one epoch did.
/// What the balancing did over an epoch's steps.
struct BalanceStats {
  int64_t steps = 0;
  /// Per task: its effective weight on the shared gradient (the run's weight
  /// times the method's loss weight times its gradient coefficient), the
  /// median over the steps; the other fields are means.
  std::vector<double> weights;
  /// Per task: the norm of its gradient of w_t L_t on the shared parameters;
  /// empty unless the steps split the gradients by task (a gradient method,
  /// or TrainOptions::gradStats).
  std::vector<double> gradNorms;
  /// Row-major tasks x tasks: the cosine similarity of two tasks' gradients;
  /// empty with gradNorms.
  std::vector<double> cosines;
  /// Row-major tasks x tasks: the fraction of steps whose cosine was negative.
  std::vector<double> conflicts;
};

/// What a mix's gate (mtl_gate_desc) weighed each expert over an epoch's
/// training steps: which experts the gate's task uses.
struct GateMeans {
  std::string name;
  std::string task; ///< empty: several tasks read the mix
  std::vector<std::string> experts;
  /// Per expert: the gate's mean weight over the rows counted (the rows
  /// labelled for the task, or every row); NaN when no row was counted.
  std::vector<double> means;
};

struct EpochRecord {
  int64_t epoch = 0; ///< 1-based
  int64_t steps = 0; ///< optimizer steps taken so far, over all epochs
  double seconds = 0;
  double lr = 0;    ///< the learning rate of the epoch's last step (after the schedule)
  EvalReport train; ///< losses of the training steps (metrics only with evalTrain)
  std::optional<EvalReport> validation;
  BalanceStats balance;
  std::vector<GateMeans> gates; ///< per mtl_model.gates entry, over the training steps
};

/// The threads a trainer's steps run on (TrainOptions::measureThreads).
struct ThreadUse {
  int threads = 0; ///< what the steps run on now: the pool's threads, or 1
  int pool = 0;    ///< the pool's threads
  /// Median seconds of the timed steps on the pool and on one thread; 0
  /// when nothing was measured.
  double poolSeconds = 0, oneSeconds = 0;
};

/// What fit() did.
///
/// What a run keeps: with validation data, the parameters of the best epoch
/// by earlyStop.monitor (as Keras' restore_best_weights and Lightning's
/// best checkpoint do); without, the last epoch's. The Trainer holds the kept
/// parameters when fit() returns (the optimizer state and step stay the last
/// epoch's), `best.safetensors` and `last.safetensors` hold both, and the
/// test is evaluated with the kept ones.
struct TrainResult {
  std::vector<EpochRecord> epochs;
  /// 1-based best epoch by earlyStop.monitor ("loss" unless set), tracked
  /// even when early stopping is off; 0 without validation.
  int64_t bestEpoch = 0;
  /// The epoch whose parameters the Trainer holds after fit(): bestEpoch, or
  /// the last epoch without validation (or when the best one's parameters
  /// are not at hand after a resume).
  int64_t keptEpoch = 0;
  bool stoppedEarly = false;
  /// TrainOptions::interrupt stopped the run; `epochs` lists the complete
  /// epochs only, and steps counts every step taken.
  bool interrupted = false;
  /// The last whole epoch the run reached, counting those before a resume.
  int64_t lastEpoch = 0;
  int64_t steps = 0;
  double seconds = 0;
  ThreadUse threads;
  std::optional<EvalReport> test; ///< with the kept parameters
  std::vector<float> stepLosses;  ///< each step's total loss, with keepStepLosses

  /// The record of `epoch`, or null if this fit did not run it (a resumed
  /// run's records start after the checkpoint's epoch).
  const EpochRecord *record(int64_t epoch) const;
};

/// Where a run stands between epochs: what a checkpoint records besides tensors.
struct RunState {
  int64_t epoch = 0;     ///< epochs completed
  int64_t trainRows = 0; ///< rows trained on per epoch (0: no fit yet)
  int64_t valRows = 0;   ///< validation rows
  /// valuesFingerprint of the training data, combined with a validation data
  /// set's (not of rows held out from the training data, which it covers);
  /// 0: not known (a checkpoint written before checkpoints recorded it).
  uint64_t dataValues = 0;
  int64_t bestEpoch = 0;  ///< 1-based best epoch by earlyStop.monitor; 0: none yet
  double bestValue = NAN; ///< the monitored value at bestEpoch
  int64_t sinceBest = 0;  ///< epochs since the best one
  bool stoppedEarly = false;
};

/// Some rows of a data set, in the order a fit reads them.
struct DataRows {
  const Dataset *data = nullptr; ///< null: none
  std::span<const int64_t> rows; ///< each in [0, data->rows)
};

/// Trains one model. Create it, optionally overwrite params()/state()/step
/// or apply a checkpoint (Checkpoint.h), then fit().
class Trainer {
public:
  /// Checks the model and the options, starts the thread pool, allocates the
  /// arenas and buffers, initialises the parameters from options.seed and
  /// zeroes the optimizer state. The model must outlive the Trainer. With
  /// `pool`, the trainer runs its loops on that pool, which it shares with
  /// whoever else holds it, and options.threads becomes the pool's size;
  /// without, it starts its own of options.threads threads.
  static Result<Trainer> create(const mtl_model *model, TrainOptions options,
                                std::shared_ptr<ThreadPool> pool = nullptr);

  Trainer(Trainer &&) noexcept;
  Trainer &operator=(Trainer &&) noexcept;
  ~Trainer();

  /// Trains for options.epochs epochs (fewer with early stopping) on `train`,
  /// validating on `validation` or else on the held-out fraction, and
  /// evaluates `test` once at the end. Standardisation statistics (for the
  /// bindings the Datasets mark) come from the training rows and are applied
  /// to every split. Fails on data that does not fit the model, and when a
  /// loss stops being finite, naming the epoch, step and task.
  Result<TrainResult> fit(const Dataset &train, const Dataset *validation = nullptr,
                          const Dataset *test = nullptr);
  /// What fit(train, validation, test) does before its first step, without
  /// training: the standardisation statistics of its training rows, the
  /// data's class names and categories, its row counts. Untrained
  /// parameters are then evaluated, predicted and saved as such a fit's
  /// first step would see them (the REPL before :train; --save-init's).
  Status prepare(const Dataset &train, const Dataset *validation = nullptr,
                 const Dataset *test = nullptr);
  /// The same on given rows, holding nothing out (options.validate and
  /// options.test are not read): trains on `trainRows` of `train`
  /// (ascending, each once), validates on `validation`'s rows and tests on
  /// `test`'s. An experiment's splits and folds train this way, on the data
  /// it loaded, without a copy of their rows. Fails on a row out of range
  /// or training rows out of order.
  Result<TrainResult> fit(const Dataset &train, std::span<const int64_t> trainRows,
                          DataRows validation, DataRows test);

  /// Losses and metrics of the current parameters on every row of `data`,
  /// standardised with the statistics of the last fit (none before a fit).
  /// Regression targets marked standardize are scored on the standardised
  /// scale, the scale the model is trained on.
  Result<EvalReport> evaluate(const Dataset &data);
  /// The same on the listed rows of `data` only (each in [0, data.rows)).
  Result<EvalReport> evaluate(const Dataset &data, std::span<const int64_t> rows);

  /// Raw head outputs (logits for classify, binary and multilabel) of the
  /// current parameters for `rows` rows given in the model's layout:
  /// `inputs[i]` holds rows x elements values of input i (ids as floats),
  /// standardised here with the current statistics as training does.
  /// `outputs[t]` receives rows x width values of task t. Runs in batches of
  /// options.batch rows. Fails on a wrong number of slots, rows < 0, or an id
  /// that is not an integer >= 0.
  Status forward(int64_t rows, std::span<const float *const> inputs,
                 std::span<float *const> outputs);

  /// One optimizer step on 1 to options.batch raw rows, for callers that
  /// drive their own loop: inputs as for forward(), `targets[t]` rows x
  /// target width values of task t (class ids for classify; NaN: no label),
  /// both standardised with the current statistics. Advances step(). Writes
  /// each task's mean loss to `taskLosses` (one per task) and returns the
  /// total loss. Fails, changing nothing, on bad shapes, ids or labels.
  Result<float> trainBatch(int64_t rows, std::span<const float *const> inputs,
                           std::span<const float *const> targets, std::span<float> taskLosses);

  /// The standardisation statistics per input and per task slot (unset: the
  /// slot is not standardised), for checkpoints; fit() refits them.
  const std::vector<std::optional<Standardizer>> &inputStandardizers() const;
  const std::vector<std::optional<Standardizer>> &targetStandardizers() const;
  /// Installs saved statistics (a resumed run, or evaluation without a fit).
  /// Fails when the counts of slots or features do not match the model.
  Status setStandardizers(std::vector<std::optional<Standardizer>> inputs,
                          std::vector<std::optional<Standardizer>> targets);

  /// Per task: the names of its classes in the training data of the last
  /// fit (Dataset::classNames), or from a checkpoint; empty before either.
  const std::vector<std::vector<std::string>> &classNames() const;
  void setClassNames(std::vector<std::vector<std::string>> names);
  /// Per input: the vocabulary of an 'as category' input in the training
  /// data of the last fit (Dataset::categories), or from a checkpoint.
  const std::vector<Categories> &categories() const;
  void setCategories(std::vector<Categories> categories);
  /// What create() loaded from options.initFrom; empty without one.
  const std::optional<InitReport> &initReport() const;
  /// The epochs a resumed checkpoint had trained (options.resumeFrom); 0 otherwise.
  int64_t resumedEpochs() const;

  std::span<float> params();
  std::span<float> state();
  std::span<const float> params() const;
  std::span<const float> state() const;
  /// Optimizer steps taken; the next step passes step() + 1 to the model.
  int64_t step() const;
  void setStep(int64_t step);
  const mtl_model &model() const;
  const TrainOptions &options() const;
  /// The per-task weights handed to every step (the model's, or overrides).
  std::span<const float> taskWeights() const;
  /// The balancing method's state that a resume needs (DWA's loss history,
  /// GradNorm's weights), and restoring it; false when it does not fit.
  std::vector<double> balanceState() const;
  bool setBalanceState(const std::vector<double> &state);
  /// The schedule's state that a resume needs (plateau's factor, best value
  /// and epochs since), and restoring it; false when it does not fit.
  std::vector<double> scheduleState() const;
  bool setScheduleState(const std::vector<double> &state);

  /// The position of the last (or current) fit: updated after every epoch.
  const RunState &runState() const;
  /// The epochs that the last fit() completed before it failed: what a
  /// caller can still show of a run that a diverging loss stopped. Empty
  /// after a fit that succeeded, whose TrainResult::epochs has them.
  const std::vector<EpochRecord> &fitEpochs() const;
  /// After a fit that failed at a step: true when that step's update left
  /// parameters that are not finite, false when the trainer still holds the
  /// last good step (parameters, optimizer state and step).
  bool broken() const;
  /// Starts the optimizer afresh, as create() does: its state as
  /// initialised, step() 0, and broken() false. For a caller that has just
  /// replaced the parameters a broken step left (the C library's load).
  void restartOptimizer();
  /// Makes the next fit() continue after `state.epoch` with this early-stopping
  /// state and keep the current standardisation statistics instead of refitting
  /// them; fit() then fails if the data's rows or standardised slots differ.
  void resumeAt(const RunState &state);

  struct Impl;

private:
  explicit Trainer(std::unique_ptr<Impl> impl);
  /// Both fits: `noValidation` says how to get validation data when a
  /// method needs it and there is none.
  Result<TrainResult> fitRows(const Dataset &train, std::span<const int64_t> trainRows,
                              DataRows validation, DataRows test, const std::string &noValidation);
  std::unique_ptr<Impl> impl;
};

/// The canonical text of a balancing method as TrainOptions::balance takes
/// it ("cagrad(0.4)" -> "cagrad(c = 0.4)"); fails naming what is wrong and the
/// methods there are.
Result<std::string> canonicalBalance(std::string_view text);
/// The canonical text of a sampling as TrainOptions::sampling takes it
/// ("temperature(t = 2)" -> "temperature(2)"); fails naming the forms there are.
Result<std::string> canonicalSampling(std::string_view text);
/// Whether the method `text` names combines the tasks' gradients (and so
/// needs a model with task_grad_step); false for text that names no method.
bool balanceCombinesGradients(std::string_view text);
/// Whether the method `text` names adds parameters to the loss (uncertainty's
/// log-variances): a model trains with it exactly when compiled with it.
bool balanceAddsParameters(std::string_view text);

/// The Rng stream that shuffles the training rows in `epoch` (1-based). Each
/// epoch shuffles the training rows, in ascending order, with a Fisher–Yates
/// pass (for i from n-1 down to 1, swap i with below(i + 1)) of
/// Rng(seed, shuffleStream(epoch)), so an epoch's order depends only on the
/// seed and the epoch number, and a resumed run repeats it.
uint64_t shuffleStream(int64_t epoch);

/// Shuffles `rows` in place as described above; a run that trains on
/// several data sets shuffles pass `pass` of data set `source` with the
/// stream shuffleStream(epoch) ^ (source << 48) ^ (pass << 40) instead.
void shuffleRows(std::span<int64_t> rows, uint64_t seed, int64_t epoch, int64_t source = 0,
                 int64_t pass = 0);

} // namespace mtlrt
