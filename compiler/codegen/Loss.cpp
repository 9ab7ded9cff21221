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

  // Constants, memory and functions for `count` targets at once (1: scalars).
  struct Lanes {
    Emitter &e;
    int count;
    llvm::Type *fp, *index;
    bool libm = false; ///< libm's expf, logf and log1pf (scalars only), else Elementary.cpp's
    llvm::Value *f(double v) const { return llvm::ConstantFP::get(fp, v); }
    llvm::Value *exp(llvm::Value *x) const {
      return libm ? e.callMath("expf", x) : e.callElementary("exp", x);
    }
    llvm::Value *log(llvm::Value *x) const {
      return libm ? e.callMath("logf", x) : e.callElementary("log", x);
    }
    llvm::Value *log1p(llvm::Value *x) const {
      return libm ? e.callMath("log1pf", x) : e.callElementary("log1p", x);
    }
    llvm::Value *splat(llvm::Value *v) const {
      return count == 1 ? v : e.b.CreateVectorSplat(count, v);
    }
    // i + lane for each lane (i64s).
    llvm::Value *lanesFrom(llvm::Value *i) const {
      if (count == 1)
        return i;
      std::vector<llvm::Constant *> steps;
      for (int k = 0; k < count; ++k)
        steps.push_back(e.b.getInt64(uint64_t(k)));
      return e.b.CreateAdd(splat(i), llvm::ConstantVector::get(steps));
    }
    // Vectors: the lanes that hold a target (the rest are left alone).
    llvm::Value *mask = nullptr;
    // The float at base[index] for each lane (a gather for vectors).
    llvm::Value *gather(llvm::Value *base, llvm::Value *at) const {
      if (count == 1)
        return e.load(base, at);
      return e.b.CreateMaskedGather(fp, e.b.CreateInBoundsGEP(e.f32, base, at), llvm::Align(4),
                                    mask);
    }
    void scatter(llvm::Value *v, llvm::Value *base, llvm::Value *at) const {
      if (count == 1)
        e.store(v, base, at);
      else
        e.b.CreateMaskedScatter(v, e.b.CreateInBoundsGEP(e.f32, base, at), llvm::Align(4), mask);
    }
    // base[i .. i + count), contiguous.
    llvm::Value *load(llvm::Value *base, llvm::Value *i) const {
      return count == 1 ? e.load(base, i)
                        : e.b.CreateMaskedLoad(fp, e.at(base, i), llvm::Align(4), mask, f(0));
    }
    void store(llvm::Value *v, llvm::Value *base, llvm::Value *i) const {
      if (count == 1)
        e.store(v, base, i);
      else
        e.b.CreateMaskedStore(v, e.at(base, i), llvm::Align(4), mask);
    }
  };
  auto lanesOf = [&](int count) {
    Lanes l{*this, count, f32, i64};
    if (count > 1) {
      l.fp = llvm::FixedVectorType::get(f32, count);
      l.index = llvm::FixedVectorType::get(i64, count);
    }
    return l;
  };

  // First pass: the number of labelled targets (valid ids, for cross-entropy).
  llvm::Value *labelledSlot = accumulator(f32, zero);
  auto labelled = [&](const Lanes &l, llvm::Value *t) -> llvm::Value * {
    llvm::Value *ok = b.CreateNot(isNan(t));
    if (ce) // an id outside [0, classes) is treated as missing rather than read out of bounds
      ok = b.CreateAnd(ok, b.CreateAnd(b.CreateFCmpOGE(t, l.f(0)),
                                       b.CreateFCmpOLT(t, l.f(static_cast<double>(classes)))));
    return ok;
  };
  loop(count(targetType), [&](llvm::Value *i) {
    llvm::Value *c = b.CreateSelect(labelled(lanesOf(1), load(target, i)), one, zero);
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
  // Where a target's loss goes: added to the sum (lane by lane, in target
  // order), or (on the threads) stored at its place in `terms` to be added
  // in order after.
  llvm::Value *terms = nullptr, *termAt = nullptr;
  auto addToSum = [&](const Lanes &l, llvm::Value *v) {
    if (terms) {
      l.store(v, terms, termAt);
      return;
    }
    // A lane without a target adds +0, which leaves the sum (never -0) as it is.
    if (l.mask)
      v = b.CreateSelect(l.mask, v, l.f(0));
    for (int k = 0; k < l.count; ++k) {
      llvm::Value *term = l.count == 1 ? v : b.CreateExtractElement(v, uint64_t(k));
      b.CreateStore(b.CreateFAdd(b.CreateLoad(f32, sum), term), sum);
    }
  };

  // The loss of targets i .. i + l.count (added to the sum) or their
  // gradients (stored, times `factor`: `scale`, or the kernel's copy of
  // it), one target per lane (of l.mask's). Each lane computes its target
  // alone, so its bits do not depend on the lane it is in, nor on the split
  // over the threads; with libm's functions (`few`) they are those of the
  // scalar code before the generated functions.
  auto item = [&](const Lanes &l, llvm::Value *i, llvm::Value *factor) {
    llvm::Value *pred = buffers[op.operands[0]], *out = buffers[id];
    llvm::Value *t = l.load(buffers[op.operands[1]], i);
    llvm::Value *ok = labelled(l, t);
    llvm::Value *lzero = l.f(0), *lone = l.f(1);
    if (ce) {
      // Each lane's row: `classes` predictions from index * classes.
      llvm::Value *base = b.CreateMul(l.lanesFrom(i), l.splat(cst(classes)));
      auto at = [&](llvm::Value *j) { return b.CreateAdd(base, j); };
      auto p = [&](llvm::Value *j) { return l.gather(pred, at(l.splat(j))); };
      // Over the classes; for vectors in loops that are not unrolled: a
      // copy of the gathers and calls per class would only add code.
      const Unroll unroll = l.count > 1 ? Unroll::Never : Unroll::Allowed;
      auto overClasses = [&](const std::function<void(llvm::Value *)> &body) {
        loop(cst(0), cst(classes), body, unroll);
      };
      llvm::Value *mxSlot = accumulator(l.fp, p(cst(0)));
      overClasses(
          [&](llvm::Value *j) { b.CreateStore(fmax(b.CreateLoad(l.fp, mxSlot), p(j)), mxSlot); });
      llvm::Value *mx = b.CreateLoad(l.fp, mxSlot);
      llvm::Value *s = accumulator(l.fp, lzero);
      overClasses([&](llvm::Value *j) {
        b.CreateStore(b.CreateFAdd(b.CreateLoad(l.fp, s), l.exp(b.CreateFSub(p(j), mx))), s);
      });
      llvm::Value *lse = b.CreateFAdd(mx, l.log(b.CreateLoad(l.fp, s)));
      llvm::Value *cls = b.CreateFPToSI(b.CreateSelect(ok, t, lzero), l.index);
      if (!grad) {
        addToSum(l, b.CreateSelect(ok, b.CreateFSub(lse, l.gather(pred, at(cls))), lzero));
        return;
      }
      overClasses([&](llvm::Value *j) {
        llvm::Value *soft = l.exp(b.CreateFSub(p(j), lse));
        llvm::Value *d =
            b.CreateFSub(soft, b.CreateSelect(b.CreateICmpEQ(l.splat(j), cls), lone, lzero));
        l.scatter(b.CreateSelect(ok, b.CreateFMul(d, l.splat(factor)), lzero), out, at(l.splat(j)));
      });
      return;
    }
    llvm::Value *p = l.load(pred, i);
    llvm::Value *d = b.CreateFSub(p, t);
    llvm::Value *value = nullptr, *deriv = nullptr;
    switch (a.loss) {
    case LossKind::Mse:
      value = b.CreateFMul(d, d);
      deriv = b.CreateFMul(l.f(2), d);
      break;
    case LossKind::Mae:
      value = callMath("fabsf", d);
      deriv = b.CreateSelect(b.CreateFCmpOGT(d, lzero), lone,
                             b.CreateSelect(b.CreateFCmpOLT(d, lzero), l.f(-1), lzero));
      break;
    case LossKind::Huber: {
      llvm::Value *ad = callMath("fabsf", d);
      llvm::Value *delta = l.f(a.delta);
      value = b.CreateSelect(b.CreateFCmpOLE(ad, delta), b.CreateFMul(l.f(0.5), b.CreateFMul(d, d)),
                             b.CreateFMul(delta, b.CreateFSub(ad, l.f(0.5 * a.delta))));
      deriv = b.CreateSelect(
          b.CreateFCmpOGT(d, delta), delta,
          b.CreateSelect(b.CreateFCmpOLT(d, b.CreateFNeg(delta)), b.CreateFNeg(delta), d));
      break;
    }
    case LossKind::CrossEntropy:
      ir::unexpectedLoss(a.loss, "the element-wise loss code generator"); // per row, above
    case LossKind::BceLogits: { // stable: max(p, 0) - p t + log(1 + exp(-|p|))
      llvm::Value *e = l.exp(b.CreateFNeg(callMath("fabsf", p)));
      value = b.CreateFAdd(b.CreateFSub(fmax(p, lzero), b.CreateFMul(p, t)), l.log1p(e));
      llvm::Value *r = b.CreateFDiv(lone, b.CreateFAdd(lone, e));
      llvm::Value *sig = b.CreateSelect(b.CreateFCmpOGE(p, lzero), r, b.CreateFMul(e, r));
      deriv = b.CreateFSub(sig, t);
      break;
    }
    }
    if (grad)
      l.store(b.CreateSelect(ok, b.CreateFMul(deriv, l.splat(factor)), lzero), out, i);
    else
      addToSum(l, b.CreateSelect(ok, value, lzero));
  };
  // Targets [begin, end): vectors of the unit's width, the last one masked
  // to the targets left. Fewer targets in all than a vector holds go one
  // at a time through libm's functions (`few`), whose results come sooner
  // (M2's step at batch 1 took 0.81 us in masked vectors, 0.56 one at a
  // time with Elementary.cpp's functions, 0.52 with libm's): the choice
  // depends on the number of targets, never on a thread's share. Losses
  // without exp or log (MSE, MAE, Huber) keep that scalar loop at any size.
  Lanes few = lanesOf(1);
  few.libm = true;
  llvm::Value *targets = count(targetType);
  llvm::Value *isFew = b.CreateICmpSLT(targets, cst(vectors.floats));
  auto items = [&](llvm::Value *begin, llvm::Value *end, llvm::Value *factor) {
    Lanes wide = lanesOf(vectors.floats);
    const int w = wide.count;
    llvm::Value *blocks = b.CreateSDiv(b.CreateAdd(b.CreateSub(end, begin), cst(w - 1)), cst(w));
    loop(blocks, [&](llvm::Value *k) {
      llvm::Value *i = b.CreateAdd(begin, b.CreateMul(k, cst(w)));
      // The lanes whose target i + lane is before `end`.
      wide.mask = b.CreateICmpSLT(wide.lanesFrom(i), wide.splat(end));
      if (terms)
        termAt = i;
      item(wide, i, factor);
    });
  };

  // Each target's gradient, and each target's loss, is its own, so the
  // targets split over the threads with the same values for any split. An
  // exp, log or log1p is counted as kMathCall multiply-adds of work: in a
  // vector of 16 targets it costs a cycle or two, what 32 to 64 multiply-adds
  // of a product take (libm's calls, ~14 cycles each, counted 128; at 8, 32
  // or 128 the two-thread rows of bench/ that split losses, M2/4096, M3/256,
  // M4/1024 and M6/256, did not change beyond this VM's noise). Below
  // kParallelWork (and for the losses without these functions) the loop
  // stays in the step: a call into a kernel would cost small batches more
  // than threads save.
  constexpr int64_t kMathCall = 32;
  const int64_t perItem = ce                              ? (grad ? 2 : 1) * classes * kMathCall
                          : a.loss == LossKind::BceLogits ? 2 * kMathCall
                                                          : 0;
  // Every target on the calling thread: one at a time (few of them, or a
  // loss without exp or log), else in vectors.
  auto onThisThread = [&](llvm::Value *factor) {
    auto oneByOne = [&] { loop(targets, [&](llvm::Value *i) { item(few, i, factor); }); };
    if (perItem == 0)
      oneByOne();
    else
      ifElse(isFew, oneByOne, [&] { items(cst(0), targets, factor); });
  };

  if (!grad) {
    // One sum in target order (loss values are reported, and some balancing
    // methods read them: their bits do not depend on the threads). On the
    // threads, each target's loss goes to its place in a buffer on the stack
    // (up to kMaxTerms of them: 16 KB, which any thread's stack has room
    // for, a C library caller's too), then the sum adds them in order.
    constexpr int64_t kMaxTerms = 4096;
    auto serial = [&] { onThisThread(nullptr); };
    if (perItem == 0)
      serial();
    else
      ifElse(b.CreateOr(b.CreateOr(isFew, b.CreateICmpSLT(b.CreateMul(targets, cst(perItem)),
                                                          cst(kParallelWork))),
                        b.CreateICmpSGT(targets, cst(kMaxTerms))),
             serial, [&] {
               llvm::Value *buffer = b.CreateAlloca(f32, targets);
               inThreads(
                   id, targets, b.CreateMul(targets, cst(perItem)),
                   [&](llvm::Value *begin, llvm::Value *end, llvm::Value *out) {
                     terms = out;
                     items(begin, end, nullptr);
                     terms = nullptr;
                   },
                   buffer, Disjoint::Ignore);
               loop(targets, [&](llvm::Value *i) { addToSum(few, load(buffer, i)); });
             });
    store(b.CreateSelect(any, b.CreateFDiv(b.CreateLoad(f32, sum), safeN), zero), buffers[id],
          cst(0));
    return;
  }
  auto here = [&] { onThisThread(scale); };
  if (perItem == 0) {
    here();
    return;
  }
  llvm::Value *work = b.CreateMul(targets, cst(perItem));
  ifElse(b.CreateOr(isFew, b.CreateICmpSLT(work, cst(kParallelWork))), here, [&] {
    inThreads(
        id, targets, work,
        [&](llvm::Value *begin, llvm::Value *end, llvm::Value *s) { items(begin, end, s); }, scale,
        Disjoint::Ignore);
  });
}

} // namespace mtl::codegen
