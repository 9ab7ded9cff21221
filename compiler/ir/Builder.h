// Builder.h: typed construction of IR graphs.
#pragma once

#include "ir/Graph.h"

#include <optional>

namespace mtl::ir {

/// Appends ops to a graph, inferring each result type. The builder never
/// fails: an ill-typed op is still appended (with type f32[]) and the Verifier
/// reports it with its source location, so callers build first and check once.
class Builder {
public:
  explicit Builder(Graph &graph) : graph_(graph) {}

  Graph &graph() { return graph_; }
  /// The location given to ops created from now on.
  void setLoc(SourceLoc loc) { loc_ = loc; }
  SourceLoc loc() const { return loc_; }

  /// Appends an op of any kind; the result type is inferred.
  ValueId create(OpKind kind, std::vector<ValueId> operands, Attrs attrs = {});

  /// A named per-step input; `type` is usually batched.
  ValueId input(std::string name, TensorType type);
  /// A named f32 parameter with a static shape (PyTorch layout).
  ValueId param(std::string name, std::vector<int64_t> shape);
  /// A named f32 tensor with a static shape that persists between steps but
  /// is not trained: a training step computes its next value (a result
  /// "buffer.<name>"), as batch_norm's running statistics.
  ValueId buffer(std::string name, std::vector<int64_t> shape);
  /// The parameter of that name if it exists, otherwise a new one.
  ValueId paramOnce(const std::string &name, std::vector<int64_t> shape);
  ValueId constant(double value);

  /// x W^T (+ b when `bias` is given).
  ValueId linear(ValueId x, ValueId weight, std::optional<ValueId> bias = std::nullopt);
  ValueId matmul(ValueId a, ValueId b) { return create(OpKind::MatMul, {a, b}); }
  ValueId matmulTN(ValueId a, ValueId b) { return create(OpKind::MatMulTN, {a, b}); }
  /// w x for each matrix x of the value (+ bias[m] on row m).
  ValueId matmulLeft(ValueId w, ValueId x, std::optional<ValueId> bias = std::nullopt) {
    return bias ? create(OpKind::MatMulLeft, {w, x, *bias}) : create(OpKind::MatMulLeft, {w, x});
  }
  ValueId matmulSumNT(ValueId a, ValueId b) { return create(OpKind::MatMulSumNT, {a, b}); }

  ValueId add(ValueId a, ValueId b) { return create(OpKind::Add, {a, b}); }
  ValueId sub(ValueId a, ValueId b) { return create(OpKind::Sub, {a, b}); }
  ValueId mul(ValueId a, ValueId b) { return create(OpKind::Mul, {a, b}); }
  ValueId div(ValueId a, ValueId b) { return create(OpKind::Div, {a, b}); }
  /// x * c for a constant c.
  ValueId scale(ValueId x, double c) { return mul(x, constant(c)); }

  /// Any element-wise unary kind without attributes (Relu, Tanh, Exp, ...).
  ValueId unary(OpKind kind, ValueId x) { return create(kind, {x}); }
  ValueId leakyRelu(ValueId x, double alpha);
  ValueId softmax(ValueId x) { return create(OpKind::Softmax, {x}); }
  ValueId logSoftmax(ValueId x) { return create(OpKind::LogSoftmax, {x}); }
  /// Normalisation over the last dimension only; apply gain and bias with mul/add.
  ValueId layerNorm(ValueId x, double eps);
  /// Inverted dropout keyed by (seed, step, element index); see Random.h.
  ValueId dropout(ValueId x, ValueId step, double rate, uint64_t seed);
  ValueId gather(ValueId table, ValueId ids) { return create(OpKind::Gather, {table, ids}); }
  ValueId reshape(ValueId x, std::vector<int64_t> dims);
  /// Reshape to one dimension per row (or one in all, if static).
  ValueId flatten(ValueId x);
  ValueId broadcastLike(ValueId x, ValueId like) {
    return create(OpKind::BroadcastLike, {x, like});
  }
  ValueId expandLast(ValueId x, int64_t size);
  /// Along the last dimension.
  ValueId concat(std::vector<ValueId> parts) { return create(OpKind::Concat, std::move(parts)); }
  /// Elements [begin, begin + size) of the last dimension.
  ValueId slice(ValueId x, int64_t begin, int64_t size);
  /// The gradient of slice(x, begin, size) for x: `g` in place, zero elsewhere.
  ValueId sliceGrad(ValueId g, ValueId x, int64_t begin, int64_t size);
  /// Swaps the last two dimensions.
  ValueId transpose(ValueId x) { return create(OpKind::Transpose, {x}); }
  /// A Window kind (Ops.def) on `operands`: (x) for the forward kinds, (g, x)
  /// for their gradients.
  ValueId window(OpKind kind, std::vector<ValueId> operands, int64_t kernel, int64_t stride,
                 int64_t padding = 0);
  ValueId reduceSum(ValueId x, ReduceAxis axis = ReduceAxis::All);
  ValueId reduceMean(ValueId x, ReduceAxis axis = ReduceAxis::All);
  ValueId elementCount(ValueId x) { return create(OpKind::ElementCount, {x}); }
  /// Masked mean loss; targets equal to NaN are missing and excluded.
  ValueId loss(LossKind kind, ValueId pred, ValueId target, double huberDelta = 1.0);

private:
  ValueId leaf(OpKind kind, std::string name, std::vector<int64_t> shape);

  Graph &graph_;
  SourceLoc loc_;
};

} // namespace mtl::ir
