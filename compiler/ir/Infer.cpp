// Infer.cpp: result types of every op kind, with a message for each way an op
// can be ill-typed (the Verifier turns these into diagnostics).
#include "ir/Infer.h"

#include "ir/Window.h"

#include <fmt/format.h>

#include <algorithm>

namespace mtl::ir {

namespace {

Inferred fail(std::string message) { return {std::nullopt, std::move(message)}; }
Inferred ok(TensorType type) { return {std::move(type), {}}; }

bool isMatrix(const TensorType &t) { return !t.batched && t.dims.size() == 2; }
bool isVector(const TensorType &t) { return !t.batched && t.dims.size() == 1; }

TensorType withLast(TensorType t, int64_t last) {
  t.dims.back() = last;
  return t;
}

/// Same batch-ness and dimensions except the last.
bool sameLeading(const TensorType &a, const TensorType &b) {
  return a.batched == b.batched && a.dims.size() == b.dims.size() &&
         std::equal(a.dims.begin(), a.dims.end() - 1, b.dims.begin());
}

bool positiveDims(const TensorType &t) {
  for (int64_t d : t.dims)
    if (d <= 0)
      return false;
  return true;
}

Inferred inferLoss(const Op &op, const TensorType &pred, const TensorType &target) {
  if (pred.dtype != DType::F32 || target.dtype != DType::F32)
    return fail("loss operands must be f32");
  if (pred.batched != target.batched)
    return fail("loss prediction and target must both be batched or both static");
  if (op.attrs.loss == LossKind::Huber && !(op.attrs.delta > 0))
    return fail("huber delta must be positive");
  if (op.attrs.loss == LossKind::CrossEntropy) {
    if (pred.dims.empty())
      return fail("cross-entropy logits need a class dimension");
    if (target.rowElements() * pred.lastDim() != pred.rowElements())
      return fail(fmt::format("cross-entropy target {} must hold one class id per row of {}",
                              formatType(target), formatType(pred)));
  } else if (pred.rowElements() != target.rowElements()) {
    return fail(fmt::format("loss target {} does not match prediction {}", formatType(target),
                            formatType(pred)));
  }
  return ok(TensorType::scalar());
}

} // namespace

bool broadcastsTo(const TensorType &small, const TensorType &big) {
  if (small == big || small.isScalar())
    return true;
  return isVector(small) && !big.dims.empty() && small.dims[0] == big.lastDim();
}

Inferred inferType(const Graph &g, const Op &op) {
  auto [lo, hi] = operandCount(op.kind);
  int n = static_cast<int>(op.operands.size());
  if (n < lo || n > hi)
    return fail(fmt::format("'{}' takes {} operands, not {}", opName(op.kind),
                            lo == hi ? std::to_string(lo) : fmt::format("{} to {}", lo, hi), n));
  for (ValueId v : op.operands)
    if (!g.contains(v))
      return fail(fmt::format("operand %{} does not exist", v));
  auto t = [&](int i) -> const TensorType & { return g.type(op.operands[i]); };
  auto allF32 = [&] {
    for (int i = 0; i < n; ++i)
      if (t(i).dtype != DType::F32)
        return false;
    return true;
  };
  if (op.kind != OpKind::Gather && op.kind != OpKind::GatherGrad && op.kind != OpKind::Dropout &&
      op.kind != OpKind::Reshape && op.kind != OpKind::ElementCount && !allF32())
    return fail(fmt::format("'{}' needs f32 operands", opName(op.kind)));

  if (isElementwiseUnary(op.kind))
    return ok(t(0));
  if (isElementwiseBinary(op.kind)) {
    if (broadcastsTo(t(1), t(0)))
      return ok(t(0));
    if (broadcastsTo(t(0), t(1)))
      return ok(t(1));
    return fail(fmt::format("cannot broadcast {} with {}", formatType(t(0)), formatType(t(1))));
  }
  switch (op.kind) {
  case OpKind::Input:
    if (op.name.empty() || !positiveDims(op.type))
      return fail("an input needs a name and positive dimensions");
    return ok(op.type);
  case OpKind::Param:
  case OpKind::Buffer:
    if (op.name.empty() || op.type.batched || op.type.dtype != DType::F32 || !positiveDims(op.type))
      return fail(fmt::format("a {} needs a name and a static f32 shape", opName(op.kind)));
    return ok(op.type);
  case OpKind::Constant:
    return ok(TensorType::scalar());
  case OpKind::Linear:
    if (t(0).dims.empty() || !isMatrix(t(1)) || t(1).dims[1] != t(0).lastDim())
      return fail(fmt::format("linear: weight {} does not fit input {}", formatType(t(1)),
                              formatType(t(0))));
    if (n == 3 && !(isVector(t(2)) && t(2).dims[0] == t(1).dims[0]))
      return fail(fmt::format("linear: bias {} does not fit weight {}", formatType(t(2)),
                              formatType(t(1))));
    return ok(withLast(t(0), t(1).dims[0]));
  case OpKind::MatMul:
    if (t(0).dims.empty() || !isMatrix(t(1)) || t(1).dims[0] != t(0).lastDim())
      return fail(fmt::format("matmul: {} does not fit {}", formatType(t(1)), formatType(t(0))));
    return ok(withLast(t(0), t(1).dims[1]));
  case OpKind::MatMulTN:
    if (t(0).dims.empty() || !sameLeading(t(0), t(1)))
      return fail(fmt::format("matmul_tn: {} and {} need equal leading dimensions",
                              formatType(t(0)), formatType(t(1))));
    return ok(TensorType::fixed({t(0).lastDim(), t(1).lastDim()}));
  case OpKind::MatMulLeft: {
    const size_t d = t(1).dims.size();
    if (!isMatrix(t(0)) || d < 2 || t(1).dims[d - 2] != t(0).dims[1])
      return fail(
          fmt::format("matmul_left: {} does not fit {}", formatType(t(0)), formatType(t(1))));
    if (n == 3 && !(isVector(t(2)) && t(2).dims[0] == t(0).dims[0]))
      return fail(
          fmt::format("matmul_left: bias {} does not fit {}", formatType(t(2)), formatType(t(0))));
    TensorType r = t(1);
    r.dims[d - 2] = t(0).dims[0];
    return ok(r);
  }
  case OpKind::MatMulSumNT: {
    const size_t d = t(0).dims.size();
    if (d < 2 || t(1).dims.size() != d || t(0).batched != t(1).batched ||
        !std::equal(t(0).dims.begin(), t(0).dims.end() - 2, t(1).dims.begin()) ||
        t(0).lastDim() != t(1).lastDim())
      return fail(fmt::format("matmul_sum_nt: {} and {} need equal leading dimensions and "
                              "equal last dimensions",
                              formatType(t(0)), formatType(t(1))));
    return ok(TensorType::fixed({t(0).dims[d - 2], t(1).dims[d - 2]}));
  }
  case OpKind::BatchNorm: {
    const bool perChannel = isVector(t(1)) && t(1) == t(2) && t(1) == t(3) && t(1) == t(4);
    if (!perChannel || op.attrs.size < 1 || t(0).dims.size() != 1 ||
        t(0).lastDim() != t(1).dims[0] * op.attrs.size)
      return fail(fmt::format("batch_norm: rows {} need {} channels of {} values, each with a "
                              "mean, inverse deviation, weight and bias of one type [C]",
                              formatType(t(0)), t(1).dims.empty() ? 0 : t(1).dims[0],
                              op.attrs.size));
    return ok(t(0));
  }
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
  case OpKind::LayerNorm:
    if (t(0).dims.empty())
      return fail(fmt::format("'{}' needs a last dimension", opName(op.kind)));
    if (op.kind == OpKind::LayerNorm && !(op.attrs.eps > 0))
      return fail("layer_norm eps must be positive");
    return ok(t(0));
  case OpKind::SoftmaxGrad:
  case OpKind::LogSoftmaxGrad:
  case OpKind::LayerNormGrad:
    if (t(0).dims.empty() || t(0) != t(1))
      return fail(fmt::format("'{}' needs two operands of one type with a last dimension",
                              opName(op.kind)));
    return ok(t(0));
  case OpKind::Dropout:
    if (t(0).dtype != DType::F32 || !t(1).isScalar())
      return fail("dropout takes an f32 tensor and a scalar step");
    if (!(op.attrs.rate >= 0 && op.attrs.rate < 1))
      return fail("dropout rate must be in [0, 1)");
    return ok(t(0));
  case OpKind::Gather: {
    if (!isMatrix(t(0)) || t(0).dtype != DType::F32 || t(1).dtype != DType::I32)
      return fail("gather takes an f32 [vocab, dim] table and i32 ids");
    TensorType r = t(1);
    r.dtype = DType::F32;
    r.dims.push_back(t(0).dims[1]);
    return ok(r);
  }
  case OpKind::GatherGrad: {
    TensorType expect = t(1);
    expect.dtype = DType::F32;
    expect.dims.push_back(t(0).lastDim());
    if (t(1).dtype != DType::I32 || t(0).dims.empty() || t(0) != expect || op.attrs.size <= 0)
      return fail("gather_grad takes f32 [.., dim] gradients for i32 [..] ids and a vocab size");
    return ok(TensorType::fixed({op.attrs.size, t(0).lastDim()}));
  }
  case OpKind::Reshape: {
    TensorType r{t(0).dtype, t(0).batched, op.attrs.dims};
    if (!positiveDims(r) || r.rowElements() != t(0).rowElements())
      return fail(fmt::format("cannot reshape {} to {}", formatType(t(0)), formatType(r)));
    return ok(r);
  }
  case OpKind::BroadcastLike:
    if (!broadcastsTo(t(0), t(1)))
      return fail(fmt::format("cannot broadcast {} to {}", formatType(t(0)), formatType(t(1))));
    return ok(t(1));
  case OpKind::ExpandLast: {
    if (op.attrs.size <= 0)
      return fail("expand_last needs a positive size");
    TensorType r = t(0);
    r.dims.push_back(op.attrs.size);
    return ok(r);
  }
  case OpKind::Concat: {
    TensorType r = t(0);
    if (r.dtype != DType::F32 || r.dims.empty())
      return fail("concat takes f32 values with a last dimension");
    for (size_t k = 1; k < op.operands.size(); ++k) {
      TensorType a = t(k), lead = r;
      if (a.dims.empty())
        return fail("concat takes f32 values with a last dimension");
      lead.dims.back() = a.lastDim();
      if (a != lead)
        return fail(fmt::format("concat needs equal types but the last dimension, got {} and {}",
                                formatType(t(0)), formatType(a)));
      r.dims.back() += a.lastDim();
    }
    return ok(r);
  }
  case OpKind::Slice: {
    if (t(0).dims.empty() || op.attrs.begin < 0 || op.attrs.size <= 0 ||
        op.attrs.begin + op.attrs.size > t(0).lastDim())
      return fail(fmt::format("cannot slice [{}, {}) of the last dimension of {}", op.attrs.begin,
                              op.attrs.begin + op.attrs.size, formatType(t(0))));
    TensorType r = t(0);
    r.dims.back() = op.attrs.size;
    return ok(r);
  }
  case OpKind::SliceGrad: {
    TensorType expect = t(1);
    if (!expect.dims.empty())
      expect.dims.back() = op.attrs.size;
    if (t(1).dims.empty() || t(0) != expect || op.attrs.begin < 0 || op.attrs.size <= 0 ||
        op.attrs.begin + op.attrs.size > t(1).lastDim())
      return fail("slice_grad takes the gradient of a slice and the sliced value");
    return ok(t(1));
  }
  case OpKind::TrainSelect:
    if (!(t(0) == t(1)))
      return fail(
          fmt::format("train_select: {} and {} need one type", formatType(t(0)), formatType(t(1))));
    return ok(t(0));
  case OpKind::Transpose: {
    if (t(0).dims.size() < 2)
      return fail(fmt::format("transpose needs two dimensions to swap, got {}", formatType(t(0))));
    TensorType r = t(0);
    std::swap(r.dims[r.dims.size() - 2], r.dims.back());
    return ok(r);
  }
  case OpKind::Im2Col:
  case OpKind::MaxPool:
  case OpKind::AvgPool:
  case OpKind::Im2ColGrad:
  case OpKind::MaxPoolGrad:
  case OpKind::AvgPoolGrad: {
    // The gradient kinds take (g, x): g has the forward's type on x.
    const OpKind forward = windowForward(op.kind);
    const TensorType &image = t(forward == op.kind ? 0 : 1);
    std::string why;
    std::optional<WindowShape> w = windowShape(image, op.attrs, &why);
    if (!w)
      return fail(fmt::format("'{}': {}", opName(op.kind), why));
    if (forward != OpKind::Im2Col && op.attrs.padding != 0)
      return fail(fmt::format("'{}' takes no padding", opName(op.kind)));
    TensorType result = windowResult(forward, image, *w);
    if (forward == op.kind)
      return ok(result);
    if (t(0) != result)
      return fail(fmt::format("'{}': gradient {} does not fit {} of {}", opName(op.kind),
                              formatType(t(0)), formatType(result), formatType(image)));
    return ok(image);
  }
  case OpKind::ReduceSum:
  case OpKind::ReduceMean: {
    if (op.attrs.axis == ReduceAxis::All)
      return ok(TensorType::scalar());
    if (t(0).dims.empty())
      return fail(fmt::format("cannot reduce {} over the {} dimension", formatType(t(0)),
                              axisName(op.attrs.axis)));
    if (op.attrs.axis == ReduceAxis::Leading)
      return ok(TensorType::fixed({t(0).lastDim()}));
    TensorType r = t(0);
    r.dims.pop_back();
    return ok(r);
  }
  case OpKind::ElementCount:
    return ok(TensorType::scalar());
  case OpKind::Loss:
    return inferLoss(op, t(0), t(1));
  case OpKind::LossGrad: {
    Inferred r = inferLoss(op, t(0), t(1));
    if (!r.type)
      return r;
    if (!t(2).isScalar())
      return fail("loss_grad takes a scalar incoming gradient");
    return ok(t(0));
  }
    MTL_CASE_BINARY_OPS
    MTL_CASE_UNARY_OPS
    break; // handled above
  }
  return fail(fmt::format("unknown op kind {}", static_cast<int>(op.kind)));
}

} // namespace mtl::ir
