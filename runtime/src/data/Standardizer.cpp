// Standardizer.cpp: per-feature mean and standard deviation from the training split.
#include "mtlrt/Dataset.h"

#include <cmath>

namespace mtlrt {

Standardizer Standardizer::fit(std::span<const float> data, int64_t width,
                               std::span<const int64_t> rows) {
  Standardizer z;
  const size_t w = width > 0 ? static_cast<size_t>(width) : 0;
  z.mean.assign(w, 0.0);
  z.stddev.assign(w, 1.0);
  std::vector<double> sum(w, 0.0), sumSq(w, 0.0);
  std::vector<int64_t> count(w, 0);
  // Two passes (mean, then squared deviations) avoid the cancellation of
  // E[x²] - E[x]² on features with a large offset, such as body mass in grams.
  for (int64_t r : rows) {
    if (r < 0 || static_cast<size_t>(r + 1) * w > data.size())
      continue;
    for (size_t j = 0; j < w; ++j)
      if (float v = data[static_cast<size_t>(r) * w + j]; !std::isnan(v)) {
        sum[j] += v;
        ++count[j];
      }
  }
  for (size_t j = 0; j < w; ++j)
    if (count[j] > 0)
      z.mean[j] = sum[j] / static_cast<double>(count[j]);
  for (int64_t r : rows) {
    if (r < 0 || static_cast<size_t>(r + 1) * w > data.size())
      continue;
    for (size_t j = 0; j < w; ++j)
      if (float v = data[static_cast<size_t>(r) * w + j]; !std::isnan(v))
        sumSq[j] += (v - z.mean[j]) * (v - z.mean[j]);
  }
  for (size_t j = 0; j < w; ++j) {
    double sd = count[j] > 0 ? std::sqrt(sumSq[j] / static_cast<double>(count[j])) : 0.0;
    z.stddev[j] = sd > 0 && std::isfinite(sd) ? sd : 1.0;
  }
  return z;
}

void Standardizer::apply(std::span<float> data) const {
  const size_t w = mean.size();
  if (w == 0)
    return;
  std::vector<float> offset(mean.begin(), mean.end()), inverse(w);
  for (size_t j = 0; j < w; ++j)
    inverse[j] = static_cast<float>(1.0 / stddev[j]);
  for (size_t row = 0; row + w <= data.size(); row += w)
    for (size_t j = 0; j < w; ++j) {
      const float x = data[row + j];
      float z = (x - offset[j]) * inverse[j];
      // Near the float range's ends, in double: a standard deviation past
      // 2^126 has a subnormal inverse (which training's flush-to-zero reads
      // as 0, making every value 0), and x - mean can overflow.
      if (!std::isnormal(inverse[j]) || (!std::isfinite(z) && std::isfinite(x)))
        z = static_cast<float>((static_cast<double>(x) - mean[j]) / stddev[j]);
      data[row + j] = z;
    }
}

} // namespace mtlrt
