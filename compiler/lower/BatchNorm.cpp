// BatchNorm.cpp: the batch_norm layer as existing IR ops, with torch.nn.BatchNorm1d/2d's formulas.
//
// Each channel c of x (features [C], or an image [C, H, W] whose channel is
// HW values) is normalised over the n = B·HW values the batch has of it:
//   training:  y = (x - mean) / sqrt(var + eps) * weight + bias,
//              mean and the biased var of the batch;
//   eval:      the same with running_mean and running_var instead.
// `train_select` picks the statistics by the step's kind, so one graph
// serves both and the gradient is that of the training formula. A training
// step also computes the buffers' next values (results "buffer.<name>"),
// which the update stores:
//   running_mean ← (1 - momentum) running_mean + momentum mean
//   running_var  ← (1 - momentum) running_var + momentum var_sum / (n - 1)
//   num_batches_tracked ← num_batches_tracked + 1
// A batch with one value per channel (n = 1, which PyTorch refuses to train
// on) counts its unbiased variance as 0 instead of 0/0. A layer applied twice
// chains its updates, as two calls of one torch module do.
#include "lower/LowerContext.h"

namespace mtl::lower {

using ir::OpKind;
using ir::ValueId;

namespace {

/// A buffer (created on first use) and its next value so far: what an
/// earlier application of the same layer made it, else its stored value.
struct BufferUse {
  ValueId stored, next;
};

/// Channel c's values: features [B, C] as they are; an image [B, C, H, W]
/// as rows [B, C HW], channels first, as a convolution computes it (no
/// transpose), with per-channel vectors spread over their HW values.
struct Channels {
  ir::Builder &b;
  int64_t c, hw;
  bool image() const { return hw > 0; }
  /// x as the rows the statistics run over.
  ValueId rows(ValueId x) const { return image() ? b.reshape(x, {c * hw}) : x; }
  /// Each channel's sum over the batch (and its pixels): [C].
  ValueId sum(ValueId rows) const {
    if (!image())
      return b.reduceSum(rows, ir::ReduceAxis::Leading);
    ValueId perImage = b.reduceSum(b.reshape(rows, {c, hw}), ir::ReduceAxis::Last);
    return b.reduceSum(perImage, ir::ReduceAxis::Leading);
  }
  /// A per-channel vector [C] as an operand of the rows: [C HW] for an image.
  ValueId spread(ValueId v) const { return image() ? b.reshape(b.expandLast(v, hw), {c * hw}) : v; }
};

BufferUse bufferOnce(Lowering &l, const std::string &name, std::vector<int64_t> shape) {
  ir::Graph &g = l.b.graph();
  if (std::optional<ValueId> id = g.findBuffer(name))
    return {*id, g.result("buffer." + name).value_or(*id)};
  ValueId id = l.b.buffer(name, std::move(shape));
  return {id, id};
}

} // namespace

ValueId lowerBatchNorm(Lowering &l, int module, const sema::Layer &layer, ValueId x) {
  ir::Builder &b = l.b;
  const std::string &prefix = layer.paramPrefix;
  const sema::Shape &shape = layer.inShape;
  const int64_t c = shape.empty() ? 0 : shape[0];
  const Channels ch{b, c, shape.size() == 3 ? shape[1] * shape[2] : 0};
  ValueId rows = ch.rows(x);
  ValueId n = b.div(b.elementCount(rows), b.constant(static_cast<double>(c)));
  ValueId mean = b.div(ch.sum(rows), n);
  ValueId varSum = ch.sum(b.unary(OpKind::Square, b.sub(rows, ch.spread(mean))));
  ValueId var = b.div(varSum, n);

  BufferUse runningMean = bufferOnce(l, prefix + ".running_mean", {c});
  BufferUse runningVar = bufferOnce(l, prefix + ".running_var", {c});
  BufferUse tracked = bufferOnce(l, prefix + ".num_batches_tracked", {});
  ValueId useMean = b.create(OpKind::TrainSelect, {mean, runningMean.stored});
  ValueId useVar = b.create(OpKind::TrainSelect, {var, runningVar.stored});
  ValueId invStd =
      b.div(b.constant(1), b.unary(OpKind::Sqrt, b.add(useVar, b.constant(layer.eps))));
  ValueId weight = l.param(module, prefix + ".weight", {c});
  ValueId bias = l.param(module, prefix + ".bias", {c});
  ir::Attrs perChannel;
  perChannel.size = ch.image() ? ch.hw : 1;
  ValueId y = b.create(OpKind::BatchNorm, {rows, useMean, invStd, weight, bias}, perChannel);

  const double m = layer.momentum;
  // n - 1, or 1 when n is 1: step(1.5 - n) is 1 exactly then.
  ValueId dof = b.add(b.sub(n, b.constant(1)), b.unary(OpKind::Step, b.sub(b.constant(1.5), n)));
  ir::Graph &g = b.graph();
  g.setResult("buffer." + prefix + ".running_mean",
              b.add(b.scale(runningMean.next, 1 - m), b.scale(mean, m)));
  g.setResult("buffer." + prefix + ".running_var",
              b.add(b.scale(runningVar.next, 1 - m), b.scale(b.div(varSum, dof), m)));
  g.setResult("buffer." + prefix + ".num_batches_tracked", b.add(tracked.next, b.constant(1)));
  return ch.image() ? b.reshape(y, shape) : y;
}

} // namespace mtl::lower
