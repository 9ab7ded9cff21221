// balance_methods_test.cpp: each gradient method's defining property, on hand-sized gradients.
// gradients.
//
// Every test builds explicit task gradients, forms their Gram matrix here,
// calls a method and combines the gradients here, so a method is checked
// against vector arithmetic rather than against its own Gram-matrix algebra.
#include "BalanceVectors.h"
#include "balance/Linalg.h"
#include "balance/Method.h"
#include "balance/Methods.h"
#include "mtlrt/Dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <numeric>
#include <random>

using namespace mtlrt;
using namespace mtlrt::balance;
using namespace mtlrt::balance::test;

namespace {

// ---- helpers ----

TEST(BalanceHelpers, CombinedNormAndCosines) {
  Grads g = {{3, 0}, {0, 2}, {0, 0}, {-1, 0}};
  EXPECT_DOUBLE_EQ(combinedNormSquared(gramOf(g), 4, Vec{1, 1, 5, 0}), 13.0); // (3,2)
  Vec cos = cosines(gramOf(g), 4);
  EXPECT_DOUBLE_EQ(cos[0 * 4 + 0], 1.0);
  EXPECT_DOUBLE_EQ(cos[0 * 4 + 1], 0.0);
  EXPECT_DOUBLE_EQ(cos[0 * 4 + 2], 0.0); // a zero gradient conflicts with nothing
  EXPECT_DOUBLE_EQ(cos[2 * 4 + 2], 0.0);
  EXPECT_DOUBLE_EQ(cos[0 * 4 + 3], -1.0);
}

TEST(BalanceHelpers, JacobiEigenReconstructs) {
  Grads g = randomGrads(6, 9, 4);
  Vec m = gramOf(g), values, vectors;
  detail::symmetricEigen(m, 6, values, vectors);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) {
      double back = 0, ortho = 0;
      for (int k = 0; k < 6; ++k) {
        back += vectors[i * 6 + k] * values[k] * vectors[j * 6 + k];
        ortho += vectors[k * 6 + i] * vectors[k * 6 + j];
      }
      EXPECT_NEAR(back, m[i * 6 + j], 1e-12);
      EXPECT_NEAR(ortho, i == j ? 1.0 : 0.0, 1e-12);
    }
}

// The Gram matrix's dot products: in one AVX-512 register where the CPU has
// one, the same bits as the portable eight accumulators (each float product
// is exact in double), for every length's tail and values of any magnitude;
// and the exact sum where the terms are exact.
TEST(BalanceHelpers, DotIsThePortableSumBitForBit) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  std::uniform_int_distribution<int> e(-40, 40);
  for (int64_t n = 0; n <= 70; ++n) {
    std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      a[size_t(i)] = std::ldexp(u(rng), e(rng));
      b[size_t(i)] = std::ldexp(u(rng), e(rng));
    }
    const double wide = detail::dot(a.data(), b.data(), n);
    const double portable = detail::dotPortable(a.data(), b.data(), n);
    EXPECT_EQ(std::memcmp(&wide, &portable, sizeof(double)), 0)
        << "n = " << n << ": " << wide << " against " << portable;
  }
  std::vector<float> ones(37, 1.0f), twos(37, 2.0f);
  EXPECT_EQ(detail::dot(ones.data(), twos.data(), 37), 74.0);
}

// ---- PCGrad ----

TEST(PcGrad, TwoConflictingGradients) {
  // g1 = (1,0), g2 = (-1,1): g1·g2 = -1, ||g1||² = 1, ||g2||² = 2.
  // g1^pc = g1 + (1/2) g2 = (1/2, 1/2); g2^pc = g2 + g1 = (0, 1).
  // Coefficients: (1 + 1, 1/2 + 1) = (2, 3/2); d = (1/2, 3/2).
  Grads g = {{1, 0}, {-1, 1}};
  Vec c = pcgrad(gramOf(g), 2, 1, 0);
  expectNear(c, {2.0, 1.5}, 1e-15);
  Vec d = combine(g, c);
  EXPECT_GE(dot(d, g[0]), 0.0);
  EXPECT_GE(dot(d, g[1]), 0.0);
}

TEST(PcGrad, NoConflictIsThePlainSum) {
  Grads g = {{1, 0}, {1, 1}, {0, 2}};
  expectNear(pcgrad(gramOf(g), 3, 5, 17), {1, 1, 1}, 0);
}

/// PCGrad on explicit vectors, given each task's order of the others.
Vec pcgradByVectors(const Grads &g, const std::vector<std::vector<size_t>> &orders) {
  Vec d(g[0].size(), 0.0);
  for (size_t i = 0; i < g.size(); ++i) {
    Vec p = g[i];
    for (size_t j : orders[i]) {
      double pj = dot(p, g[j]);
      if (pj < 0)
        for (size_t k = 0; k < p.size(); ++k)
          p[k] -= pj / dot(g[j], g[j]) * g[j][k];
    }
    for (size_t k = 0; k < d.size(); ++k)
      d[k] += p[k];
  }
  return d;
}

TEST(PcGrad, OrderMattersAndFollowsTheSeed) {
  // g1 = (1,0), g2 = (-1,2), g3 = (-1,-1): g1 conflicts with both.
  // Order (2,3): g1 + (1/5) g2 = (0.8, 0.4); then ·g3 = -1.2, + 0.6 g3 = (0.2, -0.2).
  // Order (3,2): g1 + (1/2) g3 = (0.5,-0.5); then ·g2 = -1.5, + 0.3 g2 = (0.2, 0.1).
  Grads g = {{1, 0}, {-1, 2}, {-1, -1}};
  Vec first23 = pcgradByVectors({g[0], g[1], g[2]}, {{1, 2}, {}, {}});
  Vec first32 = pcgradByVectors({g[0], g[1], g[2]}, {{2, 1}, {}, {}});
  // Only g1's own share: subtract the untouched g2 and g3.
  expectNear({first23[0] + 2, first23[1] - 1}, {0.2, -0.2}, 1e-15);
  expectNear({first32[0] + 2, first32[1] - 1}, {0.2, 0.1}, 1e-15);

  const uint64_t seed = 20240611;
  bool sawEach[2] = {false, false};
  for (uint64_t step = 0; step < 16; ++step) {
    // The documented order: per task, the others ascending, Fisher–Yates
    // (k from T-2 down to 1, swap with below(k+1)) from one Rng(seed, step).
    Rng rng(seed, step);
    std::vector<std::vector<size_t>> orders;
    for (size_t i = 0; i < 3; ++i) {
      std::vector<size_t> o;
      for (size_t j = 0; j < 3; ++j)
        if (j != i)
          o.push_back(j);
      for (size_t k = o.size() - 1; k >= 1; --k)
        std::swap(o[k], o[rng.below(k + 1)]);
      orders.push_back(o);
    }
    sawEach[orders[0][0] == 1 ? 0 : 1] = true;
    Vec c = pcgrad(gramOf(g), 3, seed, step);
    expectNear(combine(g, c), pcgradByVectors(g, orders), 1e-14);
    EXPECT_EQ(c, pcgrad(gramOf(g), 3, seed, step)); // deterministic
  }
  EXPECT_TRUE(sawEach[0] && sawEach[1]); // the shuffle does reorder
}

// ---- MGDA ----

/// The optimality condition of min ||Σ α g||² on the simplex: g_t·d ≥ ||d||².
void expectMinNormKkt(const Grads &g, const Vec &alpha) {
  for (double a : alpha)
    EXPECT_GE(a, 0.0);
  EXPECT_NEAR(sum(alpha), 1.0, 1e-12);
  Vec d = combine(g, alpha);
  for (const Vec &gt : g)
    EXPECT_GE(dot(gt, d), dot(d, d) - 1e-9);
}

TEST(Mgda, TwoTasks) {
  // Orthonormal: the midpoint, ||d||² = 1/2.
  Grads g = {{1, 0}, {0, 1}};
  Vec a = minNorm(gramOf(g), 2);
  expectNear(a, {0.5, 0.5}, 1e-15);
  EXPECT_NEAR(combinedNormSquared(gramOf(g), 2, a), 0.5, 1e-15);
  // (1,0), (2,0): (4 - 2) / ||(-1,0)||² = 2, clamped: all on the shorter.
  g = {{1, 0}, {2, 0}};
  expectNear(minNorm(gramOf(g), 2), {1, 0}, 0);
}

TEST(Mgda, ThreeTasksCentreEdgeAndVertex) {
  // Orthonormal: by symmetry, 1/3 each, ||d||² = 1/3.
  Grads g = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  Vec a = minNorm(gramOf(g), 3);
  expectNear(a, {1.0 / 3, 1.0 / 3, 1.0 / 3}, 1e-14);
  expectMinNormKkt(g, a);
  // (1,0), (2,0), (0,3): on the edge (1,0)-(0,3), α1 = 9 / (1 + 9) = 0.9,
  // d = (0.9, 0.3), and (2,0)·d = 1.8 ≥ ||d||² = 0.9 keeps (2,0) out.
  g = {{1, 0}, {2, 0}, {0, 3}};
  a = minNorm(gramOf(g), 3);
  expectNear(a, {0.9, 0, 0.1}, 1e-14);
  expectMinNormKkt(g, a);
  // (1,1), (2,1), (1,3): (1,1)·g_t = 2, 3, 4 ≥ ||(1,1)||² = 2: the vertex.
  g = {{1, 1}, {2, 1}, {1, 3}};
  expectNear(minNorm(gramOf(g), 3), {1, 0, 0}, 1e-15);
}

TEST(Mgda, RandomCasesMeetTheOptimalityCondition) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    int tasks = 3 + static_cast<int>(seed % 10), dim = 1 + static_cast<int>(seed % 7);
    Grads g = randomGrads(tasks, dim, seed);
    for (Vec &v : g) // a shared component makes interior solutions likely
      v[0] += 1.5;
    expectMinNormKkt(g, minNorm(gramOf(g), tasks));
  }
}

TEST(Mgda, Normalisation) {
  // L2: (1,0), (0,3) become orthonormal; α = (1/2, 1/2); c_t = α_t / ||g_t||.
  Grads g = {{1, 0}, {0, 3}};
  expectNear(mgda(gramOf(g), 2, Vec{}, MgdaNormalization::L2), {0.5, 0.5 / 3}, 1e-15);
  // Loss with L = (2, 4): scaled (0.5,0), (0,0.75); α1 = 0.5625 / 0.8125 = 9/13;
  // c = (9/13 / 2, 4/13 / 4) = (9/26, 1/13).
  expectNear(mgda(gramOf(g), 2, Vec{2, 4}, MgdaNormalization::Loss), {9.0 / 26, 1.0 / 13}, 1e-15);
  expectNear(mgda(gramOf(g), 2, Vec{2, 4}, MgdaNormalization::None), minNorm(gramOf(g), 2), 0);
}

// ---- CAGrad ----

/// CAGrad's inner objective at w, from the vectors.
double cagradObjective(const Grads &g, const Vec &w, double c) {
  Vec g0 = combine(g, Vec(g.size(), 1.0 / static_cast<double>(g.size())));
  Vec gw = combine(g, w);
  return dot(gw, g0) + c * std::sqrt(dot(g0, g0)) * std::sqrt(dot(gw, gw));
}

double worstImprovement(const Grads &g, const Vec &d) {
  double worst = INFINITY;
  for (const Vec &gt : g)
    worst = std::min(worst, dot(gt, d));
  return worst;
}

TEST(CaGrad, ZeroCIsTheAverage) {
  Grads g = {{2, 0}, {-1, 0.5}, {0, 1}};
  expectNear(cagrad(gramOf(g), 3, 0.0), {1.0 / 3, 1.0 / 3, 1.0 / 3}, 1e-15);
}

TEST(CaGrad, MaximisesTheWorstImprovementInItsBall) {
  // g0 = (0.5, 0.25); g2·g0 = -0.375 < 0: the average hurts task 2.
  Grads g = {{2, 0}, {-1, 0.5}};
  const double c = 0.5;
  Vec g0 = combine(g, {0.5, 0.5});
  Vec d = combine(g, cagrad(gramOf(g), 2, c, CagradRescale::None));
  // d = g0 + λ g_w with ||λ g_w|| = c ||g0||: on the ball's boundary.
  Vec shift = {d[0] - g0[0], d[1] - g0[1]};
  EXPECT_NEAR(std::sqrt(dot(shift, shift)), c * std::sqrt(dot(g0, g0)), 1e-9);
  EXPECT_GT(worstImprovement(g, d), worstImprovement(g, g0));
  // CAGrad's problem: max over ||d - g0|| ≤ c||g0|| of min_t g_t·d. In R^2,
  // a fine sweep of the boundary (where a linear min peaks) finds nothing better.
  double radius = c * std::sqrt(dot(g0, g0));
  for (int k = 0; k < 20000; ++k) {
    double angle = 2 * std::numbers::pi * k / 20000;
    Vec e = {g0[0] + radius * std::cos(angle), g0[1] + radius * std::sin(angle)};
    EXPECT_LE(worstImprovement(g, e), worstImprovement(g, d) + 1e-9);
  }
  // The default rescale divides by 1 + c².
  Vec plain = cagrad(gramOf(g), 2, c, CagradRescale::None);
  for (double &x : plain)
    x /= 1 + c * c;
  expectNear(cagrad(gramOf(g), 2, c), plain, 1e-15);
}

TEST(CaGrad, InnerSolutionBeatsVerticesAndUniform) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    int tasks = 2 + static_cast<int>(seed % 5);
    Grads g = randomGrads(tasks, 4, 100 + seed);
    const double c = 0.2 + 0.1 * static_cast<double>(seed % 8);
    Vec coeff = cagrad(gramOf(g), tasks, c, CagradRescale::None);
    // Recover w from the coefficients 1/T + λ w_t (Σw = 1 gives λ).
    double lambda = sum(coeff) - 1;
    ASSERT_GT(lambda, 0);
    Vec w(coeff.size());
    for (size_t t = 0; t < w.size(); ++t)
      w[t] = (coeff[t] - 1.0 / tasks) / lambda;
    double f = cagradObjective(g, w, c);
    EXPECT_LE(f, cagradObjective(g, Vec(w.size(), 1.0 / tasks), c) + 1e-12);
    for (int t = 0; t < tasks; ++t) {
      Vec vertex(w.size(), 0.0);
      vertex[static_cast<size_t>(t)] = 1;
      EXPECT_LE(f, cagradObjective(g, vertex, c) + 1e-12);
      EXPECT_GE(w[static_cast<size_t>(t)], -1e-12);
    }
  }
}

TEST(CaGrad, OneDimensionalConflict) {
  // g1 = 2, g2 = -1 (as vectors (2,0), (-1,0)): g0 = 0.5; with x = g_w = 3w - 1
  // in [-1, 2], F = 0.5 x + s |x|, s = c · 0.5.
  Grads g = {{2, 0}, {-1, 0}};
  // c = 0.5, s = 0.25: F is least at x = -1 (w = 0), d = g0 + s · sign(x) = 0.25,
  // the best of min(2d, -d) over the ball [0.25, 0.75].
  expectNear(combine(g, cagrad(gramOf(g), 2, 0.5, CagradRescale::None)), {0.25, 0}, 1e-9);
  // c = 1.5, s = 0.75: F = 0.5 x + 0.75 |x| is least at x = 0, where λ g_w has
  // no direction; the ball [-0.25, 1.25] holds d = 0, the maximiser of min(2d, -d).
  expectNear(combine(g, cagrad(gramOf(g), 2, 1.5, CagradRescale::None)), {0, 0}, 1e-6);
}

// ---- IMTL-G ----

TEST(Imtl, TwoTasksByHand) {
  // u1 = (1,0), u2 = (0,1); D = g1 - g2 = (1,-2), U = u1 - u2 = (1,-1);
  // DU^T = 3, g1 U^T = 1: α2 = 1/3, α1 = 2/3, d = (2/3, 2/3).
  Grads g = {{1, 0}, {0, 2}};
  expectNear(imtl(gramOf(g), 2), {2.0 / 3, 1.0 / 3}, 1e-15);
}

TEST(Imtl, EqualProjectionsOnEveryUnitGradient) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    int tasks = 2 + static_cast<int>(seed % 5);
    Grads g = randomGrads(tasks, 7, 200 + seed);
    Vec alpha = imtl(gramOf(g), tasks);
    EXPECT_NEAR(sum(alpha), 1.0, 1e-12);
    Vec d = combine(g, alpha);
    double first = dot(d, g[0]) / std::sqrt(dot(g[0], g[0]));
    for (const Vec &gt : g)
      EXPECT_NEAR(dot(d, gt) / std::sqrt(dot(gt, gt)), first, 1e-10);
  }
}

// ---- Aligned-MTL ----

TEST(AlignedMtl, OrthogonalGradientsContributeEqually) {
  // M = diag(9, 1), λ_R = 1: B = diag(1/3, 1), α = (1/3, 1), d = (1, 1).
  Grads g = {{3, 0}, {0, 1}};
  Vec alpha = alignedMtl(gramOf(g), 2);
  expectNear(alpha, {1.0 / 3, 1.0}, 1e-15);
  expectNear(combine(g, alpha), {1, 1}, 1e-15);
}

TEST(AlignedMtl, TwoTasksByHand) {
  // g1 = (1,0), g2 = (1,1): M = [[1,1],[1,2]], det 1, trace 3. For a 2×2 SPD
  // matrix sqrt(M) = (M + sqrt(det) I) / sqrt(trace + 2 sqrt(det)) =
  // [[2,1],[1,3]] / √5, so M^{-1/2} = [[3,-1],[-1,2]] / √5; λ_min = (3-√5)/2,
  // sqrt(λ_min) = (√5-1)/2. α = B·1 = k (2, 1), k = (√5-1)/(2√5); d = k (3, 1).
  Grads g = {{1, 0}, {1, 1}};
  const double r5 = std::sqrt(5.0), k = (r5 - 1) / (2 * r5);
  Vec alpha = alignedMtl(gramOf(g), 2);
  expectNear(alpha, {2 * k, k}, 1e-14);
  // Full rank: d = sqrt(λ_R) U V^T 1 (polar factor), so ||d||² = T λ_min.
  EXPECT_NEAR(combinedNormSquared(gramOf(g), 2, alpha), 3 - r5, 1e-14);
}

TEST(AlignedMtl, NormIsTasksTimesSmallestEigenvalue) {
  Grads g = randomGrads(5, 8, 300);
  Vec m = gramOf(g), values, vectors;
  detail::symmetricEigen(m, 5, values, vectors);
  double smallest = *std::min_element(values.begin(), values.end());
  EXPECT_NEAR(combinedNormSquared(m, 5, alignedMtl(m, 5)), 5 * smallest, 1e-10 * values[0]);
}

TEST(AlignedMtl, RankDeficient) {
  // Identical: only λ = 2 on (1,1)/√2 is kept, B = vv^T, α = (1, 1).
  expectNear(alignedMtl(gramOf({{1, 0}, {1, 0}}), 2), {1, 1}, 1e-15);
  // Opposite: only (1,-1)/√2 is kept, and B·1 = 0.
  expectNear(alignedMtl(gramOf({{1, 0}, {-1, 0}}), 2), {0, 0}, 1e-15);
}

// ---- Nash-MTL ----

TEST(NashMtl, OrthogonalGradientsGetInverseNorms) {
  // Diagonal G: G_ii α_i = 1/α_i, α_i = 1/||g_i||.
  Grads g = {{2, 0, 0}, {0, 0.5, 0}, {0, 0, 10}};
  expectNear(nashMtl(gramOf(g), 3), {0.5, 2.0, 0.1}, 1e-12);
}

TEST(NashMtl, SolvesTheBargainingEquation) {
  for (uint64_t seed = 0; seed < 10; ++seed) {
    int tasks = 2 + static_cast<int>(seed % 4);
    Grads g = randomGrads(tasks, 6, 400 + seed);
    for (Vec &v : g) // a common direction: a solution exists
      v[0] += 3;
    Vec m = gramOf(g), alpha = nashMtl(m, tasks);
    for (int i = 0; i < tasks; ++i) {
      double gi = 0;
      for (int j = 0; j < tasks; ++j)
        gi += m[static_cast<size_t>(i * tasks + j)] * alpha[static_cast<size_t>(j)];
      EXPECT_GT(alpha[static_cast<size_t>(i)], 0);
      EXPECT_NEAR(alpha[static_cast<size_t>(i)] * gi, 1.0, 1e-6);
    }
    // LibMTL's scale: sqrt(||G||_F) times, and blind to a common gradient scale.
    double frob = std::sqrt(dot(m, m));
    Vec lib = nashMtl(m, tasks, NashScale::LibMtl);
    for (int i = 0; i < tasks; ++i)
      EXPECT_NEAR(lib[static_cast<size_t>(i)], alpha[static_cast<size_t>(i)] * std::sqrt(frob),
                  1e-9);
    Vec scaled = m;
    for (double &x : scaled)
      x *= 100; // every gradient times 10
    expectNear(nashMtl(scaled, tasks, NashScale::LibMtl), lib, 1e-9);
  }
}

TEST(NashMtl, NoSolutionStaysFinite) {
  // Opposite gradients: φ is unbounded; the ridge keeps α finite and d ≈ 0.
  Grads g = {{1, 0}, {-1, 0}};
  Vec alpha = nashMtl(gramOf(g), 2);
  for (double a : alpha)
    EXPECT_TRUE(std::isfinite(a) && a > 0);
  EXPECT_NEAR(combinedNormSquared(gramOf(g), 2, alpha), 0.0, 1e-12);
  // Plus an orthogonal task: tasks 1 and 2 cancel, task 3 keeps α3 ≈ 1/||g3||.
  g = {{1, 0}, {-1, 0}, {0, 2}};
  Vec d = combine(g, nashMtl(gramOf(g), 3));
  expectNear(d, {0, 1}, 1e-6);
}

// ---- edge cases for every gradient method ----

TEST(BalanceEdges, DegenerateGradientsGiveFiniteCoefficients) {
  const std::vector<Grads> cases = {
      {{1, 0}, {0, 0}},          {{0, 0}, {0, 0}},         {{1, 2}, {1, 2}},
      {{1, 2}, {-1, -2}},        {{1, 0}, {0, 0}, {0, 1}}, {{1, 1}, {1, 1}, {1, 1}},
      {{1, 0}, {-1, 0}, {0, 1}}, {{0, 0}, {0, 0}, {0, 0}}, {{2, 0}, {-2, 0}, {1, 0}},
  };
  for (const Grads &g : cases) {
    Vec m = gramOf(g);
    int n = T(g);
    std::vector<Vec> results = {pcgrad(m, n, 1, 2),
                                minNorm(m, n),
                                cagrad(m, n, 0.5),
                                imtl(m, n),
                                alignedMtl(m, n),
                                nashMtl(m, n),
                                mgda(m, n, Vec(g.size(), 1.0), MgdaNormalization::LossPlus)};
    for (const Vec &r : results) {
      ASSERT_EQ(r.size(), g.size());
      for (double x : r)
        EXPECT_TRUE(std::isfinite(x));
    }
    // MGDA: a zero gradient or two opposite ones put 0 in the hull.
    double dd = combinedNormSquared(m, n, minNorm(m, n));
    if (std::any_of(g.begin(), g.end(), [](const Vec &v) { return dot(v, v) == 0; })) {
      EXPECT_EQ(dd, 0.0);
    }
  }
  EXPECT_EQ(
      combinedNormSquared(gramOf({{1, 2}, {-1, -2}}), 2, minNorm(gramOf({{1, 2}, {-1, -2}}), 2)),
      0.0);
}

TEST(BalanceEdges, OneTaskIsLeftAlone) {
  Vec m = {4.0};
  for (const Vec &r : {pcgrad(m, 1, 0, 0), minNorm(m, 1), cagrad(m, 1, 0.5), imtl(m, 1),
                       alignedMtl(m, 1), nashMtl(m, 1)})
    EXPECT_EQ(r, Vec{1.0});
  Vec zero = {0.0};
  EXPECT_EQ(nashMtl(zero, 1), Vec{1.0});
  EXPECT_EQ(rlw(1, 3, 4), Vec{1.0});
  EXPECT_EQ(dwa(Vec{1}, Vec{2}), Vec{1.0});
}

} // namespace
