// Predictor.h: a trained model's predictions on raw rows, as `NAME predict` and the C library give
// them.
//
// A Predictor owns a copy of the parameters and the standardisation
// statistics of a run (from a checkpoint or a Trainer) and a workspace sized
// for its largest batch. predict() standardises the raw inputs as training
// did, runs the eval step, and turns each head's outputs into what a user
// wants: probabilities for classify (softmax), binary and multilabel
// (sigmoid), and regression values on the data's original scale (targets
// trained standardised are mapped back).
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Dataset.h"
#include "mtlrt/Result.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mtlrt {

struct Checkpoint;
class ThreadPool;
class Trainer;

class Predictor {
public:
  /// A predictor for `model` with freshly initialised parameters (seed 0) and
  /// no standardisation; load() or copyFrom() a run before predicting.
  /// `threads` >= 1 (results do not depend on it). The model must outlive it.
  static Result<Predictor> create(const mtl_model *model, int threads = 1);
  /// The same on `pool`, shared with whoever else holds it (Trainer::create).
  static Result<Predictor> create(const mtl_model *model, std::shared_ptr<ThreadPool> pool);

  Predictor(Predictor &&) noexcept;
  Predictor &operator=(Predictor &&) noexcept;
  ~Predictor();

  /// Takes the parameters and standardisation statistics of a checkpoint,
  /// after checking that its parameter names and shapes match the model
  /// (the message lists every difference). Changes nothing on failure.
  Status load(const Checkpoint &checkpoint);
  /// Takes the current parameters and statistics of a Trainer of the same model.
  Status copyFrom(const Trainer &trainer);

  /// Predicts `rows` rows. `inputs[i]` holds rows x elements raw values of
  /// input i (f32 values; for i32 inputs, ids stored as floats), row-major.
  /// `outputs[t]` receives rows x width values of task t: class
  /// probabilities (classify), the probability of 1 (binary), per-label
  /// probabilities (multilabel) or values (regress). Fails on a non-integer
  /// or out-of-range id and on rows < 0.
  Status predict(int64_t rows, std::span<const float *const> inputs,
                 std::span<float *const> outputs);

  const mtl_model &model() const;
  /// The `scale(x)` task `task`'s targets were read with (by the first
  /// training data set that binds it; 1 where none scales them): predict()
  /// divides regression values by it, back to the data's scale.
  double targetScale(int task) const;
  /// Per task: its class names as the checkpoint or trainer recorded them
  /// (Trainer::classNames); empty where none are known.
  const std::vector<std::vector<std::string>> &classNames() const;
  /// Per input: its category vocabulary (Trainer::categories).
  const std::vector<Categories> &categories() const;

  struct Impl;

private:
  /// On `pool` when there is one, else on a pool of its own of `threads`.
  static Result<Predictor> create(const mtl_model *model, int threads,
                                  std::shared_ptr<ThreadPool> pool);
  explicit Predictor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

/// The class that one row of a classify or binary task's predict() outputs
/// chooses: the first most probable class (classify), 1 when the
/// probability of 1 is at least 0.5 (binary). -1 when an output is not
/// finite (inputs far outside the training data's overflow the model): no
/// class is chosen from values that are not numbers.
int64_t predictedClass(const mtl_task_desc &task, const float *outputs);
/// Whether all `n` values are finite.
bool allFinite(const float *values, int64_t n);

} // namespace mtlrt
