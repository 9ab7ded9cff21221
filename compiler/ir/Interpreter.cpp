// Interpreter.cpp: op-by-op execution of a graph on double-precision buffers.
#include "ir/Interpreter.h"

#include "ir/Kernels.h"
#include "ir/Math.h"
#include "ir/Random.h"
#include "ir/Verifier.h"

#include <fmt/format.h>

#include <cmath>

namespace mtl::ir {

namespace {

using Buffer = std::vector<double>;

/// A fused activation (passes/Activations.h) of a product or batch_norm, as
/// the relu it replaced.
void activate(Activation activation, Buffer &values) {
  if (activation == Activation::Relu)
    for (double &v : values)
      v = v > 0 ? v : 0.0;
}

/// Evaluates element-wise unary kinds.
double unaryOp(OpKind kind, const Attrs &a, double x) {
  switch (kind) {
  case OpKind::Neg:
    return -x;
  case OpKind::Relu:
    return x > 0 ? x : 0.0;
  case OpKind::LeakyRelu:
    return x > 0 ? x : a.alpha * x;
  case OpKind::Gelu:
    return math::gelu(x);
  case OpKind::Tanh:
    return std::tanh(x);
  case OpKind::Sigmoid:
    return math::sigmoid(x);
  case OpKind::Exp:
    return std::exp(x);
  case OpKind::Log:
    return std::log(x);
  case OpKind::Abs:
    return std::fabs(x);
  case OpKind::Square:
    return x * x;
  case OpKind::Sqrt:
    return std::sqrt(x);
  case OpKind::Step:
    return x > 0 ? 1.0 : 0.0;
  case OpKind::Sign:
    return math::sign(x);
  case OpKind::LeakyReluDeriv:
    return x > 0 ? 1.0 : a.alpha;
  case OpKind::GeluDeriv:
    return math::geluDeriv(x);
  default: // the caller passes only OpClass::Unary kinds
    unexpectedOp(kind, "the interpreter's unary kernel");
  }
}

double binaryOp(OpKind kind, double x, double y) {
  switch (kind) {
  case OpKind::Add:
    return x + y;
  case OpKind::Sub:
    return x - y;
  case OpKind::Mul:
    return x * y;
  case OpKind::Div:
    return x / y;
  default: // the caller passes only OpClass::Binary kinds
    unexpectedOp(kind, "the interpreter's binary kernel");
  }
}

/// Index into a buffer of type `from` broadcast to `to`, for flat index i of `to`.
size_t broadcastIndex(const TensorType &from, const TensorType &to, size_t i) {
  if (from == to)
    return i;
  if (from.isScalar())
    return 0;
  return i % static_cast<size_t>(to.lastDim());
}

class Machine {
public:
  Machine(const Graph &g, const InterpretOptions &o) : g_(g), opt_(o) {}

  Execution run(const Feeds &feeds) {
    Execution ex;
    vals_.resize(g_.size());
    for (size_t i = 0; i < g_.size(); ++i) {
      const Op &op = g_.ops()[i];
      std::string err = step(op, feeds, vals_[i]);
      if (!err.empty()) {
        ex.error = fmt::format("%{} = {}: {}", i, opName(op.kind), err);
        return ex;
      }
      if (opt_.roundToF32 && op.type.dtype == DType::F32)
        for (double &v : vals_[i])
          v = static_cast<double>(static_cast<float>(v));
    }
    ex.values = std::move(vals_);
    return ex;
  }

private:
  const Buffer &in(const Op &op, int k) const { return vals_[op.operands[k]]; }
  const TensorType &ty(const Op &op, int k) const { return g_.type(op.operands[k]); }
  int64_t count(const TensorType &t) const { return t.elements(opt_.batch); }

  std::string step(const Op &op, const Feeds &feeds, Buffer &out);

  const Graph &g_;
  const InterpretOptions &opt_;
  std::vector<Buffer> vals_;
};

std::string Machine::step(const Op &op, const Feeds &feeds, Buffer &out) {
  size_t n = static_cast<size_t>(count(op.type));
  if (op.kind == OpKind::Input || op.kind == OpKind::Param || op.kind == OpKind::Buffer) {
    auto it = feeds.find(op.name);
    if (it == feeds.end())
      return fmt::format("no value given for '{}'", op.name);
    if (it->second.size() != n)
      return fmt::format("'{}' needs {} values for {} at batch {}, got {}", op.name, n,
                         formatType(op.type), opt_.batch, it->second.size());
    out = it->second;
    return {};
  }
  out.assign(n, 0.0);
  const Attrs &a = op.attrs;
  if (isElementwiseUnary(op.kind)) {
    for (size_t i = 0; i < n; ++i)
      out[i] = unaryOp(op.kind, a, in(op, 0)[i]);
    return {};
  }
  if (isElementwiseBinary(op.kind)) {
    for (size_t i = 0; i < n; ++i)
      out[i] = binaryOp(op.kind, in(op, 0)[broadcastIndex(ty(op, 0), op.type, i)],
                        in(op, 1)[broadcastIndex(ty(op, 1), op.type, i)]);
    return {};
  }
  int64_t last = op.type.lastDim();
  switch (op.kind) {
  case OpKind::Constant:
    out[0] = a.value;
    return {};
  case OpKind::Linear:
    kernels::linear(in(op, 0), in(op, 1), op.operands.size() == 3 ? &in(op, 2) : nullptr,
                    ty(op, 0).lastDim(), last, out);
    activate(a.activation, out);
    return {};
  case OpKind::MatMul:
    kernels::matmul(in(op, 0), in(op, 1), ty(op, 0).lastDim(), last, out);
    return {};
  case OpKind::MatMulTN:
    kernels::matmulTN(in(op, 0), in(op, 1), ty(op, 0).lastDim(), ty(op, 1).lastDim(), out);
    return {};
  case OpKind::MatMulLeft: {
    const TensorType &w = ty(op, 0);
    kernels::matmulLeft(in(op, 0), in(op, 1), op.operands.size() == 3 ? &in(op, 2) : nullptr,
                        w.dims[0], w.dims[1], last, out);
    activate(a.activation, out);
    return {};
  }
  case OpKind::MatMulSumNT:
    kernels::matmulSumNT(in(op, 0), in(op, 1), op.type.dims[0], ty(op, 0).lastDim(),
                         op.type.dims[1], out);
    return {};
  case OpKind::BatchNorm: { // channel c of each row: values [c size, (c + 1) size)
    const size_t size = static_cast<size_t>(a.size), channels = in(op, 1).size();
    for (size_t i = 0; i < n; ++i) {
      const size_t c = (i / size) % channels;
      out[i] = (in(op, 0)[i] - in(op, 1)[c]) * in(op, 2)[c] * in(op, 3)[c] + in(op, 4)[c];
    }
    activate(a.activation, out);
    return {};
  }
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
  case OpKind::LayerNorm:
  case OpKind::SoftmaxGrad:
  case OpKind::LogSoftmaxGrad:
  case OpKind::LayerNormGrad:
    kernels::rowwise(op.kind, a, in(op, 0), op.operands.size() > 1 ? &in(op, 1) : nullptr, last,
                     out);
    return {};
  case OpKind::Dropout: {
    if (!opt_.training) {
      out = in(op, 0);
      return {};
    }
    double s = in(op, 1)[0];
    if (!(s >= 0) || s != std::floor(s))
      return fmt::format("dropout step {} is not a non-negative integer", s);
    for (size_t i = 0; i < n; ++i)
      out[i] = dropoutKeep(dropoutSeed(a.seed, opt_.seed), static_cast<uint64_t>(s), i, a.rate)
                   ? in(op, 0)[i] / (1 - a.rate)
                   : 0.0;
    return {};
  }
  case OpKind::Gather:
    return kernels::gather(in(op, 0), g_.type(op.operands[0]).dims[0], in(op, 1), last, out);
  case OpKind::GatherGrad:
    return kernels::gatherGrad(in(op, 0), in(op, 1), a.size, last, out);
  case OpKind::Reshape:
    out = in(op, 0);
    return {};
  case OpKind::BroadcastLike:
    for (size_t i = 0; i < n; ++i)
      out[i] = in(op, 0)[broadcastIndex(ty(op, 0), op.type, i)];
    return {};
  case OpKind::ExpandLast:
    for (size_t i = 0; i < n; ++i)
      out[i] = in(op, 0)[i / static_cast<size_t>(a.size)];
    return {};
  case OpKind::Concat: { // row by row, each operand's row after the last
    const size_t width = static_cast<size_t>(op.type.lastDim()), rows = n / width;
    size_t at = 0;
    for (size_t k = 0; k < op.operands.size(); ++k) {
      const size_t w = static_cast<size_t>(ty(op, k).lastDim());
      for (size_t r = 0; r < rows; ++r)
        for (size_t c = 0; c < w; ++c)
          out[r * width + at + c] = in(op, k)[r * w + c];
      at += w;
    }
    return {};
  }
  case OpKind::Slice: {
    const size_t size = static_cast<size_t>(a.size),
                 from = static_cast<size_t>(ty(op, 0).lastDim());
    for (size_t i = 0; i < n; ++i)
      out[i] = in(op, 0)[(i / size) * from + static_cast<size_t>(a.begin) + i % size];
    return {};
  }
  case OpKind::SliceGrad: {
    const size_t size = static_cast<size_t>(a.size), width = static_cast<size_t>(op.type.lastDim());
    const size_t begin = static_cast<size_t>(a.begin);
    for (size_t i = 0; i < n; ++i) {
      const size_t c = i % width;
      out[i] = c >= begin && c < begin + size ? in(op, 0)[(i / width) * size + c - begin] : 0.0;
    }
    return {};
  }
  case OpKind::TrainSelect:
    out = in(op, opt_.training ? 0 : 1);
    return {};
  case OpKind::Transpose: { // each [m, n] block to [n, m]
    const size_t m = static_cast<size_t>(last), cols = static_cast<size_t>(ty(op, 0).lastDim());
    for (size_t i = 0; i < n; ++i) {
      const size_t block = i / (m * cols), r = i / m % cols, c = i % m;
      out[i] = in(op, 0)[(block * m + c) * cols + r];
    }
    return {};
  }
  case OpKind::Im2Col:
  case OpKind::Im2ColGrad:
  case OpKind::MaxPool:
  case OpKind::MaxPoolGrad:
  case OpKind::AvgPool:
  case OpKind::AvgPoolGrad: {
    const TensorType &image = windowForward(op.kind) == op.kind ? ty(op, 0) : ty(op, 1);
    std::string why;
    std::optional<WindowShape> w = windowShape(image, a, &why);
    if (!w)
      return why;
    kernels::windows(op.kind, *w, count(image) / w->imageSize(), in(op, 0),
                     op.operands.size() > 1 ? &in(op, 1) : nullptr, out);
    if (op.kind == OpKind::MaxPoolGrad && a.activation == Activation::Relu) // times step(x)
      for (size_t i = 0; i < n; ++i)
        out[i] *= unaryOp(OpKind::Step, a, in(op, 1)[i]);
    return {};
  }
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
    kernels::reduce(in(op, 0), a.axis, ty(op, 0).lastDim(), op.kind == OpKind::ReduceMean, out);
    return {};
  case OpKind::ElementCount:
    out[0] = static_cast<double>(count(ty(op, 0)));
    return {};
  case OpKind::Loss:
  case OpKind::LossGrad:
    return kernels::loss(a, in(op, 0), in(op, 1), ty(op, 0).lastDim(),
                         op.kind == OpKind::LossGrad ? &in(op, 2) : nullptr, out);
  case OpKind::Input:
  case OpKind::Param:
  case OpKind::Buffer:
    MTL_CASE_BINARY_OPS
    MTL_CASE_UNARY_OPS
    break; // handled above
  }
  return "the interpreter does not know this op";
}

} // namespace

Execution interpret(const Graph &graph, const Feeds &feeds, const InterpretOptions &options) {
  std::vector<Diagnostic> diags = verify(graph);
  if (!diags.empty()) {
    Execution ex;
    ex.error = "invalid graph: " + diags.front().message;
    return ex;
  }
  if (options.batch < 1) {
    Execution ex;
    ex.error = "the batch size must be positive";
    return ex;
  }
  return Machine(graph, options).run(feeds);
}

} // namespace mtl::ir
