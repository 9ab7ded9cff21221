// Loss.cpp: masked losses and their gradients (mean over labelled targets).
//
// A target of NaN means "no label": that element (or, for cross-entropy, that
// row) is left out of both the sum and the count. With nothing labelled the
// loss and its gradient are 0, so a batch without labels for a task is harmless.
#include "codegen/Emitter.h"

namespace mtl::codegen {

using ir::LossKind;

void Emitter::emitLoss(const ir::Op &op, ir::ValueId id) {
  bool grad = op.kind == ir::OpKind::LossGrad;
  const ir::Attrs &a = op.attrs;
  llvm::Value *target = buffers[op.operands[1]];
  const ir::TensorType &targetType = graph.type(op.operands[1]);
  bool ce = a.loss == LossKind::CrossEntropy;
  int64_t classes = graph.type(op.operands[0]).lastDim();
  llvm::Value *zero = fcst(0), *one = fcst(1);

  // First pass: the number of labelled targets (valid ids, for cross-entropy).
  llvm::Value *labelledSlot = accumulator(f32, zero);
  auto labelled = [&](llvm::Value *t) -> llvm::Value * {
    llvm::Value *ok = b.CreateNot(isNan(t));
    if (ce) // an id outside [0, classes) is treated as missing rather than read out of bounds
      ok = b.CreateAnd(ok, b.CreateAnd(b.CreateFCmpOGE(t, zero),
                                       b.CreateFCmpOLT(t, fcst(static_cast<double>(classes)))));
    return ok;
  };
  loop(count(targetType), [&](llvm::Value *i) {
    llvm::Value *c = b.CreateSelect(labelled(load(target, i)), one, zero);
    b.CreateStore(b.CreateFAdd(b.CreateLoad(f32, labelledSlot), c), labelledSlot);
  });
  llvm::Value *n = b.CreateLoad(f32, labelledSlot);
  llvm::Value *any = b.CreateFCmpOGT(n, zero);
  llvm::Value *safeN = b.CreateSelect(any, n, one);
  // Gradient scale g / n (0 when nothing is labelled).
  llvm::Value *scale =
      grad ? b.CreateSelect(any, b.CreateFDiv(load(buffers[op.operands[2]], cst(0)), safeN), zero)
           : nullptr;
  llvm::Value *sum = grad ? nullptr : accumulator(f32, zero);
  // Where a target's loss goes: added to the sum, or (on the threads) stored
  // at its place in `terms` to be added in order after.
  llvm::Value *terms = nullptr, *termAt = nullptr;
  auto addToSum = [&](llvm::Value *v) {
    if (terms)
      store(v, terms, termAt);
    else
      b.CreateStore(b.CreateFAdd(b.CreateLoad(f32, sum), v), sum);
  };

  // Target i's loss (added to the sum) or its gradient (stored, times `factor`:
  // `scale`, or the kernel's copy of it).
  auto item = [&](llvm::Value *i, llvm::Value *factor) {
    llvm::Value *pred = buffers[op.operands[0]], *out = buffers[id];
    llvm::Value *t = load(buffers[op.operands[1]], i);
    llvm::Value *ok = labelled(t);
    if (ce) {
      llvm::Value *base = b.CreateMul(i, cst(classes));
      auto p = [&](llvm::Value *j) { return load(pred, b.CreateAdd(base, j)); };
      llvm::Value *mxSlot = accumulator(f32, p(cst(0)));
      loop(cst(classes),
           [&](llvm::Value *j) { b.CreateStore(fmax(b.CreateLoad(f32, mxSlot), p(j)), mxSlot); });
      llvm::Value *mx = b.CreateLoad(f32, mxSlot);
      llvm::Value *s = accumulator(f32, zero);
      loop(cst(classes), [&](llvm::Value *j) {
        b.CreateStore(b.CreateFAdd(b.CreateLoad(f32, s), callMath("expf", b.CreateFSub(p(j), mx))),
                      s);
      });
      llvm::Value *lse = b.CreateFAdd(mx, callMath("logf", b.CreateLoad(f32, s)));
      llvm::Value *cls = b.CreateFPToSI(b.CreateSelect(ok, t, zero), i64);
      if (!grad) {
        addToSum(b.CreateSelect(ok, b.CreateFSub(lse, p(cls)), zero));
        return;
      }
      loop(cst(classes), [&](llvm::Value *j) {
        llvm::Value *soft = callMath("expf", b.CreateFSub(p(j), lse));
        llvm::Value *d = b.CreateFSub(soft, b.CreateSelect(b.CreateICmpEQ(j, cls), one, zero));
        store(b.CreateSelect(ok, b.CreateFMul(d, factor), zero), out, b.CreateAdd(base, j));
      });
      return;
    }
    llvm::Value *p = load(pred, i);
    llvm::Value *d = b.CreateFSub(p, t);
    llvm::Value *value = nullptr, *deriv = nullptr;
    switch (a.loss) {
    case LossKind::Mse:
      value = b.CreateFMul(d, d);
      deriv = b.CreateFMul(fcst(2), d);
      break;
    case LossKind::Mae:
      value = callMath("fabsf", d);
      deriv = b.CreateSelect(b.CreateFCmpOGT(d, zero), one,
                             b.CreateSelect(b.CreateFCmpOLT(d, zero), fcst(-1), zero));
      break;
    case LossKind::Huber: {
      llvm::Value *ad = callMath("fabsf", d);
      llvm::Value *delta = fcst(a.delta);
      value =
          b.CreateSelect(b.CreateFCmpOLE(ad, delta), b.CreateFMul(fcst(0.5), b.CreateFMul(d, d)),
                         b.CreateFMul(delta, b.CreateFSub(ad, fcst(0.5 * a.delta))));
      deriv = b.CreateSelect(
          b.CreateFCmpOGT(d, delta), delta,
          b.CreateSelect(b.CreateFCmpOLT(d, b.CreateFNeg(delta)), b.CreateFNeg(delta), d));
      break;
    }
    case LossKind::CrossEntropy:
      ir::unexpectedLoss(a.loss, "the element-wise loss code generator"); // per row, above
    case LossKind::BceLogits: { // stable: max(p, 0) - p t + log(1 + exp(-|p|))
      llvm::Value *e = callMath("expf", b.CreateFNeg(callMath("fabsf", p)));
      value = b.CreateFAdd(b.CreateFSub(fmax(p, zero), b.CreateFMul(p, t)), callMath("log1pf", e));
      llvm::Value *r = b.CreateFDiv(one, b.CreateFAdd(one, e));
      llvm::Value *sig = b.CreateSelect(b.CreateFCmpOGE(p, zero), r, b.CreateFMul(e, r));
      deriv = b.CreateFSub(sig, t);
      break;
    }
    }
    if (grad)
      store(b.CreateSelect(ok, b.CreateFMul(deriv, factor), zero), out, i);
    else
      addToSum(b.CreateSelect(ok, value, zero));
  };

  llvm::Value *items = count(targetType);
  // Each target's gradient, and each target's loss, is its own, so the
  // targets split over the threads with the same values for any split. A
  // libm call (expf, logf, log1pf) is counted as kMathCall multiply-adds of
  // work. Below kParallelWork (and for the losses without libm calls) the
  // loop stays in the step: a call into a kernel would cost small batches
  // more than threads save.
  constexpr int64_t kMathCall = 128;
  const int64_t perItem = ce                              ? (grad ? 2 : 1) * classes * kMathCall
                          : a.loss == LossKind::BceLogits ? 2 * kMathCall
                                                          : 0;
  if (!grad) {
    // One sum in target order (loss values are reported, and some balancing
    // methods read them: their bits do not depend on the threads). On the
    // threads, each target's loss goes to its place in a buffer on the stack
    // (up to kMaxTerms of them: 16 KB, which any thread's stack has room
    // for, a C library caller's too), then the sum adds them in order.
    constexpr int64_t kMaxTerms = 4096;
    auto serial = [&] { loop(items, [&](llvm::Value *i) { item(i, nullptr); }); };
    if (perItem == 0)
      serial();
    else
      ifElse(b.CreateOr(b.CreateICmpSLT(b.CreateMul(items, cst(perItem)), cst(kParallelWork)),
                        b.CreateICmpSGT(items, cst(kMaxTerms))),
             serial, [&] {
               llvm::Value *buffer = b.CreateAlloca(f32, items);
               inThreads(
                   id, items, b.CreateMul(items, cst(perItem)),
                   [&](llvm::Value *begin, llvm::Value *end, llvm::Value *out) {
                     terms = out;
                     loop(begin, end, [&](llvm::Value *i) {
                       termAt = i;
                       item(i, nullptr);
                     });
                     terms = nullptr;
                   },
                   buffer, Disjoint::Ignore);
               loop(items, [&](llvm::Value *i) { addToSum(load(buffer, i)); });
             });
    store(b.CreateSelect(any, b.CreateFDiv(b.CreateLoad(f32, sum), safeN), zero), buffers[id],
          cst(0));
    return;
  }
  auto here = [&] { loop(items, [&](llvm::Value *i) { item(i, scale); }); };
  if (perItem == 0) {
    here();
    return;
  }
  llvm::Value *work = b.CreateMul(items, cst(perItem));
  ifElse(b.CreateICmpSLT(work, cst(kParallelWork)), here, [&] {
    inThreads(
        id, items, work,
        [&](llvm::Value *begin, llvm::Value *end, llvm::Value *s) {
          loop(begin, end, [&](llvm::Value *i) { item(i, s); });
        },
        scale, Disjoint::Ignore);
  });
}

} // namespace mtl::codegen
