// Simplex.cpp: the balancing methods that optimise over the simplex of task weights: MGDA, CAGrad.
#include "Methods.h"

#include "Linalg.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace mtlrt::balance {

namespace {

using detail::quadratic;
using detail::times;

/// ε² of CAGrad's smoothed norm, in units of the largest ||g_t||².
constexpr double kCagradSmoothing = 1e-10;
/// At most this many projected-gradient steps.
constexpr int kCagradSteps = 2000;

/// min over γ in [0,1] of ||γ x + (1-γ) y||² from xx = x·x, xy = x·y, yy = y·y:
/// γ = clamp((yy - xy) / ||x - y||², 0, 1); 1/2 for x = y. Sets `cost`.
double bestOnSegment(double xx, double xy, double yy, double &cost) {
  double gap = xx + yy - 2 * xy;
  double gamma = gap > 0 ? std::clamp((yy - xy) / gap, 0.0, 1.0) : 0.5;
  cost = std::max(0.0, gamma * gamma * xx + 2 * gamma * (1 - gamma) * xy +
                           (1 - gamma) * (1 - gamma) * yy);
  return gamma;
}

/// The minimiser of ||Σ_{s in S} v_s g_s||² subject to Σ v = 1 (the affine
/// hull of the vertices S): G_SS v = μ 1, 1^T v = 1. False if singular.
bool affineMinimiser(const std::vector<double> &g, size_t n, const std::vector<size_t> &s,
                     std::vector<double> &v) {
  const size_t k = s.size();
  std::vector<double> a((k + 1) * (k + 1), 0.0), b(k + 1, 0.0);
  for (size_t i = 0; i < k; ++i) {
    for (size_t j = 0; j < k; ++j)
      a[i * (k + 1) + j] = g[s[i] * n + s[j]];
    a[i * (k + 1) + k] = -1.0;
    a[k * (k + 1) + i] = 1.0;
  }
  b[k] = 1.0;
  std::vector<double> x;
  if (!detail::solveLinear(a, b, static_cast<int>(k + 1), x, 1e-14))
    return false;
  v.assign(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(k));
  return true;
}

/// Wolfe's minimum-norm-point algorithm on a Gram matrix scaled to max diagonal 1.
std::vector<double> minNormScaled(const std::vector<double> &g, size_t n) {
  const int tasks = static_cast<int>(n);
  // Start where MinNormSolver does: the best of all pairs.
  size_t bi = 0, bj = 1;
  double bestCost = std::numeric_limits<double>::infinity(), bestGamma = 1;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      double cost;
      double gamma = bestOnSegment(g[i * n + i], g[i * n + j], g[j * n + j], cost);
      if (cost < bestCost)
        bestCost = cost, bestGamma = gamma, bi = i, bj = j;
    }
  std::vector<double> lambda(n, 0.0);
  std::vector<size_t> active;
  double gap = g[bi * n + bi] + g[bj * n + bj] - 2 * g[bi * n + bj];
  // A set of active vertices must be affinely independent: an identical pair
  // (gap 0) or an end point starts from one vertex.
  if (gap > 1e-14 && bestGamma > 0 && bestGamma < 1) {
    lambda[bi] = bestGamma, lambda[bj] = 1 - bestGamma;
    active = {bi, bj};
  } else {
    size_t only = bestGamma >= 0.5 ? bi : bj;
    lambda[only] = 1;
    active = {only};
  }
  for (int iteration = 0; iteration < 250; ++iteration) {
    std::vector<double> gl = times(g, tasks, lambda); // (G λ)_t = g_t·d
    double dd = std::inner_product(lambda.begin(), lambda.end(), gl.begin(), 0.0);
    size_t vertex = static_cast<size_t>(std::min_element(gl.begin(), gl.end()) - gl.begin());
    // Frank–Wolfe gap ||d||² - min_t g_t·d: 0 exactly at the optimum.
    if (dd - gl[vertex] <= 1e-15 || std::find(active.begin(), active.end(), vertex) != active.end())
      break;
    active.push_back(vertex);
    for (size_t minor = 0; minor <= n; ++minor) {
      std::vector<double> v;
      if (!affineMinimiser(g, n, active, v))
        return lambda;
      if (std::all_of(v.begin(), v.end(), [](double x) { return x > 0; })) {
        for (size_t i = 0; i < active.size(); ++i)
          lambda[active[i]] = v[i];
        break;
      }
      // Walk from λ towards v until the first weight reaches 0; drop it.
      double theta = 1;
      size_t leaving = active.size(); // none yet
      for (size_t i = 0; i < active.size(); ++i) {
        double li = lambda[active[i]];
        if (v[i] <= 0 && li - v[i] > 0 && li / (li - v[i]) < theta)
          theta = li / (li - v[i]), leaving = i;
      }
      std::vector<size_t> still;
      for (size_t i = 0; i < active.size(); ++i) {
        double &li = lambda[active[i]];
        li = (1 - theta) * li + theta * v[i];
        if (i == leaving || li <= 0)
          li = 0;
        else
          still.push_back(active[i]);
      }
      active = std::move(still);
    }
  }
  for (double &l : lambda)
    l = std::max(0.0, l);
  double total = std::accumulate(lambda.begin(), lambda.end(), 0.0);
  for (double &l : lambda)
    l /= total;
  return lambda;
}

} // namespace

std::vector<double> minNorm(std::span<const double> gram, int tasks) {
  const size_t n = static_cast<size_t>(std::max(tasks, 0));
  if (n <= 1)
    return std::vector<double>(n, 1.0);
  std::vector<double> g = detail::symmetricGram(gram, tasks);
  if (n == 2) {
    double cost;
    double gamma = bestOnSegment(g[0], g[1], g[3], cost);
    return {gamma, 1 - gamma};
  }
  double scale = detail::maxDiagonal(g, tasks);
  if (!(scale > 0))
    return std::vector<double>(n, 1.0 / static_cast<double>(n));
  for (double &x : g)
    x /= scale;
  return minNormScaled(g, n);
}

std::vector<double> mgda(std::span<const double> gram, int tasks, std::span<const double> losses,
                         MgdaNormalization normalization) {
  const size_t n = static_cast<size_t>(std::max(tasks, 0));
  if (n <= 1)
    return std::vector<double>(n, 1.0);
  std::vector<double> g = detail::symmetricGram(gram, tasks);
  std::vector<double> inv(n, 1.0); // 1 / n_t
  for (size_t t = 0; t < n; ++t) {
    double norm = std::sqrt(std::max(0.0, g[t * n + t]));
    double loss = t < losses.size() ? losses[t] : 0.0;
    double nt = normalization == MgdaNormalization::L2         ? norm
                : normalization == MgdaNormalization::Loss     ? loss
                : normalization == MgdaNormalization::LossPlus ? loss * norm
                                                               : 1.0;
    inv[t] = nt > 0 && std::isfinite(nt) ? 1.0 / nt : 0.0;
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      g[i * n + j] *= inv[i] * inv[j];
  std::vector<double> alpha = minNorm(g, tasks);
  for (size_t t = 0; t < n; ++t)
    alpha[t] *= inv[t];
  return alpha;
}

std::vector<double> cagrad(std::span<const double> gram, int tasks, double c,
                           CagradRescale rescale) {
  const size_t n = static_cast<size_t>(std::max(tasks, 0));
  if (n <= 1)
    return std::vector<double>(n, 1.0);
  c = c > 0 ? c : 0.0; // and NaN
  const double r = rescale == CagradRescale::OnePlusCSquared ? 1 + c * c
                   : rescale == CagradRescale::OnePlusC      ? 1 + c
                                                             : 1.0;
  const double mean = 1.0 / static_cast<double>(n);
  std::vector<double> out(n, mean / r);
  std::vector<double> g = detail::symmetricGram(gram, tasks);
  // F, w and λ do not change when G is scaled; max diagonal 1 keeps the
  // solver's tolerances meaningful.
  double scale = detail::maxDiagonal(g, tasks);
  if (!(scale > 0))
    return out;
  for (double &x : g)
    x /= scale;
  std::vector<double> w(n, mean);
  const std::vector<double> b = times(g, tasks, w); // (G w_uniform)_t = g_t·g0
  const double g0sq = std::max(0.0, std::inner_product(w.begin(), w.end(), b.begin(), 0.0));
  const double s = c * std::sqrt(g0sq); // sqrt(φ)
  if (!(s > 0))
    return out; // λ = 0: the average
  // The smoothed norm of g_w (see the header): the one place both F and λ read it.
  const double eps2 = kCagradSmoothing;
  auto smoothNorm = [&](const std::vector<double> &x) {
    return std::sqrt(std::max(0.0, quadratic(g, tasks, x)) + eps2);
  };
  auto objective = [&](const std::vector<double> &x) {
    return std::inner_product(x.begin(), x.end(), b.begin(), 0.0) + s * smoothNorm(x);
  };
  double f = objective(w), step = 1;
  for (int iteration = 0; iteration < kCagradSteps; ++iteration) {
    std::vector<double> gw = times(g, tasks, w), grad = b;
    double norm = smoothNorm(w);
    for (size_t t = 0; t < n; ++t)
      grad[t] += s * gw[t] / norm;
    // Backtrack until the proximal-gradient sufficient decrease holds.
    std::vector<double> next;
    double fNext = f, moved = 0;
    for (; step > 1e-30; step *= 0.5) {
      std::vector<double> y(n);
      for (size_t t = 0; t < n; ++t)
        y[t] = w[t] - step * grad[t];
      next = detail::projectToSimplex(y);
      double lin = 0, sq = 0;
      moved = 0;
      for (size_t t = 0; t < n; ++t) {
        double dt = next[t] - w[t];
        lin += grad[t] * dt, sq += dt * dt, moved += std::abs(dt);
      }
      fNext = objective(next);
      if (fNext <= f + lin + sq / (2 * step) + 1e-15 * std::abs(f))
        break;
    }
    if (!(step > 1e-30) || !(fNext <= f))
      break;
    w = std::move(next), f = fNext;
    if (moved < 1e-13)
      break;
    step = std::min(step * 2, 1e6);
  }
  double lambda = s / smoothNorm(w);
  for (size_t t = 0; t < n; ++t)
    out[t] = (mean + lambda * w[t]) / r;
  return out;
}

} // namespace mtlrt::balance
