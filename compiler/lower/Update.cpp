// Update.cpp: PyTorch's optimizer updates of one element, as IR.
//
//   sgd:    p ← p - lr g;  with momentum μ: buf ← μ buf + g, p ← p - lr buf
//           (dampening 0, as torch.optim.SGD; the first step's buf is g
//           because the buffer starts at 0)
//   adam:   m ← m + (1 - β1)(g - m)   (torch's lerp)
//           v ← β2 v + (1 - β2) g²
//           p ← p - step_size · m / (sqrt(v) / sqrt(1 - β2^t) + ε),
//           step_size = lr / (1 - β1^t)
//   adamw:  the same after p ← p (1 - lr·wd)
#include "lower/Update.h"

#include "ir/Builder.h"

namespace mtl::lower {

using ir::OpKind;
using ir::ValueId;

UpdateGraph lowerUpdate(const sema::Optimizer &opt) {
  UpdateGraph u;
  ir::Builder b(u.graph);
  b.setLoc(opt.loc);
  auto scalar = [&](const char *name) { return b.input(name, ir::TensorType::scalar()); };
  u.param = scalar("param");
  u.grad = scalar("grad");
  const bool adam = opt.kind != sema::OptimizerKind::Sgd;
  if (adam)
    u.slots = {"exp_avg", "exp_avg_sq"};
  else if (opt.momentum != 0)
    u.slots = {"momentum_buffer"};
  for (const std::string &slot : u.slots)
    u.slotInputs.push_back(b.input("state." + slot, ir::TensorType::scalar()));
  u.lr = scalar("lr");
  ValueId p = u.param, g = u.grad;
  if (!adam) {
    ValueId dir = g;
    if (!u.slots.empty()) {
      dir = b.add(b.scale(u.slotInputs[0], opt.momentum), g);
      u.nextSlots.push_back(dir);
    }
    u.nextParam = b.sub(p, b.mul(u.lr, dir));
  } else {
    u.stepSize = scalar("step_size");
    u.bc2Sqrt = scalar("bc2_sqrt");
    if (opt.kind == sema::OptimizerKind::AdamW) {
      u.decay = scalar("decay");
      p = b.mul(p, u.decay);
    }
    ValueId m = u.slotInputs[0], v = u.slotInputs[1];
    ValueId m2 = b.add(m, b.scale(b.sub(g, m), 1 - opt.beta1));
    ValueId v2 = b.add(b.scale(v, opt.beta2), b.scale(b.unary(OpKind::Square, g), 1 - opt.beta2));
    u.nextSlots = {m2, v2};
    ValueId denom = b.add(b.div(b.unary(OpKind::Sqrt, v2), u.bc2Sqrt), b.constant(opt.eps));
    u.nextParam = b.sub(p, b.mul(u.stepSize, b.div(m2, denom)));
  }
  u.graph.setResult("param", u.nextParam);
  for (size_t k = 0; k < u.slots.size(); ++k)
    u.graph.setResult("state." + u.slots[k], u.nextSlots[k]);
  return u;
}

} // namespace mtl::lower
