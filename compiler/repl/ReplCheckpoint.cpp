// ReplCheckpoint.cpp: the REPL's :save PATH and :load PATH.safetensors.
//
// A checkpoint is what `mtlc train --checkpoint-dir` writes (docs/checkpoints.md),
// captured from a Trainer that holds the session's current parameters,
// optimizer state, step and statistics. Loading takes the parameters and the
// standardisation statistics (Restore::Trained, which checks every name and
// shape and changes nothing on a mismatch) and, when the checkpoint has every
// optimizer-state tensor of the model, the optimizer state and step too, so
// the next :train continues from where the saved run stopped. Unlike a
// resume, the settings need not match: the session's own settings apply.
#include "driver/DataSpecs.h"
#include "repl/ReplSession.h"

#include "mtlrt/AtomicFile.h"
#include "mtlrt/Checkpoint.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

namespace mtl::driver {

mtlrt::Result<mtlrt::Trainer> ReplSession::currentTrainer() const {
  auto trainer = mtlrt::Trainer::create(c_->compiled, trainOptions());
  if (!trainer)
    return trainer.takeError();
  if (params_.empty()) {
    // Untrained: the statistics, names and counts of the run :train would start.
    if (trainData_)
      if (mtlrt::Status s =
              trainer->prepare(*trainData_, validationData_ ? &*validationData_ : nullptr);
          !s)
        return s.takeError();
    return trainer;
  }
  std::copy(params_.begin(), params_.end(), trainer->params().begin());
  std::copy(state_.begin(), state_.end(), trainer->state().begin());
  trainer->setStep(step_);
  if (mtlrt::Status s = trainer->setStandardizers(inputStd_, targetStd_); !s)
    return s.takeError();
  trainer->setClassNames(classNames_);
  trainer->setCategories(categories_);
  if (!balanceState_.empty())
    (void)trainer->setBalanceState(balanceState_);
  mtlrt::RunState run = runState_;
  run.epoch = epochs_;
  run.bestEpoch = std::min(run.bestEpoch, run.epoch);
  trainer->resumeAt(run);
  return trainer;
}

bool ReplSession::writesNoInput(const std::string &path, const char *what) const {
  mtlrt::Status s = mtlrt::distinctOutput(path, filesRead(*c_), what);
  if (!s)
    fmt::print("error: {}\n", s.error());
  return static_cast<bool>(s);
}

bool ReplSession::save(const std::string &path) {
  if (!needLoaded())
    return false;
  if (path.empty()) {
    fmt::print("error: :save needs the name of the checkpoint file to write\n");
    return false;
  }
  if (!writesNoInput(path, ":save"))
    return false;
  // A checkpoint replaces a checkpoint of the same model, never another
  // model's (another run's folder) or another kind of file.
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) {
    auto existing = mtlrt::readCheckpoint(path);
    if (!existing) {
      fmt::print("error: :save {}: the file exists and is not a checkpoint; choose another name\n",
                 path);
      return false;
    }
    const std::string *model = existing->meta("model");
    if (model && *model != c_->model->name) {
      fmt::print("error: :save {}: the file is a checkpoint of model '{}', not '{}'; choose "
                 "another name\n",
                 path, *model, c_->model->name);
      return false;
    }
  }
  auto trainer = currentTrainer();
  if (!trainer) {
    fmt::print("error: {}\n", trainer.error());
    return false;
  }
  auto checkpoint = mtlrt::captureCheckpoint(*trainer);
  if (!checkpoint) {
    fmt::print("error: {}\n", checkpoint.error());
    return false;
  }
  if (mtlrt::Status s = mtlrt::writeCheckpoint(path, *checkpoint); !s) {
    fmt::print("error: {}\n", s.error());
    return false;
  }
  if (params_.empty())
    fmt::print("saved the initial parameters of model '{}' (seed {}, not trained) to '{}'\n",
               c_->model->name, trainer->options().seed, path);
  else
    fmt::print("saved model '{}' at step {} to '{}'\n", c_->model->name, step_, path);
  return true;
}

bool ReplSession::loadCheckpoint(const std::string &path) {
  if (!needLoaded())
    return false;
  auto checkpoint = mtlrt::readCheckpoint(path);
  if (!checkpoint) {
    fmt::print("error: {}\n", checkpoint.error());
    return false;
  }
  auto trainer = mtlrt::Trainer::create(c_->compiled, trainOptions());
  if (!trainer) {
    fmt::print("error: {}\n", trainer.error());
    return false;
  }
  if (mtlrt::Status s = mtlrt::applyCheckpoint(*checkpoint, *trainer, mtlrt::Restore::Trained);
      !s) {
    fmt::print("error: {}\n", s.error());
    return false;
  }
  // The optimizer state and step, when the checkpoint has all of it.
  const mtl_model &m = *c_->compiled;
  bool withState = true;
  for (int i = 0; i < m.num_state && withState; ++i) {
    const mtlrt::CheckpointTensor *t = checkpoint->find(m.state[i].name);
    withState = t && t->dtype == mtlrt::Dtype::F32 && t->elements() == m.state[i].size;
    if (withState) { // no training writes these, as a parameter that is not finite
      if (std::string bad = t->nonFinite(); !bad.empty()) {
        fmt::print("error: {}: not finite: {}\n", path, bad);
        return false;
      }
      if (std::string bad = t->negativeSecondMoment(); !bad.empty()) {
        fmt::print("error: {}: {}\n", path, bad);
        return false;
      }
    }
  }
  int64_t step = 0;
  // Moments without their step would be bias-corrected as if at step 1.
  const std::string *stepText = checkpoint->meta("step");
  withState = withState && stepText;
  if (withState) {
    auto [end, ec] = std::from_chars(stepText->data(), stepText->data() + stepText->size(), step);
    withState = ec == std::errc() && end == stepText->data() + stepText->size() && step >= 0;
  }
  if (withState)
    for (int i = 0; i < m.num_state; ++i)
      if (m.state[i].size > 0)
        std::memcpy(trainer->state().data() + m.state[i].offset,
                    checkpoint->find(m.state[i].name)->data.data(), size_t(m.state[i].size) * 4);
  auto params = trainer->params();
  auto state = trainer->state();
  params_.assign(params.begin(), params.end());
  state_.assign(state.begin(), state.end());
  step_ = withState ? step : 0;
  inputStd_ = trainer->inputStandardizers();
  targetStd_ = trainer->targetStandardizers();
  classNames_ = trainer->classNames();
  categories_ = trainer->categories();
  runState_ = {};
  balanceState_.clear();
  epochs_ = 0;
  lossHistory_.clear();
  split_.reset();
  const std::string *model = checkpoint->meta("model");
  const bool statistics =
      std::any_of(inputStd_.begin(), inputStd_.end(), [](const auto &z) { return bool(z); }) ||
      std::any_of(targetStd_.begin(), targetStd_.end(), [](const auto &z) { return bool(z); });
  fmt::print("loaded '{}'{}: parameters{}{}\n", path,
             model ? fmt::format(" (model '{}')", *model) : "",
             statistics ? " and standardisation statistics" : "",
             withState ? fmt::format(", optimizer state at step {}", step_)
                       : "; the optimizer starts afresh");
  return true;
}

} // namespace mtl::driver
