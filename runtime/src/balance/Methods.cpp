// Methods.cpp: PCGrad, IMTL-G, Aligned-MTL and the Gram-matrix helpers of the balancing methods.
#include "Methods.h"

#include "Linalg.h"
#include "mtlrt/Dataset.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mtlrt::balance {

using detail::symmetricGram;

namespace {
size_t count(int tasks) { return static_cast<size_t>(std::max(tasks, 0)); }
} // namespace

double combinedNormSquared(std::span<const double> gram, int tasks, std::span<const double> coeff) {
  const size_t n = count(tasks);
  std::vector<double> g = symmetricGram(gram, tasks);
  std::vector<double> c(n, 0.0);
  std::copy_n(coeff.begin(), std::min(n, coeff.size()), c.begin());
  return detail::quadratic(g, tasks, c);
}

std::vector<double> cosines(std::span<const double> gram, int tasks) {
  const size_t n = count(tasks);
  std::vector<double> g = symmetricGram(gram, tasks);
  std::vector<double> out(n * n, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) {
      double norms =
          std::sqrt(std::max(0.0, g[i * n + i])) * std::sqrt(std::max(0.0, g[j * n + j]));
      // Rounding can push |cos| a hair past 1; callers take acos of it.
      if (norms > 0)
        out[i * n + j] = std::clamp(g[i * n + j] / norms, -1.0, 1.0);
    }
  return out;
}

std::vector<double> pcgrad(std::span<const double> gram, int tasks, uint64_t seed, uint64_t step) {
  const size_t n = count(tasks);
  if (n <= 1)
    return std::vector<double>(n, 1.0);
  std::vector<double> g = symmetricGram(gram, tasks);
  Rng rng(seed, step);
  std::vector<double> sum(n, 0.0);
  std::vector<size_t> order;
  for (size_t i = 0; i < n; ++i) {
    order.clear();
    for (size_t j = 0; j < n; ++j)
      if (j != i)
        order.push_back(j);
    for (size_t k = order.size() - 1; k >= 1; --k)
      std::swap(order[k], order[rng.below(k + 1)]);
    // g_i^pc as coefficients over g_1..g_T; its inner product with g_j is (p^T G)_j.
    std::vector<double> p(n, 0.0);
    p[i] = 1.0;
    for (size_t j : order) {
      double jj = g[j * n + j];
      if (!(jj > 0))
        continue;
      double dot = 0;
      for (size_t k = 0; k < n; ++k)
        dot += p[k] * g[k * n + j];
      if (dot < 0)
        p[j] -= dot / jj;
    }
    for (size_t k = 0; k < n; ++k)
      sum[k] += p[k];
  }
  return sum;
}

std::vector<double> imtl(std::span<const double> gram, int tasks) {
  const size_t n = count(tasks);
  if (n <= 1)
    return std::vector<double>(n, 1.0);
  const std::vector<double> equal(n, 1.0 / static_cast<double>(n));
  std::vector<double> g = symmetricGram(gram, tasks);
  std::vector<double> norm(n);
  for (size_t t = 0; t < n; ++t) {
    norm[t] = std::sqrt(std::max(0.0, g[t * n + t]));
    if (!(norm[t] > 0))
      return equal;
  }
  // Rows a, b of D and U stand for tasks a+1, b+1 (task 0 is the paper's g_1).
  const size_t m = n - 1;
  std::vector<double> du(m * m), r(m);
  for (size_t b = 0; b < m; ++b) {
    size_t tb = b + 1;
    r[b] = g[0] / norm[0] - g[tb] / norm[tb]; // g_1·(u_1 - u_b)
    for (size_t a = 0; a < m; ++a) {
      size_t ta = a + 1;
      // (g_1 - g_a)·(u_1 - u_b)
      du[a * m + b] = (g[0] - g[ta * n]) / norm[0] - (g[tb] - g[ta * n + tb]) / norm[tb];
    }
  }
  // α (a row) = r (DU^T)^-1, i.e. (DU^T)^T α^T = r^T.
  std::vector<double> duT(m * m);
  for (size_t a = 0; a < m; ++a)
    for (size_t b = 0; b < m; ++b)
      duT[b * m + a] = du[a * m + b];
  std::vector<double> alpha;
  if (!detail::solveLinear(duT, r, static_cast<int>(m), alpha))
    return equal;
  std::vector<double> out(n);
  out[0] = 1.0 - std::accumulate(alpha.begin(), alpha.end(), 0.0);
  std::copy(alpha.begin(), alpha.end(), out.begin() + 1);
  return out;
}

std::vector<double> alignedMtl(std::span<const double> gram, int tasks) {
  const size_t n = count(tasks);
  if (n <= 1)
    return std::vector<double>(n, 1.0);
  std::vector<double> g = symmetricGram(gram, tasks);
  std::vector<double> values, vectors;
  detail::symmetricEigen(g, tasks, values, vectors);
  double largest = *std::max_element(values.begin(), values.end());
  double tol = largest * static_cast<double>(n) * 0x1.0p-23;
  std::vector<size_t> kept;
  for (size_t k = 0; k < n; ++k)
    if (values[k] > tol && values[k] > 0)
      kept.push_back(k);
  std::vector<double> alpha(n, 0.0);
  if (kept.empty())
    return alpha;
  double smallest = values[kept[0]];
  for (size_t k : kept)
    smallest = std::min(smallest, values[k]);
  // α = B·1 = sqrt(λ_R) Σ_k v_k (v_k·1) / sqrt(λ_k).
  for (size_t k : kept) {
    double along = 0;
    for (size_t i = 0; i < n; ++i)
      along += vectors[i * n + k];
    double f = std::sqrt(smallest / values[k]) * along;
    for (size_t i = 0; i < n; ++i)
      alpha[i] += f * vectors[i * n + k];
  }
  return alpha;
}

} // namespace mtlrt::balance
