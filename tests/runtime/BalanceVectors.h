// BalanceVectors.h: task gradients as plain vectors of doubles, their Gram
// matrix and combinations, for the balancing methods' tests, which check
// each method against vector arithmetic rather than its own algebra.
#pragma once

#include "mtlrt/Dataset.h" // Rng

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace mtlrt::balance::test {

using Vec = std::vector<double>;
using Grads = std::vector<Vec>;

inline double dot(const Vec &a, const Vec &b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}

inline Vec gramOf(const Grads &g) {
  Vec out;
  for (const Vec &a : g)
    for (const Vec &b : g)
      out.push_back(dot(a, b));
  return out;
}

inline Vec combine(const Grads &g, const Vec &c) {
  Vec d(g[0].size(), 0.0);
  for (size_t t = 0; t < g.size(); ++t)
    for (size_t k = 0; k < d.size(); ++k)
      d[k] += c[t] * g[t][k];
  return d;
}

inline int T(const Grads &g) { return static_cast<int>(g.size()); }

inline double sum(const Vec &v) { return std::accumulate(v.begin(), v.end(), 0.0); }

inline Grads randomGrads(int tasks, int dim, uint64_t seed) {
  Rng rng(seed, 99);
  Grads g(static_cast<size_t>(tasks), Vec(static_cast<size_t>(dim)));
  for (Vec &v : g)
    for (double &x : v)
      x = rng.normal();
  return g;
}

inline void expectNear(const Vec &got, const Vec &want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol) << "entry " << i;
}

} // namespace mtlrt::balance::test
