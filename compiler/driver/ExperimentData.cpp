// ExperimentData.cpp: an experiment's data, loaded beside its compiles.
#include "driver/ExperimentData.h"
#include "driver/Front.h"

#include <fmt/format.h>

namespace mtl::driver {

ExperimentData::ExperimentData(std::vector<Read> reads, std::string modelName,
                               mtlrt::TrainFlags flags, bool verbose)
    : reads_(std::move(reads)), modelName_(std::move(modelName)), flags_(std::move(flags)),
      verbose_(verbose), thread_([this] { load(); }) {}

ExperimentData::~ExperimentData() { wait(); }

std::optional<std::string> ExperimentData::wait() {
  if (thread_.joinable())
    thread_.join();
  return error_;
}

mtlrt::TrainingData ExperimentData::take(const std::string &name) {
  size_t k = 0;
  while (reads_[k].first != name)
    ++k;
  return std::move(loaded_[k]);
}

void ExperimentData::load() {
  PipelineOptions timing; // -v's line for the data stage
  timing.verbose = verbose_;
  StageTimer t(timing, "data"); // reading, checking and numbering every model's data files
  for (Read &read : reads_) {
    auto data =
        mtlrt::loadTrainingData(std::move(read.second), modelName_, flags_, loaded_.empty());
    if (!data) {
      error_ = data.error();
      cancel_.cancel();
      return;
    }
    size_t shared = 0;
    if (!loaded_.empty())
      for (size_t s = 0; s < data->sets.size(); ++s)
        if (data->sets[s] && loaded_[0].sets[s])
          shared += mtlrt::shareEqualInputs(*data->sets[s], *loaded_[0].sets[s]);
    if (verbose_ && shared > 0)
      fmt::print(stderr,
                 "mtlc: {} shares the multi-task model's input values ({:.1f} {} held once)\n",
                 read.first, double(shared) / (shared < 1000000 ? 1e3 : 1e6),
                 shared < 1000000 ? "kB" : "MB");
    loaded_.push_back(std::move(*data));
  }
}

} // namespace mtl::driver
