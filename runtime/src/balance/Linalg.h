// Linalg.h: the few dense routines the balancing methods need: T×T ones (T
// is 2..16) and the dot product of two tasks' gradient blocks.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace mtlrt::balance::detail {

/// a · b in double over n floats, with eight accumulators (one long chain of
/// dependent adds would wait on each add's latency), accumulator k adding
/// the products of elements k, k + 8, ... in order, then summed in a fixed
/// order. A float times a float is exact in double, so fused multiply-adds
/// and any vector width give the same sums.
double dotPortable(const float *a, const float *b, int64_t n);

/// dotPortable's result, in one AVX-512 register where the CPU has one.
double dot(const float *a, const float *b, int64_t n);

/// The Gram matrix as a symmetrised row-major copy, (G_ij + G_ji) / 2; entries
/// missing from a short span read as 0.
std::vector<double> symmetricGram(std::span<const double> gram, int tasks);

/// The largest diagonal entry, max_t ||g_t||² (0 for no tasks).
double maxDiagonal(const std::vector<double> &g, int n);

/// Solves A x = b (A row-major n×n) by Gaussian elimination with partial
/// pivoting. False, x untouched, if a pivot is at most relTol times A's
/// largest entry (or A is 0) or the solution is not finite.
bool solveLinear(std::vector<double> a, std::vector<double> b, int n, std::vector<double> &x,
                 double relTol = 1e-12);

/// Eigenpairs of a symmetric n×n matrix by cyclic Jacobi rotations: values[k]
/// with eigenvector column k of `vectors` (row-major n×n), in no set order.
/// Sweeps until the off-diagonal mass is below 1e-30 of the total, at most 100.
void symmetricEigen(std::vector<double> a, int n, std::vector<double> &values,
                    std::vector<double> &vectors);

/// The Euclidean projection of y onto the simplex {w ≥ 0, Σw = 1}, by the
/// sort-and-threshold rule (Held, Wolfe & Crowder 1974; Duchi et al. 2008).
std::vector<double> projectToSimplex(const std::vector<double> &y);

/// (G v)_i for a symmetric row-major n×n G.
std::vector<double> times(const std::vector<double> &g, int n, const std::vector<double> &v);

/// v^T G v.
double quadratic(const std::vector<double> &g, int n, const std::vector<double> &v);

} // namespace mtlrt::balance::detail
