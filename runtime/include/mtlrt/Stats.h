// Stats.h: the summary statistics and the paired test that compare an experiment's configurations.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

namespace mtlrt {

/// Mean and sample standard deviation (n - 1 in the denominator; NaN, as
/// undefined, for n < 2).
struct Summary {
  double mean = 0, std = NAN;
  int64_t n = 0;
};
Summary summarize(std::span<const double> values);

/// Student's paired t-test of a - b: the mean difference, its 95% confidence
/// interval mean ± t(0.975, n - 1) · s / √n, and the two-sided p-value of
/// t = mean / (s / √n) with n - 1 degrees of freedom. With n < 2 the
/// interval and p are NaN. Differences without spread (s = 0, or s within
/// rounding of their size) leave nothing to test: p and the interval are NaN,
/// but for differences that are all 0 (p = 1, the interval [0, 0]).
struct PairedTest {
  double mean = 0, lo = 0, hi = 0, p = 0;
  int64_t n = 0;
};
PairedTest pairedTTest(std::span<const double> a, std::span<const double> b);

/// P(T <= t) for Student's t distribution with `dof` > 0 degrees of freedom.
double studentTCdf(double t, double dof);
/// The t with studentTCdf(t, dof) = p, for p in (0, 1).
double studentTQuantile(double p, double dof);

} // namespace mtlrt
