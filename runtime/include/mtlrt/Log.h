// Log.h: the JSON-lines training log, one object per line, for programs that follow a run.
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Result.h"
#include "mtlrt/Trainer.h"

#include <cstdio>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>

namespace mtlrt {

/// Writes one JSON object per line and flushes each, so a reader (or a run
/// that crashes) always sees whole records. Record types, in order:
///   {"type":"start","model":..,"seed":..,"epochs":..,"batch":..,"lr":..,"balance":..,
///    "threads":..,"train_rows":..,"val_rows":..,"tasks":[{"name","kind","weight","auxiliary"}]}
///   {"type":"step","epoch":e,"step":s,"loss":total,"tasks":{"T":{"loss":..,"labelled":..}}}
///   ("labelled": rows, one with only some of its target values counting the fraction it has)
///   {"type":"epoch","epoch":e,"steps":s,"seconds":..,"loss":train total,
///    "penalty":its penalty part,"tasks":{"T":{"loss":..,"labelled":..,METRIC:..}},
///    "val":{"loss":..,"penalty":..,"rows":..,"tasks":{"T":{"loss":..,"labelled":..,METRIC:..}}},
///    "balance":{"weights":{"T":..},"grad_norms":{"T":..},"cosines":{"A,B":..},
///               "conflicts":{"A,B":..}},
///    "gates":{"GATE":{"task":"T" or null,"experts":{"E":..}}}}
///      (grad_norms on: see BalanceStats; "gates" only for a model with mix
///      gates: each gate's mean weight per expert over the epoch's training
///      rows labelled for its task, or every row when several tasks read it)
///   {"type":"error","epoch":e,"step":s,"message":..}   (a step was not finite)
///   {"type":"end","epochs":..,"steps":..,"seconds":..,"best_epoch":..,"kept_epoch":..,
///    "stopped_early":..,"test":{"loss":..,"penalty":..,"rows":..,"tasks":{..}}}
/// "val" and "test" appear only when there was such data; NaN is written as null.
/// A float as the double of its shortest decimal form (0.01f gives 0.01, not
/// 0.009999999776482582), as the log writes learning rates and losses.
double shortestDecimal(float v);
/// An EvalReport as the log writes it: {"loss","penalty","rows","tasks":{..}}.
nlohmann::ordered_json reportJson(const EvalReport &report);

class RunLog {
public:
  /// A log that writes nothing.
  RunLog() = default;
  /// Creates (or truncates) the file at `path`; with `append` (a resumed run),
  /// adds to it instead, so the log reads as one run with a second "start".
  /// Appending after `epoch`, records of later epochs are dropped first: a run
  /// killed between writing an epoch's record and its checkpoint wrote one
  /// that the resumed run writes again.
  static Result<RunLog> open(const std::string &path, bool append = false, int64_t epoch = -1);
  /// Whether a new log may be written at `path`: a log replaces only a log
  /// (a file whose first line is a run's start record) or an empty file,
  /// never a checkpoint, a model or data; fails saying so otherwise. What
  /// is not a regular file (a device, a FIFO) is written to, never replaced.
  static Status replaceable(const std::string &path);

  void start(const mtl_model &model, const TrainOptions &options, int64_t trainRows,
             int64_t valRows);
  /// A step record; `balance`, when given, is that step's alone (its
  /// weights, and its gradient norms and cosines when the step split them).
  void step(const mtl_model &model, int64_t epoch, int64_t step, float loss,
            std::span<const float> taskLosses, std::span<const float> taskCounts,
            const BalanceStats *balance = nullptr);
  void epoch(const EpochRecord &record);
  void failure(int64_t epoch, int64_t step, const std::string &message);
  void end(const TrainResult &result);
  /// "PATH: cannot write the log: REASON" once a record could not be
  /// written (a full disk), else empty; later records are not written.
  const std::string &problem() const { return problem_; }

private:
  struct Close {
    void operator()(std::FILE *f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Close> file;
  std::string path_, problem_;
  void writeLine(const nlohmann::ordered_json &record);
};

} // namespace mtlrt
