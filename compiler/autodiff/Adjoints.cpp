// Adjoints.cpp: per-kind gradient rules, written with the IR's own ops so the
// backward pass is an ordinary graph that later passes and codegen handle alike.
#include "autodiff/Adjoints.h"

#include <fmt/format.h>

namespace mtl::autodiff {

using ir::OpKind;
using ir::ReduceAxis;
using ir::ValueId;

ValueId unbroadcast(ir::Builder &b, ValueId grad, const ir::TensorType &target) {
  const ir::TensorType &from = b.graph().type(grad);
  if (from == target)
    return grad;
  if (target.isScalar())
    return b.reduceSum(grad, ReduceAxis::All);
  return b.reduceSum(grad, ReduceAxis::Leading); // target is a static [last]
}

namespace {

/// d mean / d x: the broadcast adjoint divided by the number of reduced
/// elements, which depends on the batch size when x is batched.
ValueId meanAdjoint(ir::Builder &b, const ir::Op &op, ValueId x, ValueId g) {
  const ir::TensorType tx = b.graph().type(x); // a copy: building appends ops
  double last = static_cast<double>(tx.lastDim());
  if (op.attrs.axis == ReduceAxis::Last)
    return b.scale(b.expandLast(g, tx.lastDim()), 1 / last);
  ValueId spread = b.broadcastLike(g, x);
  if (!tx.batched) {
    double per = static_cast<double>(tx.rowElements());
    if (op.attrs.axis == ReduceAxis::Leading)
      per /= last;
    return b.scale(spread, 1 / per);
  }
  ValueId count = b.elementCount(x);
  if (op.attrs.axis == ReduceAxis::Leading)
    count = b.scale(count, 1 / last);
  return b.div(spread, count);
}

/// g * f'(x) for element-wise unary kinds; -1 where f' is zero almost everywhere.
ValueId unaryAdjoint(ir::Builder &b, const ir::Op &op, ValueId y, ValueId g) {
  ValueId x = op.operands[0];
  switch (op.kind) {
  case OpKind::Neg:
    return b.unary(OpKind::Neg, g);
  case OpKind::Relu: // from the output (y > 0 exactly where x > 0), so x need not be kept
    return b.mul(g, b.unary(OpKind::Step, y));
  case OpKind::LeakyRelu: {
    ir::Attrs a;
    a.alpha = op.attrs.alpha;
    return b.mul(g, b.create(OpKind::LeakyReluDeriv, {x}, a));
  }
  case OpKind::Gelu:
    return b.mul(g, b.unary(OpKind::GeluDeriv, x));
  case OpKind::Tanh:
    return b.mul(g, b.sub(b.constant(1), b.unary(OpKind::Square, y)));
  case OpKind::Sigmoid:
    return b.mul(g, b.mul(y, b.sub(b.constant(1), y)));
  case OpKind::Exp:
    return b.mul(g, y);
  case OpKind::Log:
    return b.div(g, x);
  case OpKind::Abs:
    return b.mul(g, b.unary(OpKind::Sign, x));
  case OpKind::Square:
    return b.scale(b.mul(g, x), 2);
  case OpKind::Sqrt:
    return b.div(g, b.scale(y, 2));
  case OpKind::Step:
  case OpKind::Sign:
  case OpKind::LeakyReluDeriv:
    return -1; // zero almost everywhere
  default:     // the caller passes only differentiable OpClass::Unary kinds
    ir::unexpectedOp(op.kind, "the unary adjoints");
  }
}

/// batch_norm's terms. Its mean and inv_std are the batch statistics of x
/// (lower/BatchNorm.cpp makes them so in a training step, the only kind
/// that is differentiated), and the term for x includes their dependence on
/// it, so they get none. Over the n values of a channel, with
/// xhat = (x - mean) inv_std, db = Σ g and dw = Σ g xhat:
///   dx = inv_std w (g - db / n - xhat dw / n),
/// two sums and one element-wise pass instead of the chain rule through the
/// statistics' sums.
void batchNormAdjoint(ir::Builder &b, const ir::Op &op, ValueId g, bool wantX, bool wantWeight,
                      bool wantBias, AdjointTerms &out) {
  const ValueId x = op.operands[0], mean = op.operands[1], invStd = op.operands[2],
                weight = op.operands[3];
  const int64_t size = op.attrs.size, channels = b.graph().type(mean).dims[0];
  auto spread = [&](ValueId v) { // [C] along a row: each channel's value `size` times
    return size == 1 ? v : b.reshape(b.expandLast(v, size), {channels * size});
  };
  auto perChannel = [&](ValueId t) { // Σ over the batch and each channel's values: [C]
    ValueId sums = b.reduceSum(t, ReduceAxis::Leading);
    return size == 1 ? sums : b.reduceSum(b.reshape(sums, {channels, size}), ReduceAxis::Last);
  };
  const ValueId xhat = b.mul(b.sub(x, spread(mean)), spread(invStd));
  const ValueId db = perChannel(g), dw = perChannel(b.mul(g, xhat));
  if (wantWeight)
    out.terms.emplace_back(3, dw);
  if (wantBias)
    out.terms.emplace_back(4, db);
  if (!wantX)
    return;
  const ValueId n = b.div(b.elementCount(x), b.constant(static_cast<double>(channels)));
  ValueId centred = b.sub(b.sub(g, spread(b.div(db, n))), b.mul(xhat, spread(b.div(dw, n))));
  out.terms.emplace_back(0, b.mul(centred, spread(b.mul(invStd, weight))));
}

} // namespace

AdjointTerms adjoint(ir::Builder &b, ValueId id, ValueId g, const std::vector<bool> &wanted) {
  const ir::Op op = b.graph().op(id); // a copy: building appends to the op list
  AdjointTerms out;
  auto want = [&](int k) { return k < static_cast<int>(wanted.size()) && wanted[k]; };
  auto add = [&](int k, ValueId term) { out.terms.emplace_back(k, term); };
  auto operand = [&](int k) { return op.operands[k]; };
  auto typeOf = [&](int k) { return b.graph().type(op.operands[k]); };

  if (!ir::opInfo(op.kind).differentiable) {
    out.error = fmt::format("cannot differentiate '{}': second derivatives are not supported",
                            ir::opName(op.kind));
    return out;
  }
  if (op.attrs.activation != ir::Activation::None) {
    out.error = fmt::format("cannot differentiate '{}' with an activation: passes fuse it after "
                            "differentiation",
                            ir::opName(op.kind));
    return out;
  }
  if (ir::isElementwiseUnary(op.kind)) {
    ValueId t = want(0) ? unaryAdjoint(b, op, id, g) : -1;
    if (t >= 0)
      add(0, t);
    return out;
  }
  switch (op.kind) {
  case OpKind::Input:
  case OpKind::Param:
  case OpKind::Buffer:
  case OpKind::Constant:
  case OpKind::ElementCount:
    return out;
  case OpKind::Add:
    if (want(0))
      add(0, unbroadcast(b, g, typeOf(0)));
    if (want(1))
      add(1, unbroadcast(b, g, typeOf(1)));
    return out;
  case OpKind::Sub:
    if (want(0))
      add(0, unbroadcast(b, g, typeOf(0)));
    if (want(1))
      add(1, unbroadcast(b, b.unary(OpKind::Neg, g), typeOf(1)));
    return out;
  case OpKind::Mul:
    if (want(0))
      add(0, unbroadcast(b, b.mul(g, operand(1)), typeOf(0)));
    if (want(1))
      add(1, unbroadcast(b, b.mul(g, operand(0)), typeOf(1)));
    return out;
  case OpKind::Div: // d(a/b)/db = -(a/b)/b
    if (want(0))
      add(0, unbroadcast(b, b.div(g, operand(1)), typeOf(0)));
    if (want(1))
      add(1, unbroadcast(b, b.unary(OpKind::Neg, b.div(b.mul(g, id), operand(1))), typeOf(1)));
    return out;
  case OpKind::Linear:
    if (want(0))
      add(0, b.matmul(g, operand(1)));
    if (want(1))
      add(1, b.matmulTN(g, operand(0)));
    if (want(2))
      add(2, b.reduceSum(g, ReduceAxis::Leading));
    return out;
  case OpKind::MatMul:
    if (want(0))
      add(0, b.linear(g, operand(1)));
    if (want(1))
      add(1, b.matmulTN(operand(0), g));
    return out;
  case OpKind::MatMulTN:
    if (want(0))
      add(0, b.linear(operand(1), g));
    if (want(1))
      add(1, b.matmul(operand(0), g));
    return out;
  case OpKind::MatMulLeft: // y_l = w x_l + b; dw = sum_l g_l x_l^T = (sum_l x_l g_l^T)^T
    // (x_l, k rows, is the larger operand: the product copies the other one's
    // blocks transposed as it goes, bench/README.md "Findings")
    if (want(0))
      add(0, b.transpose(b.matmulSumNT(operand(1), g)));
    if (want(1))
      add(1, b.matmulLeft(b.transpose(operand(0)), g));
    if (want(2))
      add(2, b.reduceSum(b.reduceSum(g, ReduceAxis::Last), ReduceAxis::Leading));
    return out;
  case OpKind::MatMulSumNT: // c = sum_l a_l b_l^T; da_l = g b_l, db_l = g^T a_l
    if (want(0))
      add(0, b.matmulLeft(g, operand(1)));
    if (want(1))
      add(1, b.matmulLeft(b.transpose(g), operand(0)));
    return out;
  case OpKind::Softmax:
    if (want(0))
      add(0, b.create(OpKind::SoftmaxGrad, {id, g}));
    return out;
  case OpKind::LogSoftmax:
    if (want(0))
      add(0, b.create(OpKind::LogSoftmaxGrad, {id, g}));
    return out;
  case OpKind::LayerNorm:
    if (want(0))
      add(0, b.create(OpKind::LayerNormGrad, {operand(0), g}, op.attrs));
    return out;
  case OpKind::BatchNorm:
    batchNormAdjoint(b, op, g, want(0), want(3), want(4), out);
    return out;
  case OpKind::Dropout: // linear in x with the same mask: re-derive it
    if (want(0))
      add(0, b.create(OpKind::Dropout, {g, operand(1)}, op.attrs));
    return out;
  case OpKind::Gather: {
    if (!want(0))
      return out;
    ir::Attrs a;
    a.size = typeOf(0).dims[0];
    add(0, b.create(OpKind::GatherGrad, {g, operand(1)}, a));
    return out;
  }
  case OpKind::Reshape:
    if (want(0))
      add(0, b.reshape(g, typeOf(0).dims));
    return out;
  case OpKind::BroadcastLike:
    if (want(0))
      add(0, unbroadcast(b, g, typeOf(0)));
    return out;
  case OpKind::ExpandLast:
    if (want(0))
      add(0, b.reduceSum(g, ReduceAxis::Last));
    return out;
  case OpKind::Concat: { // each operand's part of the gradient's last dimension
    int64_t at = 0;
    for (int k = 0; k < static_cast<int>(op.operands.size()); ++k) {
      const int64_t width = typeOf(k).lastDim();
      if (want(k))
        add(k, b.slice(g, at, width));
      at += width;
    }
    return out;
  }
  case OpKind::Slice:
    if (want(0))
      add(0, b.sliceGrad(g, operand(0), op.attrs.begin, op.attrs.size));
    return out;
  case OpKind::Transpose:
    if (want(0))
      add(0, b.transpose(g));
    return out;
  case OpKind::TrainSelect: // gradients are of a training step, which reads operand 0
    if (want(0))
      add(0, g);
    return out;
  case OpKind::Im2Col:
  case OpKind::MaxPool:
  case OpKind::AvgPool: { // each (g, x) -> x's type; see Ops.def
    const OpKind grad = op.kind == OpKind::Im2Col    ? OpKind::Im2ColGrad
                        : op.kind == OpKind::MaxPool ? OpKind::MaxPoolGrad
                                                     : OpKind::AvgPoolGrad;
    if (want(0))
      add(0, b.window(grad, {g, operand(0)}, op.attrs.kernel, op.attrs.stride, op.attrs.padding));
    return out;
  }
  case OpKind::ReduceSum:
    if (!want(0))
      return out;
    if (op.attrs.axis == ReduceAxis::Last)
      add(0, b.expandLast(g, typeOf(0).lastDim()));
    else
      add(0, b.broadcastLike(g, operand(0)));
    return out;
  case OpKind::ReduceMean:
    if (want(0))
      add(0, meanAdjoint(b, op, operand(0), g));
    return out;
  case OpKind::Loss:
    if (want(0))
      add(0, b.create(OpKind::LossGrad, {operand(0), operand(1), g}, op.attrs));
    return out;
    MTL_CASE_UNARY_OPS // handled above
        case OpKind::SoftmaxGrad : case OpKind::LogSoftmaxGrad : case OpKind::LayerNormGrad
        : case OpKind::GatherGrad : case OpKind::LossGrad : case OpKind::SliceGrad
        : case OpKind::Im2ColGrad : case OpKind::MaxPoolGrad : case OpKind::AvgPoolGrad
        : break; // not differentiable: refused above
  }
  ir::unexpectedOp(op.kind, "the adjoints");
}

} // namespace mtl::autodiff
