// Gru.cpp: the gru layer as existing IR ops, unrolled over its steps with torch.nn.GRU's formulas.
//
// With x_t the features of step t and h the state (h_0 = 0), each step computes
//   gx = x_t W_ih^T + b_ih,  gh = h W_hh^T + b_hh   ([3H] each: the r, z and n gates' parts)
//   r, z = sigmoid(gx[0:2H] + gh[0:2H])
//   n    = tanh(gx[2H:3H] + r * gh[2H:3H])
//   h'   = (h - n) * z + n   (= (1 - z) * n + z * h, in ATen's order of operations)
// and the layer's output is the last h. The parameters keep PyTorch's names
// and fused layouts (weight_ih_l0 [3H, F], weight_hh_l0 [3H, H], bias_ih_l0
// and bias_hh_l0 [3H]), so a checkpoint loads into nn.GRU; the gates are
// slices of the two products. Each step projects its own slice of the input
// rather than all steps in one product: the gradient of a slice is as wide as
// what it slices, so slicing one [T * 3H] projection would add T values of
// that width to the backward pass, and slicing the input costs nothing when
// the input needs no gradient. The zero first state is a value of its own, so
// that weight_hh_l0 is used (and has a gradient, zero) even over one step.
#include "lower/LowerContext.h"

namespace mtl::lower {

using ir::OpKind;
using ir::ValueId;

ValueId lowerGru(Lowering &l, int module, const sema::Layer &layer, ValueId x) {
  ir::Builder &b = l.b;
  const std::string &prefix = layer.paramPrefix;
  const int64_t steps = layer.inShape.size() == 2 ? layer.inShape[0] : 0;
  const int64_t features = layer.inShape.size() == 2 ? layer.inShape[1] : 0;
  const int64_t h = layer.units;
  if (steps <= 0 || features <= 0 || h <= 0) {
    l.error(layer.loc, "internal: gru needs an input of shape [steps, features] and a hidden size");
    return -1;
  }
  ValueId wIh = l.param(module, prefix + ".weight_ih_l0", {3 * h, features});
  ValueId wHh = l.param(module, prefix + ".weight_hh_l0", {3 * h, h});
  ValueId bIh = l.param(module, prefix + ".bias_ih_l0", {3 * h});
  ValueId bHh = l.param(module, prefix + ".bias_hh_l0", {3 * h});
  ValueId flat = b.reshape(x, {steps * features});
  ValueId state = -1;
  for (int64_t t = 0; t < steps; ++t) {
    ValueId gx = b.linear(b.slice(flat, t * features, features), wIh, bIh);
    if (state < 0) // h_0 = 0, [B, hidden] like one gate's part of gx
      state = b.broadcastLike(b.constant(0), b.slice(gx, 0, h));
    ValueId gh = b.linear(state, wHh, bHh);
    ValueId rz = b.unary(OpKind::Sigmoid, b.add(b.slice(gx, 0, 2 * h), b.slice(gh, 0, 2 * h)));
    ValueId r = b.slice(rz, 0, h), z = b.slice(rz, h, h);
    ValueId n =
        b.unary(OpKind::Tanh, b.add(b.slice(gx, 2 * h, h), b.mul(r, b.slice(gh, 2 * h, h))));
    state = b.add(b.mul(b.sub(state, n), z), n);
  }
  return state;
}

} // namespace mtl::lower
