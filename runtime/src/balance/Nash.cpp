// Nash.cpp: Nash-MTL's bargaining weights, the positive root of G α = 1/α.
#include "Methods.h"

#include "Linalg.h"

#include <algorithm>
#include <cmath>

namespace mtlrt::balance {

namespace {

/// Damped Newton on φ(β) = ½ β^T (G + ridge I) β - Σ log β_i from `beta`.
/// True when max_i |β_i ((G + ridge I) β)_i - 1| < 1e-12 or the Newton
/// decrement² fell below 1e-20.
bool newton(const std::vector<double> &g, int n, double ridge, std::vector<double> &beta) {
  const size_t m = static_cast<size_t>(n);
  auto phi = [&](const std::vector<double> &b) {
    double v = 0.5 * detail::quadratic(g, n, b);
    for (size_t i = 0; i < m; ++i)
      v += 0.5 * ridge * b[i] * b[i] - std::log(b[i]);
    return v;
  };
  for (int iteration = 0; iteration < 100; ++iteration) {
    std::vector<double> gb = detail::times(g, n, beta), grad(m);
    double residual = 0;
    for (size_t i = 0; i < m; ++i) {
      gb[i] += ridge * beta[i];
      grad[i] = gb[i] - 1 / beta[i];
      residual = std::max(residual, std::abs(beta[i] * gb[i] - 1));
    }
    if (residual < 1e-12)
      return true;
    // Unbounded φ (no solution): β runs off to infinity; stop before overflow.
    if (*std::max_element(beta.begin(), beta.end()) > 1e12)
      return false;
    std::vector<double> hessian = g, delta;
    for (size_t i = 0; i < m; ++i)
      hessian[i * m + i] += ridge + 1 / (beta[i] * beta[i]);
    std::vector<double> minusGrad(m);
    for (size_t i = 0; i < m; ++i)
      minusGrad[i] = -grad[i];
    if (!detail::solveLinear(hessian, minusGrad, n, delta, 1e-300))
      return false;
    double slope = 0; // -(Newton decrement)²
    for (size_t i = 0; i < m; ++i)
      slope += grad[i] * delta[i];
    // Where rounding floors the residual above 1e-12 (large α, cancelling
    // gradients), a vanishing decrement says no step can improve α.
    if (-slope < 1e-20)
      return true;
    // φ is self-concordant (a convex quadratic plus a log barrier): once the
    // Newton decrement sqrt(-slope) is below 1/4 the full step stays positive
    // and converges quadratically. Testing φ's decrease there would stall on
    // rounding, as φ then changes by less than its last bits.
    const bool fullStep = -slope < 1.0 / 16;
    double f = phi(beta), t = 1;
    std::vector<double> next(m);
    for (; t > 1e-20; t *= 0.5) {
      bool positive = true;
      for (size_t i = 0; i < m; ++i) {
        next[i] = beta[i] + t * delta[i];
        positive = positive && next[i] > 0;
      }
      if (positive && (fullStep || phi(next) <= f + 0.25 * t * slope))
        break;
    }
    if (!(t > 1e-20))
      return false;
    beta = next;
  }
  return false;
}

} // namespace

std::vector<double> nashMtl(std::span<const double> gram, int tasks, NashScale scale) {
  const size_t n = static_cast<size_t>(std::max(tasks, 0));
  if (n <= 1)
    return std::vector<double>(n, 1.0);
  std::vector<double> full = detail::symmetricGram(gram, tasks);
  std::vector<double> alpha(n, 0.0);
  double largest = detail::maxDiagonal(full, tasks);
  if (!(largest > 0))
    return alpha;
  // Solve for β = α sqrt(largest) on G / largest (max diagonal 1), over the
  // tasks whose gradients are not zero.
  std::vector<size_t> live;
  for (size_t t = 0; t < n; ++t)
    if (full[t * n + t] > 1e-24 * largest)
      live.push_back(t);
  const size_t m = live.size();
  std::vector<double> g(m * m), start(m);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < m; ++j)
      g[i * m + j] = full[live[i] * n + live[j]] / largest;
    start[i] = 1 / std::sqrt(g[i * m + i]);
  }
  std::vector<double> beta = start;
  if (!newton(g, static_cast<int>(m), 0.0, beta)) {
    beta = start;
    newton(g, static_cast<int>(m), 1e-8, beta);
  }
  double factor = 1 / std::sqrt(largest);
  if (scale == NashScale::LibMtl) {
    double frobenius = 0;
    for (double x : full)
      frobenius += x * x;
    factor *= std::sqrt(std::sqrt(frobenius));
  }
  for (size_t i = 0; i < m; ++i)
    alpha[live[i]] = beta[i] * factor;
  return alpha;
}

} // namespace mtlrt::balance
