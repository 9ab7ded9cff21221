// Linalg.cpp: the few dense routines the balancing methods need.
#include "Linalg.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mtlrt::balance::detail {
namespace {

/// Adds the products from `i` on (the last, partial group of eight) to
/// their lanes and sums the lanes in a fixed order.
double finish(double *acc, const float *a, const float *b, int64_t i, int64_t n) {
  for (; i < n; ++i)
    acc[i % 8] += double(a[i]) * double(b[i]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/// dotPortable with its eight lanes in one AVX-512 register (lane k adds the
/// same products in the same order as its accumulator k): the runtime is
/// built for any x86-64, where they take four SSE2 registers, and the Gram
/// matrix of a split step at batch 1 cost as much as the step.
[[gnu::target("avx512f")]] double dotWide(const float *a, const float *b, int64_t n) {
  // maskz with every lane set is the plain conversion, which trips GCC 12's
  // -Wmaybe-uninitialized inside its own header.
  __m512d sum = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    sum = _mm512_add_pd(sum, _mm512_mul_pd(_mm512_maskz_cvtps_pd(0xff, _mm256_loadu_ps(a + i)),
                                           _mm512_maskz_cvtps_pd(0xff, _mm256_loadu_ps(b + i))));
  alignas(64) double acc[8];
  _mm512_store_pd(acc, sum);
  return finish(acc, a, b, i, n);
}

} // namespace

double dotPortable(const float *a, const float *b, int64_t n) {
  double acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k)
      acc[k] += double(a[i + k]) * double(b[i + k]);
  return finish(acc, a, b, i, n);
}

double dot(const float *a, const float *b, int64_t n) {
  static const bool wide = __builtin_cpu_supports("avx512f");
  return wide ? dotWide(a, b, n) : dotPortable(a, b, n);
}

std::vector<double> symmetricGram(std::span<const double> gram, int tasks) {
  const size_t n = static_cast<size_t>(std::max(tasks, 0));
  auto at = [&](size_t i, size_t j) { return i * n + j < gram.size() ? gram[i * n + j] : 0.0; };
  std::vector<double> g(n * n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      g[i * n + j] = 0.5 * (at(i, j) + at(j, i));
  return g;
}

double maxDiagonal(const std::vector<double> &g, int n) {
  double best = 0;
  for (int i = 0; i < n; ++i)
    best = std::max(best, g[static_cast<size_t>(i * n + i)]);
  return best;
}

bool solveLinear(std::vector<double> a, std::vector<double> b, int n, std::vector<double> &x,
                 double relTol) {
  const size_t m = static_cast<size_t>(n);
  double largest = 0;
  for (double v : a)
    largest = std::max(largest, std::abs(v));
  if (!(largest > 0))
    return false;
  for (size_t col = 0; col < m; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < m; ++r)
      if (std::abs(a[r * m + col]) > std::abs(a[pivot * m + col]))
        pivot = r;
    if (!(std::abs(a[pivot * m + col]) > relTol * largest))
      return false;
    if (pivot != col) {
      for (size_t k = 0; k < m; ++k)
        std::swap(a[col * m + k], a[pivot * m + k]);
      std::swap(b[col], b[pivot]);
    }
    for (size_t r = col + 1; r < m; ++r) {
      double f = a[r * m + col] / a[col * m + col];
      for (size_t k = col; k < m; ++k)
        a[r * m + k] -= f * a[col * m + k];
      b[r] -= f * b[col];
    }
  }
  std::vector<double> out(m);
  for (size_t r = m; r-- > 0;) {
    double s = b[r];
    for (size_t k = r + 1; k < m; ++k)
      s -= a[r * m + k] * out[k];
    out[r] = s / a[r * m + r];
    if (!std::isfinite(out[r]))
      return false;
  }
  x = std::move(out);
  return true;
}

void symmetricEigen(std::vector<double> a, int n, std::vector<double> &values,
                    std::vector<double> &vectors) {
  const size_t m = static_cast<size_t>(n);
  vectors.assign(m * m, 0.0);
  for (size_t i = 0; i < m; ++i)
    vectors[i * m + i] = 1.0;
  double total = 0;
  for (double v : a)
    total += v * v;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (size_t p = 0; p < m; ++p)
      for (size_t q = p + 1; q < m; ++q)
        off += 2 * a[p * m + q] * a[p * m + q];
    if (!(off > 1e-30 * total))
      break;
    for (size_t p = 0; p < m; ++p)
      for (size_t q = p + 1; q < m; ++q) {
        double apq = a[p * m + q];
        if (apq == 0)
          continue;
        // The rotation that zeroes a_pq, in the stable form of Numerical
        // Recipes: t = tan θ is the smaller root of t² + 2 t cot 2θ - 1 = 0.
        double theta = (a[q * m + q] - a[p * m + p]) / (2 * apq);
        double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < m; ++k) { // columns p and q
          double akp = a[k * m + p], akq = a[k * m + q];
          a[k * m + p] = c * akp - s * akq;
          a[k * m + q] = s * akp + c * akq;
        }
        for (size_t k = 0; k < m; ++k) { // rows p and q
          double apk = a[p * m + k], aqk = a[q * m + k];
          a[p * m + k] = c * apk - s * aqk;
          a[q * m + k] = s * apk + c * aqk;
        }
        for (size_t k = 0; k < m; ++k) {
          double vkp = vectors[k * m + p], vkq = vectors[k * m + q];
          vectors[k * m + p] = c * vkp - s * vkq;
          vectors[k * m + q] = s * vkp + c * vkq;
        }
      }
  }
  values.resize(m);
  for (size_t i = 0; i < m; ++i)
    values[i] = a[i * m + i];
}

std::vector<double> projectToSimplex(const std::vector<double> &y) {
  std::vector<double> sorted = y;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  double sum = 0, tau = 0;
  for (size_t k = 0; k < sorted.size(); ++k) {
    sum += sorted[k];
    double candidate = (sum - 1) / static_cast<double>(k + 1);
    if (sorted[k] - candidate > 0)
      tau = candidate;
  }
  std::vector<double> w(y.size());
  for (size_t k = 0; k < y.size(); ++k)
    w[k] = std::max(0.0, y[k] - tau);
  return w;
}

std::vector<double> times(const std::vector<double> &g, int n, const std::vector<double> &v) {
  const size_t m = static_cast<size_t>(n);
  std::vector<double> out(m, 0.0);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < m; ++j)
      out[i] += g[i * m + j] * v[j];
  return out;
}

double quadratic(const std::vector<double> &g, int n, const std::vector<double> &v) {
  std::vector<double> gv = times(g, n, v);
  return std::inner_product(v.begin(), v.end(), gv.begin(), 0.0);
}

} // namespace mtlrt::balance::detail
