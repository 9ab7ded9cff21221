// Math.h: the scalar formulas of the IR's element-wise ops and losses, in
// double precision: the definition the interpreter executes and generated
// code must reproduce.
#pragma once

#include <cmath>

namespace mtl::ir::math {

inline constexpr double kGeluC = 0.7978845608028654; // sqrt(2 / pi)
inline constexpr double kGeluA = 0.044715;

/// The tanh approximation of gelu, as PyTorch's gelu(approximate="tanh").
inline double gelu(double x) {
  return 0.5 * x * (1 + std::tanh(kGeluC * (x + kGeluA * x * x * x)));
}
inline double geluDeriv(double x) {
  double t = std::tanh(kGeluC * (x + kGeluA * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * kGeluC * (1 + 3 * kGeluA * x * x);
}
/// Never evaluates exp of a large positive number.
inline double sigmoid(double x) {
  if (x >= 0)
    return 1 / (1 + std::exp(-x));
  double e = std::exp(x);
  return e / (1 + e);
}
inline double sign(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }

/// Per-element losses l(p, t) and their derivatives d l / d p.
inline double huber(double d, double delta) {
  double a = std::fabs(d);
  return a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
}
inline double huberDeriv(double d, double delta) {
  return d > delta ? delta : (d < -delta ? -delta : d);
}
/// BCE with logits in the stable form max(p, 0) - p t + log(1 + exp(-|p|)).
inline double bceLogits(double p, double t) {
  return std::fmax(p, 0.0) - p * t + std::log1p(std::exp(-std::fabs(p)));
}
inline double bceLogitsDeriv(double p, double t) { return sigmoid(p) - t; }

} // namespace mtl::ir::math
