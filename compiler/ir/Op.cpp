// Op.cpp: names, arities and attribute printing of the IR's op kinds.
#include "ir/Op.h"

#include <fmt/format.h>

namespace mtl::ir {

const char *opName(OpKind kind) {
  switch (kind) {
  case OpKind::Input:
    return "input";
  case OpKind::Param:
    return "param";
  case OpKind::Constant:
    return "constant";
  case OpKind::Linear:
    return "linear";
  case OpKind::MatMul:
    return "matmul";
  case OpKind::MatMulTN:
    return "matmul_tn";
  case OpKind::Add:
    return "add";
  case OpKind::Sub:
    return "sub";
  case OpKind::Mul:
    return "mul";
  case OpKind::Div:
    return "div";
  case OpKind::Neg:
    return "neg";
  case OpKind::Relu:
    return "relu";
  case OpKind::LeakyRelu:
    return "leaky_relu";
  case OpKind::Gelu:
    return "gelu";
  case OpKind::Tanh:
    return "tanh";
  case OpKind::Sigmoid:
    return "sigmoid";
  case OpKind::Exp:
    return "exp";
  case OpKind::Log:
    return "log";
  case OpKind::Abs:
    return "abs";
  case OpKind::Square:
    return "square";
  case OpKind::Step:
    return "step";
  case OpKind::Sign:
    return "sign";
  case OpKind::LeakyReluDeriv:
    return "leaky_relu_deriv";
  case OpKind::GeluDeriv:
    return "gelu_deriv";
  case OpKind::Softmax:
    return "softmax";
  case OpKind::LogSoftmax:
    return "log_softmax";
  case OpKind::LayerNorm:
    return "layer_norm";
  case OpKind::SoftmaxGrad:
    return "softmax_grad";
  case OpKind::LogSoftmaxGrad:
    return "log_softmax_grad";
  case OpKind::LayerNormGrad:
    return "layer_norm_grad";
  case OpKind::Dropout:
    return "dropout";
  case OpKind::Gather:
    return "gather";
  case OpKind::GatherGrad:
    return "gather_grad";
  case OpKind::Reshape:
    return "reshape";
  case OpKind::BroadcastLike:
    return "broadcast_like";
  case OpKind::ExpandLast:
    return "expand_last";
  case OpKind::ReduceSum:
    return "reduce_sum";
  case OpKind::ReduceMean:
    return "reduce_mean";
  case OpKind::ElementCount:
    return "element_count";
  case OpKind::Loss:
    return "loss";
  case OpKind::LossGrad:
    return "loss_grad";
  }
  return "?";
}

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

const char *lossKindName(LossKind loss) {
  switch (loss) {
  case LossKind::Mse:
    return "mse";
  case LossKind::Mae:
    return "mae";
  case LossKind::Huber:
    return "huber";
  case LossKind::BceLogits:
    return "bce_logits";
  case LossKind::CrossEntropy:
    return "cross_entropy";
  }
  return "?";
}

bool isElementwiseBinary(OpKind kind) {
  return kind == OpKind::Add || kind == OpKind::Sub || kind == OpKind::Mul || kind == OpKind::Div;
}

bool isElementwiseUnary(OpKind kind) {
  return static_cast<int>(kind) >= static_cast<int>(OpKind::Neg) &&
         static_cast<int>(kind) <= static_cast<int>(OpKind::GeluDeriv);
}

std::pair<int, int> operandCount(OpKind kind) {
  if (isElementwiseUnary(kind))
    return {1, 1};
  if (isElementwiseBinary(kind))
    return {2, 2};
  switch (kind) {
  case OpKind::Input:
  case OpKind::Param:
  case OpKind::Constant:
    return {0, 0};
  case OpKind::Linear:
    return {2, 3};
  case OpKind::LossGrad:
    return {3, 3};
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
  case OpKind::LayerNorm:
  case OpKind::Reshape:
  case OpKind::ExpandLast:
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
  case OpKind::ElementCount:
    return {1, 1};
  default:
    return {2, 2};
  }
}

std::string formatAttrs(OpKind kind, const Attrs &a) {
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
    return fmt::format(" {{size = {}}}", a.size);
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
    return fmt::format(" {{axis = {}}}", axisName(a.axis));
  case OpKind::Loss:
  case OpKind::LossGrad:
    if (a.loss == LossKind::Huber)
      return fmt::format(" {{loss = huber, delta = {}}}", a.delta);
    return fmt::format(" {{loss = {}}}", lossKindName(a.loss));
  default:
    return "";
  }
}

} // namespace mtl::ir
