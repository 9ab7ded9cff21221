// Synthetic.cpp: random inputs and teacher-generated targets, so models without data files train.
#include "mtlrt/Dataset.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace mtlrt {
namespace detail {
Result<Dataset> loadSynthetic(const DataSpec &spec, const std::vector<InputSpec> &inputs,
                              const std::vector<TaskSpec> &tasks);
} // namespace detail

namespace {
/// Noise added to regression targets: enough that a perfect fit is not trivial.
constexpr double regressNoise = 0.05;
/// 2^30 floats (4 GiB): more than a synthetic set should ever need.
constexpr int64_t maxSyntheticElements = int64_t(1) << 30;
} // namespace

Result<Dataset> detail::loadSynthetic(const DataSpec &spec, const std::vector<InputSpec> &inputs,
                                      const std::vector<TaskSpec> &tasks) {
  if (spec.rows <= 0)
    return fail(fmt::format("data '{}': a synthetic data set needs rows > 0 (got {})", spec.name,
                            spec.rows));
  int64_t features = 0, perRow = 0;
  for (const InputSpec &in : inputs)
    features += in.width;
  perRow = features;
  for (const TaskSpec &task : tasks)
    perRow += targetWidth(task);
  if (perRow > 0 && spec.rows > maxSyntheticElements / perRow)
    return fail(fmt::format("data '{}': {} synthetic rows of {} values are too many", spec.name,
                            spec.rows, perRow));
  const size_t rows = static_cast<size_t>(spec.rows);

  // The teacher comes first and from its own stream, so it depends on the
  // seed and the model's shapes only, never on the number of rows.
  Rng teacher(spec.seed, 3), data(spec.seed, 2), noise(spec.seed, 4);
  const double gain = features > 0 ? 1.0 / std::sqrt(static_cast<double>(features)) : 0.0;
  std::vector<std::vector<double>> weights(tasks.size());
  for (size_t t = 0; t < tasks.size(); ++t) {
    weights[t].resize(static_cast<size_t>(tasks[t].width * features));
    for (double &w : weights[t])
      w = teacher.normal() * gain;
  }
  // Embedding ids reach the teacher through a random value per id.
  std::vector<std::vector<double>> idValues(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].vocab > 0) {
      idValues[i].resize(static_cast<size_t>(inputs[i].vocab));
      for (double &v : idValues[i])
        v = teacher.normal();
    }

  Dataset ds;
  ds.name = spec.name;
  ds.rows = spec.rows;
  ds.inputs.resize(inputs.size());
  ds.targets.resize(tasks.size());
  ds.classNames.resize(tasks.size());
  ds.categories.resize(inputs.size());
  ds.standardizeInputs.assign(inputs.size(), 0);
  ds.standardizeTargets.assign(tasks.size(), 0);
  std::vector<float *> inputValues; // each input's array, written row by row below
  for (size_t i = 0; i < inputs.size(); ++i) {
    ds.inputWidths.push_back(inputs[i].width);
    std::vector<float> &values = ds.inputs[i].write();
    values.resize(rows * static_cast<size_t>(inputs[i].width));
    inputValues.push_back(values.data());
  }
  for (size_t t = 0; t < tasks.size(); ++t) {
    ds.targetWidths.push_back(targetWidth(tasks[t]));
    ds.targets[t].resize(rows * static_cast<size_t>(ds.targetWidths[t]));
    if (tasks[t].kind == TaskSpec::Classify)
      for (int64_t c = 0; c < tasks[t].width; ++c)
        ds.classNames[t].push_back(std::to_string(c));
  }
  ds.sourceRows.resize(rows);

  std::vector<double> x(static_cast<size_t>(features)), z;
  for (size_t r = 0; r < rows; ++r) {
    ds.sourceRows[r] = static_cast<int64_t>(r);
    size_t k = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const size_t w = static_cast<size_t>(inputs[i].width);
      for (size_t j = 0; j < w; ++j, ++k) {
        float &v = inputValues[i][r * w + j];
        if (inputs[i].vocab > 0) {
          uint64_t id = data.below(static_cast<uint64_t>(inputs[i].vocab));
          v = static_cast<float>(id);
          x[k] = idValues[i][id];
        } else {
          v = static_cast<float>(data.normal());
          x[k] = v;
        }
      }
    }
    for (size_t t = 0; t < tasks.size(); ++t) {
      const TaskSpec &task = tasks[t];
      const size_t m = static_cast<size_t>(task.width);
      z.assign(m, 0.0);
      for (size_t a = 0; a < m; ++a) {
        double sum = 0;
        for (size_t b = 0; b < x.size(); ++b)
          sum += weights[t][a * x.size() + b] * x[b];
        z[a] = std::tanh(sum);
      }
      float *out = &ds.targets[t][r * static_cast<size_t>(ds.targetWidths[t])];
      switch (task.kind) {
      case TaskSpec::Regress:
        for (size_t a = 0; a < m; ++a)
          out[a] = static_cast<float>(z[a] + regressNoise * noise.normal());
        break;
      case TaskSpec::Binary:
      case TaskSpec::Multilabel:
        for (size_t a = 0; a < m; ++a)
          out[a] = z[a] > 0 ? 1.0f : 0.0f;
        break;
      case TaskSpec::Classify: {
        size_t best = 0;
        for (size_t a = 1; a < m; ++a)
          if (z[a] > z[best])
            best = a;
        out[0] = static_cast<float>(best);
        break;
      }
      }
    }
  }
  return ds;
}

} // namespace mtlrt
