// Update.cpp: the optimizer's update graph (lower/Update.cpp) as one fused loop per tensor.
#include "codegen/Update.h"

#include <llvm/IR/Intrinsics.h>

namespace mtl::codegen {

namespace {

// Work per element of an update or of the check of a gradient, in
// multiply-adds as Emitter::kParallelWork counts them: a tensor of 8,192
// elements or more is split over the threads, where its gradient was
// (threadsFor). Below that, waking the other thread and moving the tensor's
// cache lines to it cost more than the loop.
constexpr int64_t kUpdateWork = 8;

// `pool` for a tensor after a gradient step of `rows` rows whose
// gradient's product does `work` multiply-adds per row (gradientWork), or
// null (one thread): the threads only where that product split, at rows x
// work of Emitter::kParallelProductWork (Matrix.cpp), so that each thread
// checks and updates the rows of the gradient it wrote. At batch 1 a dense
// layer's weight gradient is one thread's, and moving half of it (and of
// the weight, which that thread's forward product read) to the other costs
// more than the loop: on the 2-vCPU AMD host, M3/1's step on two threads
// took 109 us with the update split and 33 without, 31 on one thread.
llvm::Value *threadsFor(Emitter &e, llvm::Value *pool, llvm::Value *rows, int64_t work) {
  llvm::Value *split =
      e.b.CreateICmpSGE(e.b.CreateMul(rows, e.cst(work)), e.cst(Emitter::kParallelProductWork));
  return e.b.CreateSelect(split, pool,
                          llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(e.ptr)));
}

// The multiply-adds per batch row of the weight-gradient products (a dense
// layer's MatMulTN, a convolution's MatMulSumNT) that make the value `v`,
// through reshapes, transposes and sums; 0 where there are none.
int64_t productWork(const ir::Graph &g, ir::ValueId v) {
  const ir::Op &op = g.op(v);
  switch (op.kind) {
  case ir::OpKind::MatMulTN:
  case ir::OpKind::MatMulSumNT:
    return g.type(op.operands[0]).rowElements() * op.type.lastDim();
  case ir::OpKind::Reshape:
  case ir::OpKind::Transpose:
    return productWork(g, op.operands[0]);
  case ir::OpKind::Add:
    return std::max(productWork(g, op.operands[0]), productWork(g, op.operands[1]));
  default:
    return 0;
  }
}

// A tensor of this many elements or more has its update vectorised to the
// registers' full width (Emitter::preferFullWidth); below, the 8-float
// vectors leave fewer elements to the scalar rest of the loop (M2's
// tensors of 3 to 100 elements: its step 0.49 -> 0.50 us at 16 floats).
constexpr int64_t kFullWidthElements = 256;

// Flags into `flag` whether values a loop over a tensor of `size` elements
// notes reach `exponentBits`: through the largest magnitude (note, then
// finish after the loop; Emitter::noteMagnitude) in a tensor of
// kFullWidthElements or more, value by value (flagAtLeast) in a smaller
// one, whose whole loop is a few vectors and a scalar rest (M2/1's step
// 0.49 -> 0.50 us with the maximum there).
class LoopFlag {
public:
  LoopFlag(Emitter &e, llvm::Value *flag, uint32_t exponentBits, int64_t size)
      : e_(e), flag_(flag), bits_(exponentBits) {
    if (size >= kFullWidthElements)
      largest_ = e.accumulator(e.b.getInt32Ty(), e.b.getInt32(0));
  }
  void note(llvm::Value *x) {
    if (largest_)
      e_.noteMagnitude(largest_, x);
    else
      e_.flagAtLeast(flag_, x, bits_);
  }
  void finish() {
    if (largest_)
      e_.flagLargest(flag_, largest_, bits_);
  }

private:
  Emitter &e_;
  llvm::Value *flag_;
  uint32_t bits_;
  llvm::Value *largest_ = nullptr;
};

// Runs `body(begin, end, a)` over [0, size) of a tensor, on the threads
// (through a kernel) when the tensor is large enough, else in a plain loop;
// `args` reach the body as `a`. The flag at `flag` (an i32 pointer among
// the args, at index `flagArg`) gets the OR of a local flag the body sets,
// atomically where threads share it.
void overElements(Emitter &e, int64_t size, const std::vector<llvm::Value *> &args, size_t flagArg,
                  const std::function<void(llvm::Value *, llvm::Value *, llvm::Value *local,
                                           const std::vector<llvm::Value *> &)> &body) {
  auto &b = e.b;
  auto run = [&](const std::vector<llvm::Value *> &a, llvm::Value *begin, llvm::Value *end,
                 bool shared) {
    // A local flag, kept in a register through the loop, then ORed into the caller's.
    llvm::Value *local = e.accumulator(b.getInt32Ty(), b.getInt32(0));
    body(begin, end, local, a);
    llvm::Value *bits = b.CreateLoad(b.getInt32Ty(), local);
    if (shared)
      b.CreateAtomicRMW(llvm::AtomicRMWInst::Or, a[flagArg], bits, llvm::MaybeAlign(4),
                        llvm::AtomicOrdering::Monotonic);
    else
      b.CreateStore(b.CreateOr(b.CreateLoad(b.getInt32Ty(), a[flagArg]), bits), a[flagArg]);
  };
  if (size * kUpdateWork < Emitter::kParallelWork) {
    run(args, e.cst(0), e.cst(size), false);
    return;
  }
  e.preferFullWidth(e.parallelRows(
      e.cst(size), e.cst(size * kUpdateWork), args,
      [&](auto &a, llvm::Value *begin, llvm::Value *end) { run(a, begin, end, true); },
      Emitter::Disjoint::Ignore));
}

// The update graph's ops on elements [begin, end) of one tensor of `size`
// elements, in order, each value stored setting `local` when it is not
// finite. `a` as for emitTensorUpdate; `scalars` are the graph's scalar
// inputs in argument order.
void emitElementUpdates(Emitter &e, const lower::UpdateGraph &u,
                        const std::vector<ir::ValueId> &scalars, int64_t size, llvm::Value *begin,
                        llvm::Value *end, llvm::Value *local, const std::vector<llvm::Value *> &a) {
  const ir::Graph &g = u.graph;
  const size_t nslots = u.slots.size();
  LoopFlag stored(e, local, Emitter::kNonFinite, size);
  auto store = [&](llvm::Value *x, llvm::Value *base, llvm::Value *i) {
    stored.note(x);
    e.store(x, base, i);
  };
  // Adam's division of sqrt(v) by sqrt(1 - β2^t), the same for every
  // element, is a multiply by its reciprocal, taken once here, and a
  // correction, with the division's bits (Emitter::divideByScalar). Nothing
  // underflows or overflows there: the divisor is at least sqrt(1 - β2) >=
  // 2^-27 and at most 1, and the dividend below 2^60 (a gradient of 2^60
  // refuses the step) and 0 or at least 2^-75.
  llvm::Value *reciprocal = nullptr;
  for (size_t k = 0; k < scalars.size(); ++k)
    if (scalars[k] == u.bc2Sqrt && e.vectors.fma)
      reciprocal = e.b.CreateFDiv(e.fcst(1), a[2 + nslots + k]);
  e.loop(begin, end, [&](llvm::Value *i) {
    std::vector<llvm::Value *> val(g.size(), nullptr);
    val[size_t(u.grad)] = e.load(a[1], i);
    val[size_t(u.param)] = e.load(a[0], i);
    for (size_t k = 0; k < nslots; ++k)
      val[size_t(u.slotInputs[k])] = e.load(a[2 + k], i);
    for (size_t k = 0; k < scalars.size(); ++k)
      val[size_t(scalars[k])] = a[2 + nslots + k];
    for (size_t v = 0; v < g.size(); ++v) {
      const ir::Op &op = g.op(ir::ValueId(v));
      if (op.kind == ir::OpKind::Constant)
        val[v] = e.fcst(op.attrs.value);
      else if (ir::isElementwiseUnary(op.kind))
        val[v] = e.unary(op.kind, op.attrs, val[size_t(op.operands[0])]);
      else if (op.kind == ir::OpKind::Div && reciprocal && op.operands[1] == u.bc2Sqrt)
        val[v] = e.divideByScalar(val[size_t(op.operands[0])], val[size_t(u.bc2Sqrt)], reciprocal);
      else if (ir::isElementwiseBinary(op.kind))
        val[v] = e.binary(op.kind, val[size_t(op.operands[0])], val[size_t(op.operands[1])]);
      else if (op.kind != ir::OpKind::Input)
        ir::unexpectedOp(op.kind, "the update's code generator");
    }
    for (size_t k = 0; k < nslots; ++k)
      store(val[size_t(u.nextSlots[k])], a[2 + k], i);
    store(val[size_t(u.nextParam)], a[0], i);
  });
  stored.finish();
}

// One tensor's update, over the arguments of its outlined function: p, g,
// the optimizer's state tensors (as u.slots), lr, then for Adam the step
// size and sqrt(bc2), then for AdamW the decay factor, a pointer to the i32
// flag that records whether any value stored was not finite, and last the
// mtl_parallel pointer. Each element is updated on its own, so the values
// are the same however the elements are split over the threads.
void emitTensorUpdate(Emitter &e, const lower::UpdateGraph &u, int64_t size,
                      const std::vector<llvm::Value *> &args) {
  // The scalar inputs, in argument order after the tensors.
  std::vector<ir::ValueId> scalars = {u.lr};
  for (ir::ValueId s : {u.stepSize, u.bc2Sqrt, u.decay})
    if (s >= 0)
      scalars.push_back(s);
  e.kernelOp = "update";
  overElements(e, size, args, 2 + u.slots.size() + scalars.size(),
               [&](llvm::Value *begin, llvm::Value *end, llvm::Value *local,
                   const std::vector<llvm::Value *> &a) {
                 emitElementUpdates(e, u, scalars, size, begin, end, local, a);
               });
}

// The scalars of one update: the learning rate and, for Adam, the bias
// corrections (bc1 in double, sqrt(bc2) in float).
struct Scalars {
  llvm::Value *lr, *bc1, *bc2Sqrt;
};

// What the tensors' checks and updates read: the arenas, the scalars, the
// flags and the pool, in the function that emits them.
struct UpdateValues {
  llvm::Value *params, *state, *grads, *lrScales, *rows, *refused, *overflowed, *parallel;
  Scalars s;

  std::vector<llvm::Value *> all() const {
    std::vector<llvm::Value *> v = {params,  state,      grads,    lrScales, rows,
                                    refused, overflowed, parallel, s.lr};
    for (llvm::Value *x : {s.bc1, s.bc2Sqrt})
      if (x)
        v.push_back(x);
    return v;
  }
  // The same values as the arguments `a` of a function called with all().
  UpdateValues from(const std::vector<llvm::Value *> &a) const {
    UpdateValues v{a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], {a[8], nullptr, nullptr}};
    size_t next = 9;
    if (s.bc1)
      v.s.bc1 = a[next++];
    if (s.bc2Sqrt)
      v.s.bc2Sqrt = a[next++];
    return v;
  }
};

// Emits `body` for tensors [first, end) of layout.params with the values it
// reads: in the update function itself, or in a `noinline` function per
// kUpdatePart tensors (compiled at the requested level as any other).
void inParts(Emitter &e, const ArenaLayout &layout, const UpdateValues &v,
             const std::function<void(size_t, size_t, const UpdateValues &)> &body) {
  const size_t count = layout.params.size();
  if (count <= kUpdatePart) {
    body(0, count, v);
    return;
  }
  for (size_t first = 0; first < count; first += kUpdatePart) {
    const size_t end = std::min(count, first + kUpdatePart);
    e.outlined(
         v.all(),
         [&](const std::vector<llvm::Value *> &a) {
           const UpdateValues inside = v.from(a);
           e.parallel = inside.parallel;
           body(first, end, inside);
         },
         /*inlined=*/false)
        ->setName("mtl.update.part");
    e.parallel = v.parallel;
  }
}

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

// Tensors [first, end)'s update loops, each an outlined function of its
// own, at learning rate lr * lrScales[k]; a scale of 0 skips the tensor.
void emitTensorLoops(Emitter &e, const sema::Optimizer &opt, const lower::UpdateGraph &u,
                     const ArenaLayout &layout, size_t first, size_t end, const UpdateValues &v,
                     const std::vector<int64_t> &gradientWork) {
  auto &b = e.b;
  const Scalars &s = v.s;
  llvm::Value *scaled = b.CreateIsNotNull(v.lrScales);
  for (size_t k = first; k < end; ++k) {
    const PlacedTensor &pt = layout.params[k];
    llvm::Value *p = e.at(v.params, e.cst(pt.offset));
    llvm::Value *g = e.at(v.grads, e.cst(pt.offset));
    llvm::Value *scaleVar = e.accumulator(e.f32, e.fcst(1));
    e.ifElse(
        scaled, [&] { b.CreateStore(e.load(v.lrScales, e.cst(int64_t(k))), scaleVar); }, [] {});
    llvm::Value *scale = b.CreateLoad(e.f32, scaleVar);
    e.ifElse(
        b.CreateFCmpONE(scale, e.fcst(0)),
        [&] {
          llvm::Value *lr = b.CreateFMul(s.lr, scale); // exact for a scale of 1
          auto [stepSize, decay] = stepAndDecay(e, opt, s, lr);
          // Each tensor's update is a function of its own (see Outline.cpp):
          // equal for tensors of equal size, so the REPL compiles it once.
          // The parameter, its gradient and its state are in different arenas
          // or slots: the function marks them `noalias`.
          std::vector<llvm::Value *> args = {p, g};
          for (int slot : layout.stateOf[k])
            args.push_back(e.at(v.state, e.cst(layout.state[slot].offset)));
          args.push_back(lr);
          for (llvm::Value *x : {stepSize, s.bc2Sqrt, decay})
            if (x)
              args.push_back(x);
          args.push_back(v.overflowed);
          args.push_back(threadsFor(e, e.parallel, v.rows, gradientWork[k]));
          llvm::Value *pool = e.parallel;
          const size_t distinct = 2 + layout.stateOf[k].size();
          llvm::Function *fn = e.outlined(
              args,
              [&](const std::vector<llvm::Value *> &a) {
                e.parallel = a.back();
                emitTensorUpdate(e, u, pt.size, a);
              },
              true, distinct);
          fn->setName("mtl.tensor_update");
          if (pt.size >= kFullWidthElements)
            e.preferFullWidth(fn);
          e.parallel = pool;
        },
        [] {});
  }
}

} // namespace

std::vector<int64_t> gradientWork(const ir::Graph &graph, const ir::StepSignature &signature,
                                  const ArenaLayout &layout) {
  std::vector<int64_t> work;
  for (const PlacedTensor &p : layout.params) {
    int64_t w = p.size;
    for (const auto &[param, gradient] : signature.gradients)
      if (param == p.param)
        w = std::max(w, productWork(graph, gradient));
    work.push_back(w);
  }
  return work;
}

void emitUpdate(Emitter &e, const sema::Optimizer &opt, const lower::UpdateGraph &u,
                const ArenaLayout &layout, llvm::Value *params, llvm::Value *state,
                const UpdateInputs &in, const std::vector<int64_t> &gradientWork,
                llvm::Value *refused, llvm::Value *overflowed) {
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
  const UpdateValues values{params,     state,      in.grads, in.lrScales, in.rows, refused,
                            overflowed, e.parallel, s};
  // A gradient of 2^60 or more, or not finite, refuses the step.
  inParts(e, layout, values, [&](size_t first, size_t end, const UpdateValues &v) {
    e.kernelOp = "update_check";
    for (size_t k = first; k < end; ++k) {
      const PlacedTensor &pt = layout.params[k];
      e.parallel = threadsFor(e, v.parallel, v.rows, gradientWork[k]);
      overElements(e, pt.size, {e.at(v.grads, e.cst(pt.offset)), v.refused}, 1,
                   [&](llvm::Value *begin, llvm::Value *end, llvm::Value *local,
                       const std::vector<llvm::Value *> &a) {
                     LoopFlag huge(e, local, Emitter::kHuge, pt.size);
                     e.loop(begin, end, [&](llvm::Value *i) { huge.note(e.load(a[0], i)); });
                     huge.finish();
                   });
    }
    e.parallel = v.parallel;
  });
  // Scalars that would make every update overflow refuse the step, as a
  // non-finite gradient does (checked at the unscaled learning rate).
  auto [stepSize, decay] = stepAndDecay(e, opt, s, in.lr);
  for (llvm::Value *v : {in.lr, stepSize, decay})
    if (v)
      e.flagAtLeast(refused, v, Emitter::kHuge);

  e.ifElse(
      b.CreateICmpEQ(b.CreateLoad(b.getInt32Ty(), refused), b.getInt32(0)),
      [&] {
        inParts(e, layout, values, [&](size_t first, size_t end, const UpdateValues &v) {
          emitTensorLoops(e, opt, u, layout, first, end, v, gradientWork);
        });
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
