// Weights.cpp: the loss-based balancing methods: DWA, RLW, FAMO and GradNorm.
#include "Methods.h"

#include "mtlrt/Dataset.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mtlrt::balance {

namespace {

/// softmax(x), shifted by max(x) so no exp overflows.
std::vector<double> softmax(std::span<const double> x) {
  std::vector<double> out(x.size());
  if (x.empty())
    return out;
  double top = *std::max_element(x.begin(), x.end());
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i)
    sum += out[i] = std::exp(x[i] - top);
  for (double &v : out)
    v /= sum;
  return out;
}

} // namespace

std::vector<double> dwa(std::span<const double> lossPrev, std::span<const double> lossPrevPrev,
                        double temperature) {
  const size_t n = lossPrev.size();
  std::vector<double> r(n, 1.0);
  for (size_t t = 0; t < n && t < lossPrevPrev.size(); ++t) {
    double ratio = lossPrev[t] / lossPrevPrev[t];
    if (lossPrevPrev[t] != 0 && std::isfinite(ratio))
      r[t] = ratio;
  }
  if (!(temperature > 0))
    temperature = 2.0;
  for (double &x : r)
    x /= temperature;
  std::vector<double> w = softmax(r);
  for (double &x : w)
    x *= static_cast<double>(n);
  return w;
}

std::vector<double> rlw(int tasks, uint64_t seed, uint64_t step) {
  std::vector<double> z(static_cast<size_t>(std::max(tasks, 0)));
  Rng rng(seed, step);
  for (double &x : z)
    x = rng.normal();
  return softmax(z);
}

Famo::Famo(int tasks, FamoOptions options) : opt(std::move(options)) {
  const size_t n = static_cast<size_t>(std::max(tasks, 0));
  opt.minLosses.resize(n, 0.0);
  st.logits.assign(n, 0.0);
  st.adamM.assign(n, 0.0);
  st.adamV.assign(n, 0.0);
}

double Famo::dShift(std::span<const double> losses, size_t t) const {
  double d = losses[t] - opt.minLosses[t] + opt.eps;
  return std::max(d, opt.eps);
}

std::vector<double> Famo::taskShares() const { return softmax(st.logits); }

std::vector<double> Famo::weights(std::span<const double> losses) const {
  std::vector<double> z = taskShares();
  auto present = [&](size_t t) { return t < losses.size() && std::isfinite(losses[t]); };
  double c = 0;
  for (size_t t = 0; t < z.size(); ++t)
    c += present(t) ? z[t] / dShift(losses, t) : 0.0;
  for (size_t t = 0; t < z.size(); ++t)
    z[t] = present(t) && c > 0 ? z[t] / (dShift(losses, t) * c) : 0.0;
  return z;
}

void Famo::update(std::span<const double> before, std::span<const double> after) {
  const size_t n = st.logits.size();
  std::vector<double> z = taskShares(), delta(n, 0.0);
  for (size_t t = 0; t < n; ++t)
    if (t < before.size() && t < after.size() && std::isfinite(before[t]) &&
        std::isfinite(after[t]))
      delta[t] = std::log(dShift(before, t)) - std::log(dShift(after, t));
  double mean = std::inner_product(z.begin(), z.end(), delta.begin(), 0.0);
  ++st.steps;
  // torch's Adam, step `steps`: bias-corrected moments, eps outside the root.
  const double beta1 = 0.9, beta2 = 0.999, adamEps = 1e-8;
  const double c1 = 1 - std::pow(beta1, static_cast<double>(st.steps));
  const double c2 = 1 - std::pow(beta2, static_cast<double>(st.steps));
  for (size_t t = 0; t < n; ++t) {
    double grad = z[t] * (delta[t] - mean) + opt.weightDecay * st.logits[t];
    if (!opt.adam) {
      st.logits[t] -= opt.lr * grad;
      continue;
    }
    st.adamM[t] = beta1 * st.adamM[t] + (1 - beta1) * grad;
    st.adamV[t] = beta2 * st.adamV[t] + (1 - beta2) * grad * grad;
    double denom = std::sqrt(st.adamV[t]) / std::sqrt(c2) + adamEps;
    st.logits[t] -= opt.lr / c1 * st.adamM[t] / denom;
  }
}

void Famo::setState(State state) {
  const size_t n = st.logits.size();
  if (state.logits.size() == n && state.adamM.size() == n && state.adamV.size() == n)
    st = std::move(state);
}

GradNorm::GradNorm(int tasks, GradNormOptions options) : opt(options) {
  st.weights.assign(static_cast<size_t>(std::max(tasks, 0)), 1.0);
}

void GradNorm::update(std::span<const double> gradNorms, std::span<const double> losses) {
  const size_t n = st.weights.size();
  if (n == 0 || gradNorms.size() < n || losses.size() < n)
    return;
  if (st.initialLosses.empty())
    st.initialLosses.assign(losses.begin(), losses.begin() + static_cast<std::ptrdiff_t>(n));
  std::vector<double> norm(n), ratio(n, 1.0);
  double meanG = 0, meanRatio = 0;
  for (size_t t = 0; t < n; ++t) {
    norm[t] = std::isfinite(gradNorms[t]) ? std::max(0.0, gradNorms[t]) : 0.0;
    meanG += st.weights[t] * norm[t] / static_cast<double>(n);
    double r = losses[t] / st.initialLosses[t];
    if (st.initialLosses[t] != 0 && std::isfinite(r))
      ratio[t] = r;
    meanRatio += ratio[t] / static_cast<double>(n);
  }
  for (size_t t = 0; t < n; ++t) {
    double relative = meanRatio != 0 ? ratio[t] / meanRatio : 1.0;
    // r^α for a negative r (negative losses) is not real; such a task is
    // given the target of an average one.
    double target = meanG * (relative > 0 ? std::pow(relative, opt.alpha) : 1.0);
    double gt = st.weights[t] * norm[t];
    double sign = gt > target ? 1.0 : gt < target ? -1.0 : 0.0;
    st.weights[t] = std::max(opt.minWeight, st.weights[t] - opt.lr * sign * norm[t]);
  }
  double total = std::accumulate(st.weights.begin(), st.weights.end(), 0.0);
  for (double &w : st.weights)
    w *= static_cast<double>(n) / total;
}

void GradNorm::setState(State state) {
  const size_t n = st.weights.size();
  if (state.weights.size() == n && (state.initialLosses.empty() || state.initialLosses.size() == n))
    st = std::move(state);
}

} // namespace mtlrt::balance
