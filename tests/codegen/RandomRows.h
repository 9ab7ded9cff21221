// RandomRows.h: a small data set for models with `input x : f32[4]` and one binary task.
#pragma once

#include "mtlrt/Dataset.h"

#include <cstdint>
#include <random>

namespace mtl::test {

/// `n` rows of x ~ N(0, 1)^4 (seeded, the same every call) and the label
/// [x0 + 2 x1 + 3 x2 + 4 x3 > 0].
inline mtlrt::Dataset randomRows(int64_t n) {
  mtlrt::Dataset d;
  d.name = "random";
  d.rows = n;
  d.inputWidths = {4};
  d.inputs.resize(1);
  d.targetWidths = {1};
  d.targets.resize(1);
  d.classNames.resize(1);
  d.categories.resize(1);
  d.standardizeInputs = {0};
  d.standardizeTargets = {0};
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  for (int64_t r = 0; r < n; ++r) {
    float sum = 0;
    for (int k = 0; k < 4; ++k) {
      float x = normal(rng);
      sum += x * float(k + 1);
      d.inputs[0].write().push_back(x);
    }
    d.targets[0].push_back(sum > 0 ? 1.0f : 0.0f);
    d.sourceRows.push_back(r);
  }
  return d;
}

} // namespace mtl::test
