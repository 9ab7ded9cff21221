// Program.h: the command line of a compiled model (train, eval, predict, info), shared by mtlc and
// built programs.
//
// `mtlc train FILE` compiles with the JIT and then runs exactly the code a
// program built by `mtlc build` runs as `NAME train`: the options, the
// output, the data loading and the numbers are the same, because both read
// the model's run configuration from its descriptor and drive it through
// this file's functions.
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Dataset.h"
#include "mtlrt/Result.h"
#include "mtlrt/RunConfig.h"

#include <CLI/CLI.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mtlrt {

class CodeSwap;

/// The options of `train`.
struct TrainFlags {
  std::optional<int64_t> epochs, batch;
  std::optional<double> lr;
  std::optional<uint64_t> seed;
  int threads = 0; ///< 0 (--threads auto): 2, or 1 where the first steps run faster on one
  bool noShuffle = false;
  bool noFtz = false;            ///< keep denormal floats (TrainOptions::flushDenormals off)
  std::string balance;           ///< empty: the model's (TrainOptions::balance)
  bool gradStats = false;        ///< TrainOptions::gradStats
  std::vector<std::string> data; ///< NAME=PATH
  std::string log;
  int64_t logEvery = 0;
  bool quiet = false;
  std::string runDir, resume, initFrom;
  bool noSave = false, saveInit = false;
  bool overwrite = false; ///< --run-dir may replace the run it holds (checkRunDir)
  bool report = false;    ///< write report.html into the run folder at the end (HtmlReport.h)
  std::vector<std::string> initMap, freeze; ///< TrainOptions::initMap, freeze
  std::optional<int64_t> unfreezeAfter;     ///< TrainOptions::unfreezeAfter
  std::vector<std::string> lrScales;        ///< GROUP=SCALE
  std::vector<std::string> weights;         ///< TASK=WEIGHT (TrainOptions::taskWeights)
  std::string schedule;                     ///< empty: the model's
  std::string sampling;                     ///< empty: the model's
  std::optional<double> clipNorm;           ///< TrainOptions::clipNorm
};

/// The settings of a run: the model's (`config.train`), then the flags'
/// overrides. Fails on a malformed --weight or --lr-scale item.
Result<TrainOptions> trainOptions(const RunConfig &config, const TrainFlags &flags);
/// Adds the options of `train` to `cmd`, stored in `flags`.
void addTrainFlags(CLI::App *cmd, TrainFlags &flags);

/// Adds `--data NAME=PATH` (repeatable) to `cmd`, stored in `data`.
void addDataFlag(CLI::App *cmd, std::vector<std::string> &data);

/// Adds `--threads N` to `cmd`, stored in `threads`.
void addThreadsFlag(CLI::App *cmd, int &threads);

/// A model's run configuration and the files that `--data NAME=PATH` items
/// put in place of its data sets' (NAME.images and NAME.labels for IDX data).
struct RunData {
  RunConfig config;
  std::map<std::string, std::string> paths;
};

/// The RunData of `model`. Fails on a model without a run configuration, a
/// malformed item, or a name that is not one of the model's data sets (the
/// message lists them).
Result<RunData> runData(const mtl_model &model, const std::vector<std::string> &dataFlags);
/// The same for a run configuration.
Result<RunData> runData(RunConfig config, const std::vector<std::string> &dataFlags);

/// What a training run reads: the configuration with the flags' files in
/// place, and the training, validation and test sets (absent ones empty).
struct TrainingData {
  RunData run;
  std::array<std::optional<Dataset>, 3> sets;
};

/// Loads and checks the data of a run of `config` (the model `modelName`)
/// with the flags' `--data` items, having checked that --run-dir may take
/// the run (checkRunDir). `mtlc train` calls it on a thread of its own while
/// it compiles, and cancels the compile when it fails. The loader's notes
/// go to stderr unless `notes` is false.
Result<TrainingData> loadTrainingData(RunConfig config, const std::string &modelName,
                                      const TrainFlags &flags, bool notes = true);

/// Trains `model` as its run configuration and the flags say, printing what
/// `mtlc train` prints; returns the exit status (0, or 1 after an error
/// message on stderr).
int runTrain(const mtl_model &model, const TrainFlags &flags);
/// The same on data already loaded by loadTrainingData; with `codeSwap`,
/// the trainer takes the second build of `model` it offers
/// (TrainOptions::codeSwap).
int runTrain(const mtl_model &model, const TrainFlags &flags, TrainingData data,
             std::shared_ptr<CodeSwap> codeSwap = nullptr);

/// Puts the files of `paths` (as RunData holds them) in place of `spec`'s.
void applyPaths(DataSpec &spec, const std::map<std::string, std::string> &paths);

/// loadDataSets with `paths` replacing the files, printing the loader's
/// notes to stderr (unless `notes` is false).
Result<Dataset> loadConfigData(const RunConfig &config, std::span<const int> indices,
                               const std::map<std::string, std::string> &paths, bool notes = true);

/// When argv[1] is neither an option nor one of `app`'s subcommands, prints
/// "error: unknown command 'X'; the commands are: ..." to stderr and returns
/// true (the caller exits with status 2), as CLI11 alone would only say that
/// a subcommand is required.
bool rejectUnknownCommand(const CLI::App &app, int argc, char **argv);

/// The main function of a program built by `mtlc build`: subcommands train,
/// eval, predict and info (see docs/programs.md).
int programMain(const mtl_model *model, int argc, char **argv);

} // namespace mtlrt
