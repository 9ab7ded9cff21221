// Builder.cpp: op construction with inferred result types.
#include "ir/Builder.h"

#include "ir/Infer.h"

namespace mtl::ir {

ValueId Builder::create(OpKind kind, std::vector<ValueId> operands, Attrs attrs) {
  Op op;
  op.kind = kind;
  op.operands = std::move(operands);
  op.attrs = std::move(attrs);
  op.loc = loc_;
  Inferred r = inferType(graph_, op);
  // An ill-typed op keeps a placeholder type; the Verifier reports it.
  op.type = r.type ? *r.type : TensorType::scalar();
  return graph_.append(std::move(op));
}

ValueId Builder::input(std::string name, TensorType type) {
  Op op;
  op.kind = OpKind::Input;
  op.name = std::move(name);
  op.type = std::move(type);
  op.loc = loc_;
  return graph_.append(std::move(op));
}

ValueId Builder::param(std::string name, std::vector<int64_t> shape) {
  return leaf(OpKind::Param, std::move(name), std::move(shape));
}

ValueId Builder::buffer(std::string name, std::vector<int64_t> shape) {
  return leaf(OpKind::Buffer, std::move(name), std::move(shape));
}

ValueId Builder::leaf(OpKind kind, std::string name, std::vector<int64_t> shape) {
  Op op;
  op.kind = kind;
  op.name = std::move(name);
  op.type = TensorType::fixed(std::move(shape));
  op.loc = loc_;
  return graph_.append(std::move(op));
}

ValueId Builder::paramOnce(const std::string &name, std::vector<int64_t> shape) {
  if (auto id = graph_.findParam(name))
    return *id;
  return param(name, std::move(shape));
}

ValueId Builder::constant(double value) {
  Attrs a;
  a.value = value;
  return create(OpKind::Constant, {}, a);
}

ValueId Builder::linear(ValueId x, ValueId weight, std::optional<ValueId> bias) {
  if (bias)
    return create(OpKind::Linear, {x, weight, *bias});
  return create(OpKind::Linear, {x, weight});
}

ValueId Builder::leakyRelu(ValueId x, double alpha) {
  Attrs a;
  a.alpha = alpha;
  return create(OpKind::LeakyRelu, {x}, a);
}

ValueId Builder::layerNorm(ValueId x, double eps) {
  Attrs a;
  a.eps = eps;
  return create(OpKind::LayerNorm, {x}, a);
}

ValueId Builder::dropout(ValueId x, ValueId step, double rate, uint64_t seed) {
  Attrs a;
  a.rate = rate;
  a.seed = seed;
  return create(OpKind::Dropout, {x, step}, a);
}

ValueId Builder::reshape(ValueId x, std::vector<int64_t> dims) {
  Attrs a;
  a.dims = std::move(dims);
  return create(OpKind::Reshape, {x}, a);
}

ValueId Builder::flatten(ValueId x) {
  // An unknown id still yields an op, which the Verifier rejects.
  int64_t n = graph_.contains(x) ? graph_.type(x).rowElements() : 1;
  return reshape(x, {n});
}

ValueId Builder::expandLast(ValueId x, int64_t size) {
  Attrs a;
  a.size = size;
  return create(OpKind::ExpandLast, {x}, a);
}

namespace {
Attrs sliceAttrs(int64_t begin, int64_t size) {
  Attrs a;
  a.begin = begin;
  a.size = size;
  return a;
}
} // namespace

ValueId Builder::slice(ValueId x, int64_t begin, int64_t size) {
  return create(OpKind::Slice, {x}, sliceAttrs(begin, size));
}

ValueId Builder::window(OpKind kind, std::vector<ValueId> operands, int64_t kernel, int64_t stride,
                        int64_t padding) {
  Attrs a;
  a.kernel = kernel;
  a.stride = stride;
  a.padding = padding;
  return create(kind, std::move(operands), a);
}

ValueId Builder::sliceGrad(ValueId g, ValueId x, int64_t begin, int64_t size) {
  return create(OpKind::SliceGrad, {g, x}, sliceAttrs(begin, size));
}

ValueId Builder::reduceSum(ValueId x, ReduceAxis axis) {
  Attrs a;
  a.axis = axis;
  return create(OpKind::ReduceSum, {x}, a);
}

ValueId Builder::reduceMean(ValueId x, ReduceAxis axis) {
  Attrs a;
  a.axis = axis;
  return create(OpKind::ReduceMean, {x}, a);
}

ValueId Builder::loss(LossKind kind, ValueId pred, ValueId target, double huberDelta) {
  Attrs a;
  a.loss = kind;
  a.delta = huberDelta;
  return create(OpKind::Loss, {pred, target}, a);
}

} // namespace mtl::ir
