// Predictor.cpp: raw rows in, probabilities and values on the data's scale out.
#include "mtlrt/Predictor.h"

#include "mtlrt/Checkpoint.h"
#include "mtlrt/RunConfig.h"
#include "mtlrt/Trainer.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace mtlrt {

/// Rows per eval step. Fixed, so that a row's prediction never depends on
/// how a caller splits its rows into calls of the same size.
constexpr int64_t kPredictBatch = 256;

struct Predictor::Impl {
  Trainer trainer;
  /// Per task: the `scale(x)` its targets were read with, by the first
  /// training data set that binds it (1 where none scales them).
  std::vector<double> targetScales;
};

Result<Predictor> Predictor::create(const mtl_model *model, int threads) {
  return create(model, threads, nullptr);
}

Result<Predictor> Predictor::create(const mtl_model *model, std::shared_ptr<ThreadPool> pool) {
  return create(model, 1, std::move(pool));
}

Result<Predictor> Predictor::create(const mtl_model *model, int threads,
                                    std::shared_ptr<ThreadPool> pool) {
  TrainOptions options;
  options.batch = kPredictBatch;
  options.threads = threads;
  options.quiet = true;
  auto trainer = Trainer::create(model, options, std::move(pool));
  if (!trainer)
    return trainer.takeError();
  return Predictor(std::make_unique<Impl>(Impl{std::move(*trainer), slotScales(*model, true)}));
}

Predictor::Predictor(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Predictor::Predictor(Predictor &&) noexcept = default;
Predictor &Predictor::operator=(Predictor &&) noexcept = default;
Predictor::~Predictor() = default;

const mtl_model &Predictor::model() const { return impl->trainer.model(); }
double Predictor::targetScale(int task) const { return impl->targetScales.at(size_t(task)); }
const std::vector<std::vector<std::string>> &Predictor::classNames() const {
  return impl->trainer.classNames();
}
const std::vector<Categories> &Predictor::categories() const { return impl->trainer.categories(); }

Status Predictor::load(const Checkpoint &checkpoint) {
  return applyCheckpoint(checkpoint, impl->trainer, Restore::Trained);
}

Status Predictor::copyFrom(const Trainer &trainer) {
  if (trainer.model().params_size != model().params_size)
    return fail("predictor: the trainer runs a different model");
  if (Status s = impl->trainer.setStandardizers(trainer.inputStandardizers(),
                                                trainer.targetStandardizers());
      !s)
    return s;
  impl->trainer.setClassNames(trainer.classNames());
  impl->trainer.setCategories(trainer.categories());
  std::span<const float> from = trainer.params();
  std::copy(from.begin(), from.end(), impl->trainer.params().begin());
  return Ok{};
}

Status Predictor::predict(int64_t rows, std::span<const float *const> inputs,
                          std::span<float *const> outputs) {
  if (Status s = impl->trainer.forward(rows, inputs, outputs); !s)
    return s;
  const mtl_model &m = model();
  for (int32_t t = 0; t < m.num_tasks; ++t) {
    const mtl_task_desc &task = m.tasks[t];
    float *out = outputs[size_t(t)];
    const int64_t w = task.width;
    for (int64_t r = 0; r < rows; ++r) {
      float *row = out + r * w;
      if (task.kind == MTL_CLASSIFY) {
        // Softmax in double, shifted by the largest logit for range.
        double top = row[0], sum = 0;
        for (int64_t k = 1; k < w; ++k)
          top = std::max(top, double(row[k]));
        for (int64_t k = 0; k < w; ++k)
          sum += std::exp(double(row[k]) - top);
        for (int64_t k = 0; k < w; ++k)
          row[k] = float(std::exp(double(row[k]) - top) / sum);
      } else if (task.kind == MTL_BINARY || task.kind == MTL_MULTILABEL) {
        for (int64_t k = 0; k < w; ++k)
          row[k] = float(1.0 / (1.0 + std::exp(-double(row[k]))));
      } else {
        // Trained on standardised or scaled targets: back to the data's scale.
        const auto &z = impl->trainer.targetStandardizers()[size_t(t)];
        const double scale = impl->targetScales[size_t(t)];
        for (int64_t k = 0; k < w && (z || scale != 1.0); ++k) {
          const double v = z ? double(row[k]) * z->stddev[size_t(k)] + z->mean[size_t(k)] : row[k];
          row[k] = float(v / scale);
        }
      }
    }
  }
  return Ok{};
}

bool allFinite(const float *values, int64_t n) {
  return std::all_of(values, values + n, [](float x) { return std::isfinite(x); });
}

int64_t predictedClass(const mtl_task_desc &task, const float *outputs) {
  if (!allFinite(outputs, task.width))
    return -1;
  if (task.kind == MTL_BINARY)
    return outputs[0] >= 0.5f ? 1 : 0;
  int64_t best = 0;
  for (int64_t k = 1; k < task.width; ++k)
    best = outputs[k] > outputs[best] ? k : best;
  return best;
}

} // namespace mtlrt
