// Stats.cpp: mean and standard deviation, Student's t distribution, the paired t-test.
#include "mtlrt/Stats.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mtlrt {
namespace {

/// The continued fraction of the regularised incomplete beta function
/// (modified Lentz's method), which converges fast for x < (a + 1) / (a + b + 2).
double betaFraction(double a, double b, double x) {
  const double tiny = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  d = std::fabs(d) < tiny ? 1 / tiny : 1 / d;
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    // The even step d_{2m}, then the odd step d_{2m+1}, of the fraction's terms.
    for (int odd = 0; odd < 2; ++odd) {
      double num = odd ? -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
                       : m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
      d = 1 + num * d;
      d = std::fabs(d) < tiny ? 1 / tiny : 1 / d;
      c = 1 + num / c;
      c = std::fabs(c) < tiny ? tiny : c;
      h *= d * c;
      if (odd && std::fabs(d * c - 1) < 1e-15)
        return h;
    }
  }
  return h;
}

/// I_x(a, b), the regularised incomplete beta function, for x in [0, 1].
double incompleteBeta(double a, double b, double x) {
  if (x <= 0)
    return 0;
  if (x >= 1)
    return 1;
  double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) +
                          b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2))
    return front * betaFraction(a, b, x) / a;
  return 1 - front * betaFraction(b, a, 1 - x) / b;
}

} // namespace

Summary summarize(std::span<const double> values) {
  Summary s;
  s.n = int64_t(values.size());
  if (s.n == 0)
    return s;
  for (double v : values)
    s.mean += v;
  s.mean /= double(s.n);
  if (s.n < 2)
    return s;
  double squares = 0;
  for (double v : values)
    squares += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(squares / double(s.n - 1));
  return s;
}

double studentTCdf(double t, double dof) {
  // P(|T| > |t|) = I_{dof / (dof + t^2)}(dof / 2, 1 / 2).
  double tail = 0.5 * incompleteBeta(dof / 2, 0.5, dof / (dof + t * t));
  return t >= 0 ? 1 - tail : tail;
}

double studentTQuantile(double p, double dof) {
  double lo = -1e6, hi = 1e6;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, std::fabs(lo)); ++i) {
    double mid = 0.5 * (lo + hi);
    (studentTCdf(mid, dof) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

PairedTest pairedTTest(std::span<const double> a, std::span<const double> b) {
  std::vector<double> diff;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    diff.push_back(a[i] - b[i]);
  Summary s = summarize(diff);
  PairedTest out{s.mean, NAN, NAN, NAN, s.n};
  if (s.n < 2)
    return out;
  double dof = double(s.n - 1), se = s.std / std::sqrt(double(s.n));
  // Differences equal but for rounding (two seeds one test row apart each)
  // have no spread to test against: the test is undefined, not p = 0.
  double scale = 0;
  for (double d : diff)
    scale = std::max(scale, std::fabs(d));
  if (s.std <= 1e-9 * scale) {
    if (scale == 0)
      out.p = 1.0, out.lo = out.hi = 0.0; // no difference at all
    return out;
  }
  double half = studentTQuantile(0.975, dof) * se;
  out.lo = s.mean - half;
  out.hi = s.mean + half;
  // Two-sided: P(|T| > |t|) = I_{dof / (dof + t^2)}(dof / 2, 1 / 2), without
  // the cancellation of 2 (1 - F(|t|)) for small p.
  out.p = incompleteBeta(dof / 2, 0.5, dof / (dof + (s.mean / se) * (s.mean / se)));
  return out;
}

} // namespace mtlrt
