// Op.cpp: the registry (Ops.def) as tables, and attribute printing of the IR's op kinds.
#include "ir/Op.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace mtl::ir {

namespace {

constexpr OpInfo kOps[] = {
#define OP(name, mnemonic, minOps, maxOps, cls, diff)                                              \
  {mnemonic, minOps, maxOps, OpClass::cls, #diff[0] == 'Y'},
#include "ir/Ops.def"
#undef OP
};
static_assert(sizeof(kOps) / sizeof(kOps[0]) == kNumOpKinds);

constexpr const char *kLossNames[] = {
#define LOSS(name, mnemonic) mnemonic,
#include "ir/Ops.def"
#undef LOSS
};

// The case-label macros of Op.h list exactly the Binary and the Unary kinds.
constexpr bool inMacro(OpKind kind, OpClass cls) {
  switch (kind) {
    MTL_CASE_BINARY_OPS
    return cls == OpClass::Binary;
    MTL_CASE_UNARY_OPS
    return cls == OpClass::Unary;
  default:
    return cls != OpClass::Binary && cls != OpClass::Unary;
  }
}
constexpr bool macrosMatchRegistry() {
  for (int k = 0; k < kNumOpKinds; ++k)
    if (!inMacro(static_cast<OpKind>(k), kOps[k].opClass))
      return false;
  return true;
}
static_assert(macrosMatchRegistry(),
              "MTL_CASE_BINARY_OPS / MTL_CASE_UNARY_OPS differ from Ops.def");

} // namespace

const OpInfo &opInfo(OpKind kind) { return kOps[static_cast<int>(kind)]; }

const char *opName(OpKind kind) { return opInfo(kind).name; }

const char *axisName(ReduceAxis axis) {
  switch (axis) {
  case ReduceAxis::All:
    return "all";
  case ReduceAxis::Last:
    return "last";
  case ReduceAxis::Leading:
    return "leading";
  }
  return "?";
}

const char *lossKindName(LossKind loss) { return kLossNames[static_cast<int>(loss)]; }

bool isNamedLeaf(OpKind kind) {
  return kind == OpKind::Input || kind == OpKind::Param || kind == OpKind::Buffer;
}

bool isElementwiseBinary(OpKind kind) { return opInfo(kind).opClass == OpClass::Binary; }

bool isElementwiseUnary(OpKind kind) { return opInfo(kind).opClass == OpClass::Unary; }

std::pair<int, int> operandCount(OpKind kind) {
  return {opInfo(kind).minOperands, opInfo(kind).maxOperands};
}

void unexpectedOp(OpKind kind, const char *where) {
  std::fprintf(stderr, "mtlc: internal error: op '%s' reached %s\n", opName(kind), where);
  std::abort();
}

void unexpectedLoss(LossKind loss, const char *where) {
  std::fprintf(stderr, "mtlc: internal error: loss '%s' reached %s\n", lossKindName(loss), where);
  std::abort();
}

const char *activationName(Activation activation) {
  return activation == Activation::Relu ? "relu" : "none";
}

bool takesActivation(OpKind kind) {
  return kind == OpKind::Linear || kind == OpKind::MatMulLeft || kind == OpKind::BatchNorm ||
         kind == OpKind::MaxPoolGrad;
}

namespace {
// The attributes a kind reads but its activation.
std::string kindAttrs(OpKind kind, const Attrs &a) {
  switch (kind) {
  case OpKind::Constant:
    return fmt::format(" {{value = {}}}", a.value);
  case OpKind::LeakyRelu:
  case OpKind::LeakyReluDeriv:
    return fmt::format(" {{alpha = {}}}", a.alpha);
  case OpKind::LayerNorm:
  case OpKind::LayerNormGrad:
    return fmt::format(" {{eps = {}}}", a.eps);
  case OpKind::Dropout:
    return fmt::format(" {{rate = {}, seed = {}}}", a.rate, a.seed);
  case OpKind::GatherGrad:
  case OpKind::ExpandLast:
  case OpKind::BatchNorm:
    return fmt::format(" {{size = {}}}", a.size);
  case OpKind::Slice:
  case OpKind::SliceGrad:
    return fmt::format(" {{begin = {}, size = {}}}", a.begin, a.size);
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
    return fmt::format(" {{axis = {}}}", axisName(a.axis));
  case OpKind::Im2Col:
  case OpKind::Im2ColGrad:
    return fmt::format(" {{kernel = {}, stride = {}, padding = {}}}", a.kernel, a.stride,
                       a.padding);
  case OpKind::MaxPool:
  case OpKind::MaxPoolGrad:
  case OpKind::AvgPool:
  case OpKind::AvgPoolGrad:
    return fmt::format(" {{kernel = {}, stride = {}}}", a.kernel, a.stride);
  case OpKind::Loss:
  case OpKind::LossGrad:
    if (a.loss == LossKind::Huber)
      return fmt::format(" {{loss = huber, delta = {}}}", a.delta);
    return fmt::format(" {{loss = {}}}", lossKindName(a.loss));
  case OpKind::Input:
  case OpKind::Param:
  case OpKind::Buffer:
  case OpKind::TrainSelect:
  case OpKind::Concat:
  case OpKind::Linear:
  case OpKind::MatMul:
  case OpKind::MatMulTN:
  case OpKind::MatMulLeft:
  case OpKind::MatMulSumNT:
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Mul:
  case OpKind::Div:
  case OpKind::Neg:
  case OpKind::Relu:
  case OpKind::Gelu:
  case OpKind::Tanh:
  case OpKind::Sigmoid:
  case OpKind::Exp:
  case OpKind::Log:
  case OpKind::Abs:
  case OpKind::Square:
  case OpKind::Sqrt:
  case OpKind::Step:
  case OpKind::Sign:
  case OpKind::GeluDeriv:
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
  case OpKind::SoftmaxGrad:
  case OpKind::LogSoftmaxGrad:
  case OpKind::Gather:
  case OpKind::Reshape:
  case OpKind::Transpose:
  case OpKind::BroadcastLike:
  case OpKind::ElementCount:
    return "";
  }
  return "";
}
} // namespace

std::string formatAttrs(OpKind kind, const Attrs &a) {
  std::string text = kindAttrs(kind, a);
  if (!takesActivation(kind) || a.activation == Activation::None)
    return text;
  const std::string activation = std::string("activation = ") + activationName(a.activation);
  return text.empty() ? " {" + activation + "}"
                      : text.substr(0, text.size() - 1) + ", " + activation + "}";
}

} // namespace mtl::ir
