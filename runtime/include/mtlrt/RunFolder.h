// RunFolder.h: the folder every training run writes: its configuration, log, checkpoints, summary.
//
// Like Lightning's and YOLO's run folders: `mtlc train` (and a built
// program's `train`) writes runs/<model>/<n>/ under the current folder unless
// told otherwise, so a run's results are never lost and never overwritten:
//   config.json        the model, its data files and every run setting
//   log.jsonl          the JSON-lines log (Log.h), unless --log puts it elsewhere
//   best.safetensors   the best epoch's checkpoint (with validation data)
//   last.safetensors   the last epoch's (or the last good step's)
//   summary.json       what the run kept and how it scored (writeRunSummary)
//   report.html        with --report (HtmlReport.h)
// A folder named with --run-dir that holds a run takes a new one only when
// told to replace it (checkRunDir).
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Result.h"
#include "mtlrt/RunConfig.h"
#include "mtlrt/Trainer.h"

#include <string>

namespace mtlrt {

/// Creates the run folder: `dir` itself when not empty (with its parents;
/// checkRunDir says first whether it may take a run), else <root>/<model>/<n>
/// for the n after the highest taken (claimed with mkdir, so runs that start
/// together get different folders). Returns its path.
Result<std::string> createRunFolder(const std::string &model, const std::string &dir,
                                    const std::string &root = "runs");

/// Whether `dir` (--run-dir) may take a new run without losing an earlier
/// one: it holds no run's checkpoint or summary, or `resume` names a
/// checkpoint in it (the run goes on there), or `overwrite` says to replace
/// its run. A run that ended before its first checkpoint left nothing to keep.
Status checkRunDir(const std::string &dir, const std::string &resume, bool overwrite);

/// Where a run resumed from `resume` without --run-dir goes on: the
/// checkpoint's folder when it is the last.safetensors a run wrote there (its
/// config.json is beside it), so the run's log, best checkpoint and summary
/// stay together; else empty (a new folder: a resume from best or init
/// parameters would replace the epochs after them).
std::string resumedRunFolder(const std::string &resume);

/// Whether `resume` is the last checkpoint of the run in `folder`.
bool continuesRun(const std::string &resume, const std::string &folder);

/// Whether two paths name the same file (which need not exist).
bool samePath(const std::string &a, const std::string &b);

/// Fails when `log` names a file that a run writes into `folder` other than
/// its log (its checkpoints, config.json, summary.json, report.html), which
/// would replace the log or be replaced by it.
Status logBesideRunFiles(const std::string &log, const std::string &folder);

/// The log of a run of `modelName` in `folder` without --log: log.jsonl
/// there, or, for a run continued in its own folder (`continuing`), the log
/// its earlier part wrote, which config.json names (its --log), so that one
/// log holds the whole run. That log must be where config.json says (an
/// absolute path; runs before 2026-12-04 recorded --log as written) and
/// begin with a start record of this model; else an error that says how to
/// go on.
Result<std::string> runLogPath(const std::string &folder, bool continuing,
                               const std::string &modelName);

/// A run's hold on its folder (a lock on the folder itself, released when the
/// process ends however it ends), so that two runs never write one folder.
class RunFolderLock {
public:
  /// Takes `folder`, or fails when another run holds it; then removes the
  /// temporary files a killed run's writes left there.
  static Result<RunFolderLock> take(const std::string &folder);
  RunFolderLock(RunFolderLock &&other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RunFolderLock &operator=(RunFolderLock &&) = delete;
  ~RunFolderLock();

private:
  explicit RunFolderLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// Removes from `dir` the files a run writes there (above), so that nothing
/// of the run --overwrite replaces is left beside the new one; other files
/// stay.
Status clearRunFolder(const std::string &dir);

/// Writes `folder`/config.json: the model's name, source hash and mtlc
/// version, the data files read (after --data), and the run's settings.
Status writeRunSettings(const std::string &folder, const mtl_model &model, const RunConfig &config,
                        const TrainOptions &options);

/// Writes `folder`/summary.json. A finished run:
///   {"model", "status": "finished" | "stopped_early" | "interrupted", "epochs", "steps",
///    "seconds", "monitor", "best_epoch", "kept_epoch",
///    "kept": {"epoch", "checkpoint", "train", "validation"},
///    "last": {"epoch", "checkpoint", "train", "validation"},
///    "test": with the kept parameters}
/// where each report is Log.h's reportJson and "validation" and "test"
/// appear only with such data. A failed run: {"model", "status": "failed",
/// "error", "checkpoint": the last good step's, when one was written}.
Status writeRunSummary(const std::string &folder, const mtl_model &model,
                       const TrainOptions &options, const Result<TrainResult> &result);

} // namespace mtlrt
