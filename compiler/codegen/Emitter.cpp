// Emitter.cpp: buffers, loops, math helpers, and element-wise and shape ops.
#include "codegen/Emitter.h"

#include "ir/Math.h"

#include <llvm/IR/Intrinsics.h>

namespace mtl::codegen {

using ir::OpKind;

Emitter::Emitter(llvm::Module &m, const ir::Graph &g, const passes::MemoryPlan &p)
    : ctx(m.getContext()), module(m), b(m.getContext()), graph(g), plan(p), f32(b.getFloatTy()),
      f64(b.getDoubleTy()), i32(b.getInt32Ty()), i64(b.getInt64Ty()),
      ptr(llvm::PointerType::getUnqual(m.getContext())), buffers(g.size(), nullptr),
      places(g.size()) {}

llvm::Value *Emitter::rowsOf(const ir::TensorType &t) {
  const int64_t perRow = t.dims.empty() ? 1 : t.rowElements() / t.lastDim();
  return t.batched ? b.CreateMul(rows, cst(perRow)) : cst(perRow);
}

llvm::Value *Emitter::count(const ir::TensorType &t) {
  return t.batched ? b.CreateMul(rows, cst(t.rowElements())) : cst(t.rowElements());
}

llvm::Value *Emitter::at(llvm::Value *base, llvm::Value *index) {
  return b.CreateInBoundsGEP(f32, base, index);
}

void Emitter::placeAtRoot(ir::ValueId id, llvm::Value *root) {
  buffers[id] = root;
  places[id] = {root, 0, false};
}

void Emitter::placeAt(ir::ValueId id, llvm::Value *root, int64_t offset, bool perRow) {
  buffers[id] = at(root, perRow ? b.CreateMul(rows, cst(offset)) : cst(offset));
  places[id] = {root, offset, perRow};
}

llvm::Value *Emitter::load(llvm::Value *base, llvm::Value *index) {
  return b.CreateLoad(f32, at(base, index));
}

void Emitter::store(llvm::Value *v, llvm::Value *base, llvm::Value *index) {
  b.CreateStore(v, at(base, index));
}

void Emitter::loop(llvm::Value *begin, llvm::Value *end,
                   const std::function<void(llvm::Value *)> &body, Unroll unroll) {
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  llvm::BasicBlock *pre = b.GetInsertBlock();
  llvm::BasicBlock *head = llvm::BasicBlock::Create(ctx, "loop", fn);
  llvm::BasicBlock *bodyBlock = llvm::BasicBlock::Create(ctx, "body", fn);
  llvm::BasicBlock *exit = llvm::BasicBlock::Create(ctx, "done", fn);
  b.CreateBr(head);
  b.SetInsertPoint(head);
  llvm::PHINode *i = b.CreatePHI(i64, 2, "i");
  i->addIncoming(begin, pre);
  b.CreateCondBr(b.CreateICmpSLT(i, end), bodyBlock, exit);
  b.SetInsertPoint(bodyBlock);
  body(i);
  llvm::Value *next = b.CreateAdd(i, cst(1), "", /*HasNUW=*/true, /*HasNSW=*/true);
  i->addIncoming(next, b.GetInsertBlock());
  llvm::BranchInst *latch = b.CreateBr(head);
  if (unroll == Unroll::Never) {
    // Loop metadata is a distinct node whose first operand is itself.
    llvm::Metadata *disable =
        llvm::MDNode::get(ctx, llvm::MDString::get(ctx, "llvm.loop.unroll.disable"));
    llvm::MDNode *id = llvm::MDNode::getDistinct(ctx, {nullptr, disable});
    id->replaceOperandWith(0, id);
    latch->setMetadata(llvm::LLVMContext::MD_loop, id);
  }
  b.SetInsertPoint(exit);
}

void Emitter::grid(llvm::Value *rows, int64_t width,
                   const std::function<void(llvm::Value *, llvm::Value *)> &body) {
  loop(rows, [&](llvm::Value *r) { loop(cst(width), [&](llvm::Value *c) { body(r, c); }); });
}

void Emitter::flagAtLeast(llvm::Value *flag, llvm::Value *x, uint32_t exponentBits) {
  llvm::Value *exponent = b.CreateAnd(b.CreateBitCast(x, b.getInt32Ty()), b.getInt32(0x7f800000));
  llvm::Value *hit =
      b.CreateZExt(b.CreateICmpUGE(exponent, b.getInt32(exponentBits)), b.getInt32Ty());
  b.CreateStore(b.CreateOr(b.CreateLoad(b.getInt32Ty(), flag), hit), flag);
}

void Emitter::noteMagnitude(llvm::Value *largest, llvm::Value *x) {
  llvm::Value *magnitude = b.CreateAnd(b.CreateBitCast(x, b.getInt32Ty()), b.getInt32(0x7fffffff));
  b.CreateStore(b.CreateBinaryIntrinsic(llvm::Intrinsic::umax,
                                        b.CreateLoad(b.getInt32Ty(), largest), magnitude),
                largest);
}

void Emitter::flagLargest(llvm::Value *flag, llvm::Value *largest, uint32_t exponentBits) {
  llvm::Value *hit =
      b.CreateZExt(b.CreateICmpUGE(b.CreateLoad(b.getInt32Ty(), largest), b.getInt32(exponentBits)),
                   b.getInt32Ty());
  b.CreateStore(b.CreateOr(b.CreateLoad(b.getInt32Ty(), flag), hit), flag);
}

llvm::Value *Emitter::entryAlloca(llvm::Type *type) {
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  llvm::IRBuilder<> entry(&fn->getEntryBlock(), fn->getEntryBlock().begin());
  return entry.CreateAlloca(type);
}

llvm::Value *Emitter::accumulator(llvm::Type *type, llvm::Value *init) {
  llvm::Value *slot = entryAlloca(type);
  b.CreateStore(init, slot);
  return slot;
}

llvm::Value *Emitter::laneSum(llvm::Value *v) {
  int width = static_cast<int>(llvm::cast<llvm::FixedVectorType>(v->getType())->getNumElements());
  for (int n = width / 2; n >= 1; n /= 2) {
    std::vector<int> low, high;
    for (int l = 0; l < n; ++l) {
      low.push_back(l);
      high.push_back(l + n);
    }
    v = b.CreateFAdd(b.CreateShuffleVector(v, low), b.CreateShuffleVector(v, high));
  }
  return b.CreateExtractElement(v, uint64_t(0));
}

llvm::Value *Emitter::callMath(const char *name, llvm::Value *x) {
  std::string n = name;
  if (n == "expf" || n == "logf" || n == "sqrtf" || n == "fabsf") {
    llvm::Intrinsic::ID id = n == "expf"    ? llvm::Intrinsic::exp
                             : n == "logf"  ? llvm::Intrinsic::log
                             : n == "sqrtf" ? llvm::Intrinsic::sqrt
                                            : llvm::Intrinsic::fabs;
    return b.CreateCall(llvm::Intrinsic::getDeclaration(&module, id, {x->getType()}), {x});
  }
  llvm::FunctionCallee fn =
      module.getOrInsertFunction(name, llvm::FunctionType::get(f32, {f32}, false));
  return b.CreateCall(fn, {x});
}

llvm::Value *Emitter::fmax(llvm::Value *a, llvm::Value *c) {
  return b.CreateCall(
      llvm::Intrinsic::getDeclaration(&module, llvm::Intrinsic::maxnum, {a->getType()}), {a, c});
}

llvm::Value *Emitter::unary(OpKind kind, const ir::Attrs &a, llvm::Value *x) {
  // Constants of x's type, so Relu and Step also work on vectors (a product's
  // tile, a row of pool windows: passes/Activations.h).
  llvm::Value *zero = llvm::ConstantFP::get(x->getType(), 0.0);
  llvm::Value *one = llvm::ConstantFP::get(x->getType(), 1.0);
  auto gt0 = [&] { return b.CreateFCmpOGT(x, zero); };
  switch (kind) {
  case OpKind::Neg:
    return b.CreateFNeg(x);
  case OpKind::Relu:
    return b.CreateSelect(gt0(), x, zero);
  case OpKind::LeakyRelu:
    return b.CreateSelect(gt0(), x, b.CreateFMul(fcst(a.alpha), x));
  case OpKind::Tanh:
    return callMath("tanhf", x);
  case OpKind::Exp:
    return exp(x);
  case OpKind::Log:
    return log(x);
  case OpKind::Abs:
    return callMath("fabsf", x);
  case OpKind::Square:
    return b.CreateFMul(x, x);
  case OpKind::Sqrt:
    return callMath("sqrtf", x);
  case OpKind::Step:
    return b.CreateSelect(gt0(), one, zero);
  case OpKind::Sign:
    return b.CreateSelect(gt0(), one, b.CreateSelect(b.CreateFCmpOLT(x, zero), fcst(-1), zero));
  case OpKind::LeakyReluDeriv:
    return b.CreateSelect(gt0(), one, fcst(a.alpha));
  case OpKind::Sigmoid: {
    // e = exp(-|x|) never overflows; sigmoid is 1/(1+e) or e/(1+e) by sign.
    llvm::Value *e = exp(b.CreateFNeg(callMath("fabsf", x)));
    llvm::Value *r = b.CreateFDiv(one, b.CreateFAdd(one, e));
    return b.CreateSelect(b.CreateFCmpOGE(x, zero), r, b.CreateFMul(e, r));
  }
  case OpKind::Gelu:
  case OpKind::GeluDeriv: {
    llvm::Value *x3 = b.CreateFMul(b.CreateFMul(x, x), x);
    llvm::Value *inner = b.CreateFMul(fcst(ir::math::kGeluC),
                                      b.CreateFAdd(x, b.CreateFMul(fcst(ir::math::kGeluA), x3)));
    llvm::Value *t = callMath("tanhf", inner);
    llvm::Value *half = fcst(0.5);
    if (kind == OpKind::Gelu)
      return b.CreateFMul(b.CreateFMul(half, x), b.CreateFAdd(one, t));
    llvm::Value *dInner = b.CreateFMul(
        fcst(ir::math::kGeluC),
        b.CreateFAdd(one, b.CreateFMul(fcst(3 * ir::math::kGeluA), b.CreateFMul(x, x))));
    llvm::Value *sech2 = b.CreateFSub(one, b.CreateFMul(t, t));
    return b.CreateFAdd(b.CreateFMul(half, b.CreateFAdd(one, t)),
                        b.CreateFMul(b.CreateFMul(b.CreateFMul(half, x), sech2), dInner));
  }
  default: // callers pass only OpClass::Unary kinds
    ir::unexpectedOp(kind, "the unary code generator");
  }
}

llvm::Value *Emitter::valueAt(ir::ValueId id, llvm::Value *flat, llvm::Value *col) {
  return isFused(id) ? compute(id, flat, col) : load(buffers[id], flat);
}

int64_t Emitter::fusedProductSteps(ir::ValueId id) const {
  int64_t steps = 0;
  for (ir::ValueId o : graph.op(id).operands) {
    if (!isFused(o))
      continue;
    if (graph.op(o).kind == OpKind::MatMul)
      steps += graph.type(graph.op(o).operands[0]).lastDim();
    steps += fusedProductSteps(o);
  }
  return steps;
}

llvm::Value *Emitter::compute(ir::ValueId id, llvm::Value *flat, llvm::Value *col) {
  const ir::Op &op = graph.op(id);
  if (op.kind == OpKind::MatMul) {
    // A product of few steps (passes/Fusion.h): element (r, c) sums a[r, p]
    // w[p, c] from zero in step order with the tiles' multiply-adds, so
    // its bits are the product kernel's (zero plus a -0 product is +0 there too).
    const int64_t k = graph.type(op.operands[0]).lastDim(), n = op.type.lastDim();
    llvm::Value *row = b.CreateUDiv(b.CreateSub(flat, col), cst(n));
    auto *fmuladd = llvm::Intrinsic::getDeclaration(&module, llvm::Intrinsic::fmuladd, {f32});
    llvm::Value *sum = fcst(0.0);
    for (int64_t p = 0; p < k; ++p) {
      llvm::Value *a = load(buffers[op.operands[0]], b.CreateAdd(b.CreateMul(row, cst(k)), cst(p)));
      llvm::Value *w = load(buffers[op.operands[1]], b.CreateAdd(cst(p * n), col));
      sum = b.CreateCall(fmuladd, {a, w, sum});
    }
    return sum;
  }
  // Operands are the op's own type, a scalar, or a vector along the last
  // dimension (whose flat index is the column).
  auto operand = [&](int k) {
    ir::ValueId o = op.operands[k];
    const ir::TensorType &t = graph.type(o);
    if (t == op.type)
      return valueAt(o, flat, col);
    if (t.isScalar())
      return valueAt(o, cst(0), cst(0));
    return valueAt(o, col, col);
  };
  if (ir::isElementwiseUnary(op.kind))
    return unary(op.kind, op.attrs, operand(0));
  return binary(op.kind, operand(0), operand(1));
}

llvm::Value *Emitter::binary(OpKind kind, llvm::Value *x, llvm::Value *y) {
  switch (kind) {
  case OpKind::Add:
    return b.CreateFAdd(x, y);
  case OpKind::Sub:
    return b.CreateFSub(x, y);
  case OpKind::Mul:
    return b.CreateFMul(x, y);
  case OpKind::Div:
    return b.CreateFDiv(x, y);
  default: // callers pass only OpClass::Binary kinds
    ir::unexpectedOp(kind, "the binary code generator");
  }
}

void Emitter::inThreads(
    ir::ValueId id, llvm::Value *n, llvm::Value *work,
    const std::function<void(llvm::Value *, llvm::Value *, llvm::Value *)> &body,
    llvm::Value *extra, Disjoint disjoint) {
  // The kernel's arguments: the buffers the op writes and reads, its fused
  // operands' included, mapped back to the values inside.
  std::vector<ir::ValueId> ids = storageOf(id);
  std::vector<llvm::Value *> args;
  for (ir::ValueId v : ids)
    args.push_back(buffers[v]);
  if (extra)
    args.push_back(extra);
  parallelRows(
      n, work, args,
      [&](auto &a, llvm::Value *begin, llvm::Value *end) {
        std::vector<llvm::Value *> saved = buffers;
        for (size_t k = 0; k < ids.size(); ++k)
          buffers[ids[k]] = a[k];
        body(begin, end, extra ? a.back() : nullptr);
        buffers = std::move(saved);
      },
      disjoint);
}

void Emitter::eachRow(
    ir::ValueId id, const ir::TensorType &type, int64_t rowWork, llvm::Value *n, llvm::Value *work,
    const std::function<void(llvm::Value *, llvm::Value *, llvm::Value *)> &body) {
  if (!type.batched && rowWork < kParallelWork) {
    body(cst(0), n, nullptr);
    return;
  }
  if (!type.batched || rowWork >= kThreadedRow) {
    inThreads(id, n, work, body);
    return;
  }
  ifElse(
      b.CreateICmpSLT(work, cst(kParallelWork)), [&] { body(cst(0), n, nullptr); },
      [&] { inThreads(id, n, work, body); });
}

void Emitter::emitElementwise(const ir::Op &op, ir::ValueId id) {
  // Rows outside, the last dimension inside: the inner loop is contiguous and
  // has a constant trip count, and a broadcast vector operand is indexed by it.
  // Rows are independent, so values that can be large (a layer's
  // activations over a large batch) are split over the threads (one element
  // per unit of work) with the same results; values with short rows keep the
  // plain loop, which costs nothing to call.
  int64_t last = std::max<int64_t>(op.type.lastDim(), 1);
  llvm::Value *nrows = b.CreateUDiv(count(op.type), cst(last));
  auto rowsLoop = [&](llvm::Value *begin, llvm::Value *end, llvm::Value *) {
    loop(begin, end, [&](llvm::Value *r) {
      llvm::Value *base = b.CreateMul(r, cst(last));
      loop(cst(last), [&](llvm::Value *c) {
        llvm::Value *flat = b.CreateAdd(base, c);
        store(compute(id, flat, c), buffers[id], flat);
      });
    });
  };
  // Rows thread once parallelRows sees enough work (kParallelWork elements:
  // rows of 64 from batch 1024, of 1024 from 64). An element of fused
  // products (passes/Fusion.h) counts one more unit per multiply-add: the
  // 10-wide trunk gradient of M2's two heads (5 and 3 steps) splits from
  // batch 729 (their products from 2,622 and 4,370).
  const int64_t perElement = 1 + fusedProductSteps(id);
  eachRow(id, op.type, op.type.rowElements() * perElement, nrows,
          b.CreateMul(count(op.type), cst(perElement)), rowsLoop);
}

void Emitter::emitShapeOp(const ir::Op &op, ir::ValueId id) {
  llvm::Value *out = buffers[id];
  if (op.kind == OpKind::Constant) {
    store(fcst(op.attrs.value), out, cst(0));
    return;
  }
  const ir::TensorType &t0 = graph.type(op.operands[0]);
  llvm::Value *in = buffers[op.operands[0]];
  switch (op.kind) {
  // Loops over rows, then over a row's columns: the inner loop is contiguous
  // and what is broadcast along it is invariant there, so it vectorises.
  case OpKind::BroadcastLike: {
    if (t0 == op.type || t0.isScalar()) {
      loop(count(op.type),
           [&](llvm::Value *i) { store(load(in, t0 == op.type ? i : cst(0)), out, i); });
      return;
    }
    int64_t last = std::max<int64_t>(op.type.lastDim(), 1);
    grid(b.CreateUDiv(count(op.type), cst(last)), last, [&](llvm::Value *r, llvm::Value *c) {
      store(load(in, c), out, b.CreateAdd(b.CreateMul(r, cst(last)), c));
    });
    return;
  }
  case OpKind::ExpandLast: {
    const int64_t size = op.attrs.size;
    grid(count(t0), size, [&](llvm::Value *r, llvm::Value *c) {
      store(load(in, r), out, b.CreateAdd(b.CreateMul(r, cst(size)), c));
    });
    return;
  }
  case OpKind::ElementCount:
    store(b.CreateUIToFP(count(t0), f32), out, cst(0));
    return;
  case OpKind::Concat: { // each operand's rows into its columns of the output's
    const int64_t width = op.type.lastDim();
    int64_t at = 0;
    for (ir::ValueId part : op.operands) {
      const int64_t w = graph.type(part).lastDim();
      llvm::Value *src = buffers[part];
      grid(b.CreateUDiv(count(graph.type(part)), cst(w)), w, [&](llvm::Value *r, llvm::Value *c) {
        store(load(src, b.CreateAdd(b.CreateMul(r, cst(w)), c)), out,
              b.CreateAdd(b.CreateMul(r, cst(width)), b.CreateAdd(c, cst(at))));
      });
      at += w;
    }
    return;
  }
  case OpKind::Slice: { // `in` points at the slice's first column (emitOpOutlined)
    const int64_t size = op.attrs.size, from = t0.lastDim();
    grid(b.CreateUDiv(count(op.type), cst(size)), size, [&](llvm::Value *r, llvm::Value *c) {
      store(load(in, b.CreateAdd(b.CreateMul(r, cst(from)), c)), out,
            b.CreateAdd(b.CreateMul(r, cst(size)), c));
    });
    return;
  }
  case OpKind::TrainSelect: { // a copy of the operand this step reads
    llvm::Value *src = buffers[op.operands[training ? 0 : 1]];
    loop(count(op.type), [&](llvm::Value *i) { store(load(src, i), out, i); });
    return;
  }
  case OpKind::SliceGrad: { // g where the slice came from, zero elsewhere
    const int64_t size = op.attrs.size, width = op.type.lastDim(), begin = op.attrs.begin;
    loop(b.CreateUDiv(count(op.type), cst(width)), [&](llvm::Value *r) {
      llvm::Value *row = b.CreateMul(r, cst(width));
      loop(cst(begin), [&](llvm::Value *c) { store(fcst(0.0), out, b.CreateAdd(row, c)); });
      loop(cst(size), [&](llvm::Value *c) {
        store(load(in, b.CreateAdd(b.CreateMul(r, cst(size)), c)), out,
              b.CreateAdd(row, b.CreateAdd(c, cst(begin))));
      });
      loop(cst(begin + size), cst(width),
           [&](llvm::Value *c) { store(fcst(0.0), out, b.CreateAdd(row, c)); });
    });
    return;
  }
  default: // emitOp sends only these kinds here
    ir::unexpectedOp(op.kind, "the shape-op code generator");
  }
}

void Emitter::emitOp(ir::ValueId id) {
  const ir::Op &op = graph.op(id);
  if (isFused(id) || isCarried(id))
    return; // computed inside its consumer's loop (passes/Fusion.h)
  kernelOp = ir::opName(op.kind);
  switch (op.kind) {
  case OpKind::Input:
  case OpKind::Param:
  case OpKind::Buffer:
  case OpKind::Reshape:
    return; // storage only, set up by the caller
  case OpKind::Linear:
  case OpKind::MatMul:
  case OpKind::MatMulTN:
  case OpKind::MatMulLeft:
  case OpKind::MatMulSumNT:
  case OpKind::Gather:
  case OpKind::GatherGrad:
  case OpKind::Dropout:
    emitMatrix(op, id);
    return;
  case OpKind::Softmax:
  case OpKind::LogSoftmax:
  case OpKind::LayerNorm:
  case OpKind::SoftmaxGrad:
  case OpKind::LogSoftmaxGrad:
  case OpKind::LayerNormGrad:
    emitRowwise(op, id);
    return;
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
    emitReduce(op, id);
    return;
  case OpKind::BatchNorm:
    emitBatchNorm(op, id);
    return;
  case OpKind::Loss:
  case OpKind::LossGrad:
    emitLoss(op, id);
    return;
  case OpKind::Im2Col:
  case OpKind::Im2ColGrad:
  case OpKind::MaxPool:
  case OpKind::MaxPoolGrad:
  case OpKind::AvgPool:
  case OpKind::AvgPoolGrad:
    emitWindow(op, id);
    return;
  case OpKind::Transpose:
    emitTranspose(op, id);
    return;
  case OpKind::Constant:
  case OpKind::BroadcastLike:
  case OpKind::ExpandLast:
  case OpKind::ElementCount:
  case OpKind::Concat:
  case OpKind::Slice:
  case OpKind::SliceGrad:
  case OpKind::TrainSelect:
    MTL_CASE_BINARY_OPS
    MTL_CASE_UNARY_OPS
    break; // below: element-wise or a shape op
  }
  if (ir::isElementwiseUnary(op.kind) || ir::isElementwiseBinary(op.kind))
    emitElementwise(op, id);
  else
    emitShapeOp(op, id);
}

} // namespace mtl::codegen
