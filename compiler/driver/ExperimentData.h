// ExperimentData.h: `mtlc experiment` loads every model's data on a thread of its own while the
// models compile, as `mtlc train` loads its data.
#pragma once

#include "driver/CompileCancel.h"

#include "mtlrt/Program.h"

#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace mtl::driver {

/// The data of an experiment's models, loaded in order on a thread of its
/// own from construction on: the first (the multi-task model's) prints the
/// loader's notes; a later one's inputs that equal the first's (the same
/// files read the same way, as a baseline's are) hold the first's arrays
/// instead of a copy (mtlrt::shareEqualInputs; `-v` says so). A failure
/// stops the loading and cancels the compiles handed to cancel().
class ExperimentData {
public:
  /// Each model's name in the experiment ("mtl", "stl:TASK") and its run configuration.
  using Read = std::pair<std::string, mtlrt::RunConfig>;
  ExperimentData(std::vector<Read> reads, std::string modelName, mtlrt::TrainFlags flags,
                 bool verbose);
  ~ExperimentData(); ///< waits for the loading
  ExperimentData(const ExperimentData &) = delete;
  ExperimentData &operator=(const ExperimentData &) = delete;

  /// What the compiles register their caches with (PipelineOptions::cacheCreated).
  CompileCancel &cancel() { return cancel_; }
  /// Waits for the loading; the first failure's message, if one failed.
  std::optional<std::string> wait();
  /// After wait() found no failure: the data of the model `name` names, moved out.
  mtlrt::TrainingData take(const std::string &name);

private:
  void load();

  std::vector<Read> reads_;
  std::string modelName_;
  mtlrt::TrainFlags flags_;
  bool verbose_;
  CompileCancel cancel_;
  std::vector<mtlrt::TrainingData> loaded_; ///< in the order of reads_
  std::optional<std::string> error_;
  std::thread thread_; ///< last: it starts once the rest exists
};

} // namespace mtl::driver
