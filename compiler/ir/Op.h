// Op.h: the operation kinds of the graph IR, their attributes and arity.
//
// Ops are data, not classes: an OpKind, operand value ids and a flat attribute
// record. Passes and code generators switch over OpKind; the registry,
// Ops.def, says how each kind is spelled, how many operands it takes, its
// class and whether it can be differentiated.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mtl::ir {

/// The op kinds, in the order of Ops.def (where each is described).
enum class OpKind {
#define OP(name, mnemonic, minOps, maxOps, cls, diff) name,
#include "ir/Ops.def"
#undef OP
};

/// How many op kinds there are.
inline constexpr int kNumOpKinds = 0
#define OP(name, mnemonic, minOps, maxOps, cls, diff) +1
#include "ir/Ops.def"
#undef OP
    ;

/// The families of Ops.def's `class` column.
enum class OpClass {
  Leaf,
  Dense,
  Binary,
  Unary,
  Rowwise,
  Random,
  Embedding,
  Shape,
  Reduce,
  Loss,
  Window,
  Channel
};

/// One row of the registry.
struct OpInfo {
  const char *name; ///< lower-case mnemonic, as printed and parsed
  int minOperands, maxOperands;
  OpClass opClass;
  bool differentiable; ///< autodiff has an adjoint (false: ops only gradients contain)
};

/// The registry row of `kind`.
const OpInfo &opInfo(OpKind kind);

/// `case` labels of every OpClass::Binary and every OpClass::Unary kind, for
/// exhaustive switches whose code handles these classes before the switch.
/// Op.cpp checks at compile time that they list exactly those classes.
#define MTL_CASE_BINARY_OPS                                                                        \
  case OpKind::Add:                                                                                \
  case OpKind::Sub:                                                                                \
  case OpKind::Mul:                                                                                \
  case OpKind::Div:
#define MTL_CASE_UNARY_OPS                                                                         \
  case OpKind::Neg:                                                                                \
  case OpKind::Relu:                                                                               \
  case OpKind::LeakyRelu:                                                                          \
  case OpKind::Gelu:                                                                               \
  case OpKind::Tanh:                                                                               \
  case OpKind::Sigmoid:                                                                            \
  case OpKind::Exp:                                                                                \
  case OpKind::Log:                                                                                \
  case OpKind::Abs:                                                                                \
  case OpKind::Square:                                                                             \
  case OpKind::Sqrt:                                                                               \
  case OpKind::Step:                                                                               \
  case OpKind::Sign:                                                                               \
  case OpKind::LeakyReluDeriv:                                                                     \
  case OpKind::GeluDeriv:

/// Which elements a reduction combines.
enum class ReduceAxis {
  All,     ///< every element -> f32[]
  Last,    ///< the last dimension -> the type without it
  Leading, ///< every dimension but the last -> static [last]
};

/// The loss functions (Ops.def).
enum class LossKind {
#define LOSS(name, mnemonic) name,
#include "ir/Ops.def"
#undef LOSS
};

/// An activation fused into the op beside it (passes/Activations.h): a
/// product (linear, matmul_left) or a batch_norm applies it to each
/// finished element after its bias, so its result is the activation's; a
/// max_pool_grad multiplies its gradient by the activation's derivative at
/// the pool's input (the activation before the pool), as a separate mul by
/// step(x) would.
enum class Activation {
  None,
  Relu, ///< x > 0 ? x : 0, as the relu op; derivative step(x)
};

/// Attributes; each kind reads only the fields its comment in OpKind names.
struct Attrs {
  double value = 0;  ///< Constant
  double alpha = 0;  ///< LeakyRelu, LeakyReluDeriv
  double eps = 1e-5; ///< LayerNorm, LayerNormGrad
  double rate = 0;   ///< Dropout
  uint64_t seed = 0; ///< Dropout
  double delta = 1;  ///< Loss/LossGrad with Huber
  int64_t size = 0;  ///< ExpandLast, GatherGrad, Slice, SliceGrad; BatchNorm: values per channel
  int64_t begin = 0; ///< Slice, SliceGrad: the first index of the last dimension
  ReduceAxis axis = ReduceAxis::All;
  LossKind loss = LossKind::Mse;
  std::vector<int64_t> dims;                ///< Reshape: the new per-row (or whole, if static) dims
  int64_t kernel = 1;                       ///< Window kinds: the side of a window
  int64_t stride = 1;                       ///< Window kinds: the step between windows
  int64_t padding = 0;                      ///< Im2Col, Im2ColGrad: zeros on each side of H and W
  Activation activation = Activation::None; ///< takesActivation

  bool operator==(const Attrs &) const = default;
};

/// Lower-case mnemonic used by the printer ("linear", "log_softmax", ...).
const char *opName(OpKind kind);
/// "all", "last" or "leading".
const char *axisName(ReduceAxis axis);
/// "mse", "mae", "huber", "bce_logits" or "cross_entropy".
const char *lossKindName(LossKind loss);

/// "relu" (Activation::None has no name: it is never written).
const char *activationName(Activation activation);
/// Whether a kind may carry an activation (Linear, MatMulLeft, BatchNorm, MaxPoolGrad);
/// written `activation = relu` after its other attributes when it does,
/// nothing when not.
bool takesActivation(OpKind kind);

/// Operand count bounds for a kind: {min, max}.
std::pair<int, int> operandCount(OpKind kind);
/// Input, Param and Buffer: the named leaves, whose storage the caller provides.
bool isNamedLeaf(OpKind kind);
/// Element-wise binary kinds (Add, Sub, Mul, Div).
bool isElementwiseBinary(OpKind kind);
/// Element-wise unary kinds (Neg .. GeluDeriv).
bool isElementwiseUnary(OpKind kind);
/// Stops the compiler with an internal error: `kind` reached `where`, which
/// the registry says it cannot (a bug in mtlc, never a user's mistake).
[[noreturn]] void unexpectedOp(OpKind kind, const char *where);
/// The same for a loss kind.
[[noreturn]] void unexpectedLoss(LossKind loss, const char *where);
/// The attributes a kind reads, as " {alpha = 0.01}", or "" when it reads none.
std::string formatAttrs(OpKind kind, const Attrs &attrs);

} // namespace mtl::ir
