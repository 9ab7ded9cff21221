// Update.cpp: SGD (with momentum), Adam and AdamW as fused element loops.
#include "codegen/Update.h"

#include <llvm/IR/Intrinsics.h>

namespace mtl::codegen {

namespace {

// One tensor's update loop, over the arguments of its outlined function:
// p, g, the optimizer's state tensors (nslots), lr, then for Adam the step
// size and sqrt(bc2), then for AdamW the decay factor, and last a pointer to
// the i32 flag that records whether any value stored was not finite.
void emitTensorUpdate(Emitter &e, const sema::Optimizer &opt, int64_t size,
                      const std::vector<llvm::Value *> &a, size_t nslots, bool decayed) {
  auto &b = e.b;
  bool adam = opt.kind != sema::OptimizerKind::Sgd;
  llvm::Value *p = a[0], *g = a[1];
  std::vector<llvm::Value *> slots(a.begin() + 2, a.begin() + 2 + static_cast<long>(nslots));
  size_t next = 2 + nslots;
  llvm::Value *lr = a[next++];
  llvm::Value *stepSize = adam ? a[next++] : nullptr;
  llvm::Value *bc2Sqrt = adam ? a[next++] : nullptr;
  llvm::Value *decay = decayed ? a[next++] : nullptr;
  llvm::Value *overflowed = a[next++];
  // A local flag, kept in a register through the loop, then ORed into the caller's.
  llvm::Value *local = e.accumulator(b.getInt32Ty(), b.getInt32(0));
  auto store = [&](llvm::Value *x, llvm::Value *base, llvm::Value *i) {
    e.flagAtLeast(local, x, Emitter::kNonFinite);
    e.store(x, base, i);
  };
  e.loop(e.cst(size), [&](llvm::Value *i) {
    llvm::Value *gi = e.load(g, i);
    llvm::Value *pi = e.load(p, i);
    if (!adam) {
      llvm::Value *dir = gi;
      if (!slots.empty()) { // buf = momentum * buf + g (PyTorch, dampening 0)
        dir = b.CreateFAdd(b.CreateFMul(e.fcst(opt.momentum), e.load(slots[0], i)), gi);
        store(dir, slots[0], i);
      }
      store(b.CreateFSub(pi, b.CreateFMul(lr, dir)), p, i);
      return;
    }
    if (decay)
      pi = b.CreateFMul(pi, decay);
    // m.lerp_(g, 1 - beta1); v = beta2 v + (1 - beta2) g²
    llvm::Value *m = e.load(slots[0], i);
    m = b.CreateFAdd(m, b.CreateFMul(e.fcst(1 - opt.beta1), b.CreateFSub(gi, m)));
    llvm::Value *v = b.CreateFAdd(b.CreateFMul(e.fcst(opt.beta2), e.load(slots[1], i)),
                                  b.CreateFMul(e.fcst(1 - opt.beta2), b.CreateFMul(gi, gi)));
    store(m, slots[0], i);
    store(v, slots[1], i);
    llvm::Value *denom =
        b.CreateFAdd(b.CreateFDiv(e.callMath("sqrtf", v), bc2Sqrt), e.fcst(opt.eps));
    store(b.CreateFSub(pi, b.CreateFMul(stepSize, b.CreateFDiv(m, denom))), p, i);
  });
  b.CreateStore(
      b.CreateOr(b.CreateLoad(b.getInt32Ty(), overflowed), b.CreateLoad(b.getInt32Ty(), local)),
      overflowed);
}

// The scalars of one update: the learning rate and, for Adam, the bias
// corrections (bc1 in double, sqrt(bc2) in float).
struct Scalars {
  llvm::Value *lr, *bc1, *bc2Sqrt;
};

// Adam's step size lr / bc1 (as torch.optim.Adam: in double) and AdamW's
// decoupled decay factor 1 - lr * wd, for the learning rate `lr`.
std::pair<llvm::Value *, llvm::Value *> stepAndDecay(Emitter &e, const sema::Optimizer &opt,
                                                     const Scalars &s, llvm::Value *lr) {
  auto &b = e.b;
  llvm::Value *stepSize =
      s.bc1 ? b.CreateFPTrunc(b.CreateFDiv(b.CreateFPExt(lr, e.f64), s.bc1), e.f32) : nullptr;
  llvm::Value *decay = opt.kind == sema::OptimizerKind::AdamW
                           ? b.CreateFSub(e.fcst(1), b.CreateFMul(lr, e.fcst(opt.weightDecay)))
                           : nullptr;
  return {stepSize, decay};
}

// Every parameter tensor's update loop, each an outlined function of its own,
// at learning rate lr * lrScales[k]; a scale of 0 skips the tensor.
void emitTensorLoops(Emitter &e, const sema::Optimizer &opt, const ArenaLayout &layout,
                     const std::vector<llvm::Value *> &grads, llvm::Value *params,
                     llvm::Value *state, const Scalars &s, llvm::Value *lrScales,
                     llvm::Value *overflowed) {
  auto &b = e.b;
  llvm::Value *scaled = b.CreateIsNotNull(lrScales);
  for (size_t k = 0; k < layout.params.size(); ++k) {
    const PlacedTensor &pt = layout.params[k];
    llvm::Value *p = e.at(params, e.cst(pt.offset));
    llvm::Value *g = grads[k];
    if (!g)
      continue; // a parameter the loss does not depend on keeps its value
    llvm::Value *scaleVar = e.accumulator(e.f32, e.fcst(1));
    e.ifElse(
        scaled, [&] { b.CreateStore(e.load(lrScales, e.cst(int64_t(k))), scaleVar); }, [] {});
    llvm::Value *scale = b.CreateLoad(e.f32, scaleVar);
    e.ifElse(
        b.CreateFCmpONE(scale, e.fcst(0)),
        [&] {
          llvm::Value *lr = b.CreateFMul(s.lr, scale); // exact for a scale of 1
          auto [stepSize, decay] = stepAndDecay(e, opt, s, lr);
          // Each tensor's update is a function of its own (see Outline.cpp):
          // equal for tensors of equal size, so the REPL compiles it once.
          std::vector<llvm::Value *> args = {p, g};
          for (int slot : layout.stateOf[k])
            args.push_back(e.at(state, e.cst(layout.state[slot].offset)));
          size_t nslots = args.size() - 2;
          args.push_back(lr);
          for (llvm::Value *v : {stepSize, s.bc2Sqrt, decay})
            if (v)
              args.push_back(v);
          args.push_back(overflowed);
          e.outlined(args, [&](const std::vector<llvm::Value *> &a) {
            emitTensorUpdate(e, opt, pt.size, a, nslots, decay != nullptr);
          });
        },
        [] {});
  }
}

} // namespace

void emitUpdate(Emitter &e, const sema::Optimizer &opt, const ArenaLayout &layout,
                const std::vector<llvm::Value *> &grads, llvm::Value *params, llvm::Value *state,
                const UpdateInputs &in, llvm::Value *refused, llvm::Value *overflowed) {
  auto &b = e.b;
  Scalars s{in.lr, nullptr, nullptr};
  if (opt.kind != sema::OptimizerKind::Sgd) {
    // As torch.optim.Adam: bias corrections in double, then
    // p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps).
    llvm::Value *t = b.CreateSIToFP(in.step, e.f64);
    auto pow = llvm::Intrinsic::getDeclaration(&e.module, llvm::Intrinsic::pow, {e.f64});
    auto one = llvm::ConstantFP::get(e.f64, 1.0);
    s.bc1 = b.CreateFSub(one, b.CreateCall(pow, {llvm::ConstantFP::get(e.f64, opt.beta1), t}));
    llvm::Value *bc2 =
        b.CreateFSub(one, b.CreateCall(pow, {llvm::ConstantFP::get(e.f64, opt.beta2), t}));
    auto sqrt = llvm::Intrinsic::getDeclaration(&e.module, llvm::Intrinsic::sqrt, {e.f64});
    s.bc2Sqrt = b.CreateFPTrunc(b.CreateCall(sqrt, {bc2}), e.f32);
  }
  // Scalars that would make every update overflow refuse the step, as a
  // non-finite gradient does (checked at the unscaled learning rate).
  auto [stepSize, decay] = stepAndDecay(e, opt, s, in.lr);
  for (llvm::Value *v : {in.lr, stepSize, decay})
    if (v)
      e.flagAtLeast(refused, v, Emitter::kHuge);

  e.ifElse(
      b.CreateICmpEQ(b.CreateLoad(b.getInt32Ty(), refused), b.getInt32(0)),
      [&] {
        emitTensorLoops(e, opt, layout, grads, params, state, s, in.lrScales, overflowed);
        // Each buffer's next value, which the gradient step left in its
        // place of the gradient arena (frozen or not: PyTorch's running
        // statistics change in training whether the layer trains or not).
        for (const PlacedTensor &t : layout.buffers)
          e.copyOutlined(e.at(in.grads, e.cst(t.offset)), e.at(params, e.cst(t.offset)),
                         e.cst(t.size));
      },
      [] {});
}

} // namespace mtl::codegen
