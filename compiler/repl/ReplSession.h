// ReplSession.h: the state of one `mtlc repl` session: the model, its compilation, runs.
#pragma once

#include "driver/Pipeline.h"

#include "mtlrt/Dataset.h"
#include "mtlrt/Trainer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mtl::driver {

/// Settings the user changed with `:set`; unset values come from the model.
struct ReplOverrides {
  std::optional<double> lr;
  std::optional<std::string> balance;  ///< canonical (mtlrt::canonicalBalance)
  std::optional<std::string> sampling; ///< canonical (mtlrt::canonicalSampling)
  std::optional<int64_t> batch, epochs;
  std::optional<uint64_t> seed;
  std::vector<std::pair<std::string, double>> weights; ///< by task name
};

/// One `:train` of the session: its settings and what it reached.
struct ReplRun {
  int number = 0;
  double lr = 0;
  int64_t batch = 0;
  int64_t epochs = 0; ///< the whole epochs it trained: fewer than asked when stopped
  uint64_t seed = 0;
  std::vector<std::pair<std::string, double>> weights; ///< every task's weight
  bool continued = false;                              ///< started from earlier parameters
  /// The last epoch's, if validated and the run did not go on past it.
  std::vector<mtlrt::TaskScores> validation;
  std::string balance; ///< the method
  /// The model's source hash: items typed or reloaded between two runs
  /// (another optimizer, a new head) change it.
  std::string source;
  mtlrt::BalanceStats balancing; ///< what it did in the last epoch
  /// Per epoch of the run: each mix gate's mean weight on its experts.
  std::vector<std::vector<mtlrt::GateMeans>> gates;
  double usPerStep = 0;
  int64_t interruptedAt = 0; ///< the step Ctrl-C stopped the run after; 0: not interrupted
  int64_t failedAfter = 0;   ///< the last good step of a run that failed; 0: it did not fail
};

/// A loaded model and everything the REPL's commands act on. Every method
/// prints its result (or its errors, as diagnostics) to standard output and
/// returns false on failure; a failure never changes the model.
class ReplSession {
public:
  ReplSession(bool color, std::string targetCpu)
      : color_(color), targetCpu_(std::move(targetCpu)) {}

  /// Reads and compiles FILE (its model `modelName`, or its only one): a new
  /// model, with fresh parameters and settings. `reload` keeps them (the
  /// parameters when the recompiled model lays them out the same way).
  bool load(const std::string &path, const std::string &modelName = "", bool reload = false);
  /// Loads the current file again from disk, dropping statements typed since.
  bool reload();
  /// Model items typed at the prompt: each replaces the item of the same kind
  /// and name (balance, optimizer, regularize, train: of the same kind), or is
  /// added. Errors are located in `text` as `<repl>:LINE:COL`.
  bool addItems(const std::string &text);

  /// Trains `epochs` (default: the model's or :set's) from the current
  /// parameters, or from fresh ones with `reset`. On a terminal it draws a
  /// progress bar; it prints a compact table of the epochs
  /// (mtlrt::compactTableShows). Ctrl-C (replInterrupted()) stops it after
  /// the current step, keeping every step taken.
  bool train(std::optional<int64_t> epochs, bool reset);
  /// Validation losses and metrics of the current parameters.
  bool eval();
  /// Forgets the trained parameters (the next :train initialises them).
  bool resetParams();
  bool setWeight(const std::string &task, double weight);
  bool setLr(double lr);
  bool setBalance(const std::string &method);
  bool setBatch(int64_t batch);
  bool setEpochs(int64_t epochs);
  bool setSeed(uint64_t seed);
  /// How batches draw from several training data sets (docs/per-task-data.md).
  bool setSampling(const std::string &sampling);

  /// `:save PATH`: the current parameters, optimizer state, step, statistics
  /// and settings as a checkpoint (docs/checkpoints.md), written atomically.
  bool save(const std::string &path);
  /// `:load PATH.safetensors`: the checkpoint's parameters and statistics
  /// (and its optimizer state and step when it has all of them) become the
  /// current ones. A checkpoint that does not fit the model changes nothing.
  bool loadCheckpoint(const std::string &path);
  /// `:predict FIRST-LAST`: a table of each task's prediction of the current
  /// parameters beside the label, for rows FIRST to LAST (1-based) of the
  /// training data as loaded.
  bool predict(int64_t first, int64_t last);

  /// `:show WHAT`: a stage's dump, shapes, params or tasks.
  bool show(const std::string &what);
  /// `:show balance`: the method, and each task's weight, gradient norm and
  /// conflicts in the last run's last epoch.
  void printBalance(const sema::Model &model) const;
  /// `:show gates`: the last run's mean gate weights per gate, per epoch
  /// (the epochs :train's table shows).
  void printGates() const;
  void printTime() const;
  void printRuns() const;
  bool compare(int a, int b) const;
  /// `:plot [TASK] [--svg FILE]`: each task's (or TASK's) training loss per
  /// epoch as a text chart, or with `svg` as one SVG chart written there.
  bool plot(const std::string &task, const std::string &svg) const;

  bool loaded() const { return c_ != nullptr; }
  /// Task, shared and block names of the current model, for completion.
  std::vector<std::string> names() const;
  /// `:show data`: the loaded data sets, their rows, and how often they were read.
  void printData() const;
  /// Task names of the current model, for completion.
  std::vector<std::string> taskNames() const;

private:
  /// Compiles `text` and makes it the session's model; a failure changes
  /// nothing. Trained parameters are kept when the new model lays them out
  /// the same way, unless `newModel` (a :load of a file).
  bool compile(const std::string &text, const std::string *replInput, int replLine,
               bool newModel = false);
  void printDiagnostics(Compilation &c, const std::string *replInput, int replLine,
                        int replLines) const;
  bool needLoaded() const;
  /// Loads the current model's data, unless the data read for the model
  /// before it is unchanged (dataKey_); on a failure the session keeps its data.
  bool loadData();
  /// Reads the data again, numbered by the parameters' class and category
  /// vocabularies (classNames_, categories_: a :load checkpoint's) where the
  /// data numbers them otherwise; false, saying why, when it cannot.
  bool dataFollowsParams();
  mtlrt::TrainOptions trainOptions() const;
  /// A Trainer of the compiled model holding the current parameters, state and statistics.
  mtlrt::Result<mtlrt::Trainer> currentTrainer() const;
  double weightOf(const std::string &task) const;
  /// The trainer's parameters, optimizer state, step, statistics and run
  /// position become the session's; `epochs` more epochs were trained.
  void takeFrom(const mtlrt::Trainer &trainer, int64_t epochs);
  /// The record of a run of `trainer` with options `to` that completed
  /// `epochs` (numbered next); their training losses join the history :plot draws.
  ReplRun newRun(const mtlrt::TrainOptions &to, bool continued, const mtlrt::Trainer &trainer,
                 const std::vector<mtlrt::EpochRecord> &epochs);
  /// Forgets trained parameters, quietly (resetParams says so).
  void forgetParams();
  /// Fails, saying so, when `path` is a file the session reads (the model,
  /// its imports, its data): `what` would replace it.
  bool writesNoInput(const std::string &path, const char *what) const;

  bool color_;
  std::string targetCpu_;
  std::string path_, modelName_;
  std::string text_; ///< the main file's text, with the statements typed since applied
  /// Machine code of every function compiled in the session, by content
  /// (declared before c_, whose descriptor lives in it).
  std::unique_ptr<backend::FunctionCache> cache_;
  backend::FunctionCacheReport cacheReport_; ///< what the last compilation reused
  std::unique_ptr<Compilation> c_;
  std::optional<mtlrt::Dataset> trainData_, validationData_;
  std::string dataKey_;                ///< what the loaded data was read from
  int dataReads_ = 0, dataReuses_ = 0; ///< reads this session; compilations since that reused it
  ReplOverrides overrides_;
  std::vector<std::pair<std::string, double>> compileTimes_;
  double compileMs_ = 0;
  // The current parameters between runs (empty: not trained since a reset).
  std::vector<float> params_, state_;
  int64_t step_ = 0;
  std::vector<std::optional<mtlrt::Standardizer>> inputStd_, targetStd_;
  std::vector<std::vector<std::string>> classNames_; ///< per task, from the data or a checkpoint
  std::vector<mtlrt::Categories> categories_;        ///< per input, from the data or a checkpoint
  mtlrt::RunState runState_;                         ///< of the last run
  std::vector<double> balanceState_; ///< the balancing method's (Trainer::balanceState)
  int64_t epochs_ = 0;               ///< epochs trained since the last reset
  /// Each task's mean training loss per epoch since the parameters were reset.
  std::vector<std::pair<std::string, std::vector<double>>> lossHistory_;
  std::vector<ReplRun> runs_;
  /// The validation fraction and seed of the run that trained the current
  /// parameters: :eval scores the rows it held out.
  std::optional<std::pair<double, uint64_t>> split_;
};

} // namespace mtl::driver
