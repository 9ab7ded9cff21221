// Op.h: the operation kinds of the graph IR, their attributes and arity.
//
// Ops are data, not classes: an OpKind, operand value ids and a flat attribute
// record. Passes and code generators switch over OpKind; the tables in Op.cpp
// say how many operands each kind takes and how it is spelled.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mtl::ir {

enum class OpKind {
  // Leaves.
  Input,    ///< a per-step input (features, targets, the step counter); named
  Param,    ///< a trainable parameter, static shape, PyTorch layout; named
  Constant, ///< f32 scalar `value`
  // Dense algebra. Operands are viewed as matrices [rows, last dim].
  Linear,   ///< (x[.., in], W[out, in] [, b[out]]) -> x W^T + b : [.., out]
  MatMul,   ///< (a[.., k], b[k, n]) -> a b : [.., n]
  MatMulTN, ///< (a[.., m], b[.., n]) with equal leading dims -> a^T b : [m, n]
  // Element-wise binary; one operand may be a scalar or a static [n] matching
  // the other's last dimension, which is broadcast.
  Add,
  Sub,
  Mul,
  Div,
  // Element-wise unary.
  Neg,
  Relu,
  LeakyRelu, ///< slope `alpha` for x < 0
  Gelu,      ///< tanh approximation
  Tanh,
  Sigmoid,
  Exp,
  Log,
  Abs,
  Square,
  Step,           ///< 1 where x > 0, else 0 (derivative of relu)
  Sign,           ///< -1, 0 or 1 (derivative of abs, as in PyTorch)
  LeakyReluDeriv, ///< 1 where x > 0, else `alpha`
  GeluDeriv,      ///< derivative of the tanh-approximated gelu
  // Row-wise over the last dimension.
  Softmax,
  LogSoftmax,
  LayerNorm,      ///< (x - mean) / sqrt(var + eps), no affine part (see docs)
  SoftmaxGrad,    ///< (y, g) -> y * (g - sum(g * y)), y = softmax(x)
  LogSoftmaxGrad, ///< (y, g) -> g - exp(y) * sum(g), y = log_softmax(x)
  LayerNormGrad,  ///< (x, g) -> gradient of LayerNorm(x) w.r.t. x, `eps`
  // Randomness: inverted dropout with a counter-based hash (see Random.h).
  Dropout, ///< (x, step) -> x * keep(seed, step, i) / (1 - rate)
  // Embedding.
  Gather,     ///< (table[V, D], ids i32[..]) -> [.., D]
  GatherGrad, ///< (g[.., D], ids i32[..]) -> scatter-add into [size, D]
  // Shapes.
  Reshape,       ///< same elements per row, new per-row `dims`
  BroadcastLike, ///< (x, like) -> x broadcast to like's type (element-wise rule)
  ExpandLast,    ///< x[..] -> [.., size], repeating along a new last dimension
  // Reductions.
  ReduceSum,    ///< over `axis`
  ReduceMean,   ///< over `axis`
  ElementCount, ///< (x) -> f32 scalar: number of elements of x at run time
  // Masked losses: mean over labelled targets (NaN = missing); scalar result.
  Loss,     ///< (pred, target) with `loss`, `delta`
  LossGrad, ///< (pred, target, g) -> d loss / d pred, scaled by scalar g
};

/// Which elements a reduction combines.
enum class ReduceAxis {
  All,     ///< every element -> f32[]
  Last,    ///< the last dimension -> the type without it
  Leading, ///< every dimension but the last -> static [last]
};

/// The loss functions. Cross-entropy reads class ids stored as f32 (NaN =
/// missing), one per row of logits; the others compare element by element.
enum class LossKind { Mse, Mae, Huber, BceLogits, CrossEntropy };

/// Attributes; each kind reads only the fields its comment in OpKind names.
struct Attrs {
  double value = 0;  ///< Constant
  double alpha = 0;  ///< LeakyRelu, LeakyReluDeriv
  double eps = 1e-5; ///< LayerNorm, LayerNormGrad
  double rate = 0;   ///< Dropout
  uint64_t seed = 0; ///< Dropout
  double delta = 1;  ///< Loss/LossGrad with Huber
  int64_t size = 0;  ///< ExpandLast, GatherGrad
  ReduceAxis axis = ReduceAxis::All;
  LossKind loss = LossKind::Mse;
  std::vector<int64_t> dims; ///< Reshape: the new per-row (or whole, if static) dims

  bool operator==(const Attrs &) const = default;
};

/// Lower-case mnemonic used by the printer ("linear", "log_softmax", ...).
const char *opName(OpKind kind);
/// "all", "last" or "leading".
const char *axisName(ReduceAxis axis);
/// "mse", "mae", "huber", "bce_logits" or "cross_entropy".
const char *lossKindName(LossKind loss);

/// Operand count bounds for a kind: {min, max}.
std::pair<int, int> operandCount(OpKind kind);
/// Element-wise binary kinds (Add, Sub, Mul, Div).
bool isElementwiseBinary(OpKind kind);
/// Element-wise unary kinds (Neg .. GeluDeriv).
bool isElementwiseUnary(OpKind kind);
/// The attributes a kind reads, as " {alpha = 0.01}", or "" when it reads none.
std::string formatAttrs(OpKind kind, const Attrs &attrs);

} // namespace mtl::ir
