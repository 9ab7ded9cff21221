// Matrix.cpp: matrix products (split across threads by independent rows),
// embedding gather/scatter and dropout.
//
// Each product is written so that its innermost loop is contiguous with a
// constant trip count, its vectors and the order of its sums spelled out
// (LLVM unrolls and schedules them, never reorders a sum).
// A row of the result is always computed by one thread in one fixed order,
// so results do not depend on how the runtime splits the rows.
#include "codegen/Emitter.h"

#include "codegen/MicroKernel.h"
#include "ir/Random.h"

#include <llvm/IR/Intrinsics.h>

#include <algorithm>

namespace mtl::codegen {

using ir::OpKind;

namespace {
// A weight gradient sums over every row of the batch (every position of
// every image, for a convolution): in blocks of this many rows, so that a
// tile's panel of the second operand (64 rows of at most 64 floats, 16 KB) stays in
// the L1 cache while the tiles of every output row block read it. Each
// element still sums the rows in order: the block size never changes results.
constexpr int64_t kStepBlock = 64;
// A weight gradient of at least this many rows copies each block of its
// second operand's panels contiguous first (TileAccess::packBlocks): M3's
// 784 rows 4-6% shorter steps at 256 and 1024 rows; at M1's 10 and 50 rows
// the copies cost 2-4%. (A convolution's products always do.)
constexpr int64_t kPackRows = 128;
// A dense layer with at most this many outputs computes dot products at any
// batch: the tiled kernel would use one vector lane of 16 per row, in a chain
// of `in` dependent multiply-adds. In perf, M1's dense(1) heads at batch 256
// took about 5.7 us each tiled and 1.1 us as dot products (the step 102 ->
// 87 us); M2's heads of 5 and 3 outputs are faster tiled.
constexpr int64_t kNarrowLinear = 4;
// From this many rows on, a dense layer's forward product packs its weight
// into scratch first (the copy costs in·out, the product rows·in·out), and
// from kPackedGradientRows on its input gradient's product does.
constexpr int64_t kPackedRows = 16, kPackedGradientRows = 64;
// A dense layer's forward tiles prefetch the next tile's rows of its input
// (TileAccess::aRows) where those rows have this many floats or more: six
// such rows are six streams KBs apart, which the CPU does not follow (M3's
// 784: its step at 1024 rows 10% shorter); shorter rows lie a few cache
// lines apart, one stream it does follow, and the prefetches only cost
// (M1's 10 and 50: 1-2% longer at 4096 rows on two threads).
constexpr int64_t kPrefetchedRowFloats = 256;

// Whether a product of `work` multiply-adds splits over the threads: from
// Emitter::kParallelProductWork (passes/Lanes.h).
llvm::Value *productSplits(Emitter &e, llvm::Value *work) {
  return e.b.CreateICmpSGE(work, e.cst(Emitter::kParallelProductWork));
}

// Whether args[k] is a `noalias` argument of the function being emitted,
// passed once in `args`.
bool distinctArgument(const std::vector<llvm::Value *> &args, size_t k) {
  auto *a = llvm::dyn_cast<llvm::Argument>(args[k]);
  return a && a->hasNoAliasAttr() && std::count(args.begin(), args.end(), args[k]) == 1;
}
} // namespace

// Emits `body` into a new function kernel(ctx, begin, end) over rows
// [begin, end) and calls it through the runtime's parallel_for (or directly).
// `args` travel in a context array; the body receives them reloaded.
void Emitter::ifElse(llvm::Value *cond, const std::function<void()> &then,
                     const std::function<void()> &otherwise) {
  llvm::Function *fn = b.GetInsertBlock()->getParent();
  llvm::BasicBlock *yes = llvm::BasicBlock::Create(ctx, "then", fn);
  llvm::BasicBlock *no = llvm::BasicBlock::Create(ctx, "else", fn);
  llvm::BasicBlock *join = llvm::BasicBlock::Create(ctx, "join", fn);
  b.CreateCondBr(cond, yes, no);
  b.SetInsertPoint(yes);
  then();
  b.CreateBr(join);
  b.SetInsertPoint(no);
  otherwise();
  b.CreateBr(join);
  b.SetInsertPoint(join);
}

void Emitter::preferFullWidth(llvm::Function *fn) {
  fn->addFnAttr("prefer-vector-width", std::to_string(vectors.floats * 32));
}

llvm::Function *Emitter::parallelRows(llvm::Value *n, llvm::Value *work,
                                      const std::vector<llvm::Value *> &args,
                                      const KernelBody &body, Disjoint disjoint) {
  auto *kernelType = llvm::FunctionType::get(b.getVoidTy(), {ptr, i64, i64}, false);
  auto *kernel = llvm::Function::Create(kernelType, llvm::Function::InternalLinkage,
                                        std::string("mtl.kernel.") + kernelOp, module);
  kernel->addFnAttr(llvm::Attribute::NoUnwind);
  // Pack the arguments (pointers and i64s) into 8-byte slots.
  llvm::Value *slots = entryAlloca(llvm::ArrayType::get(i64, args.size()));
  for (size_t k = 0; k < args.size(); ++k) {
    llvm::Type *type = args[k]->getType();
    llvm::Value *v = type->isPointerTy() ? b.CreatePtrToInt(args[k], i64)
                     : type->isFloatTy()
                         ? b.CreateZExt(b.CreateBitCast(args[k], b.getInt32Ty()), i64)
                         : args[k];
    b.CreateStore(v, b.CreateInBoundsGEP(i64, slots, cst(static_cast<int64_t>(k))));
  }
  // The call: parallel when there is a pool and enough work.
  llvm::Function *outer = b.GetInsertBlock()->getParent();
  llvm::BasicBlock *viaPool = llvm::BasicBlock::Create(ctx, "pool", outer);
  llvm::BasicBlock *direct = llvm::BasicBlock::Create(ctx, "direct", outer);
  llvm::BasicBlock *after = llvm::BasicBlock::Create(ctx, "after", outer);
  llvm::Value *big =
      work->getType()->isIntegerTy(1) ? work : b.CreateICmpSGE(work, cst(kParallelWork));
  llvm::Value *hasPool =
      b.CreateICmpNE(parallel, llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(ptr)));
  b.CreateCondBr(b.CreateAnd(big, hasPool), viaPool, direct);
  b.SetInsertPoint(viaPool);
  llvm::Value *fn = b.CreateLoad(ptr, parallel);
  llvm::Value *pool = b.CreateLoad(ptr, b.CreateInBoundsGEP(b.getInt8Ty(), parallel, cst(8)));
  auto *pforType = llvm::FunctionType::get(b.getVoidTy(), {ptr, i64, ptr, ptr}, false);
  b.CreateCall(pforType, fn, {pool, n, kernel, slots});
  b.CreateBr(after);
  b.SetInsertPoint(direct);
  b.CreateCall(kernelType, kernel, {slots, cst(0), n});
  b.CreateBr(after);

  // The kernel's body, emitted with this builder, then restored.
  llvm::IRBuilderBase::InsertPoint saved = b.saveIP();
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", kernel));
  std::vector<llvm::Value *> loaded;
  for (size_t k = 0; k < args.size(); ++k) {
    llvm::Value *slot = b.CreateInBoundsGEP(i64, kernel->getArg(0), cst(static_cast<int64_t>(k)));
    llvm::Value *v = b.CreateLoad(i64, slot);
    llvm::Type *type = args[k]->getType();
    loaded.push_back(type->isPointerTy() ? b.CreateIntToPtr(v, ptr)
                     : type->isFloatTy() ? b.CreateBitCast(b.CreateTrunc(v, b.getInt32Ty()), f32)
                                         : v);
  }
  // Pointers reloaded from integers tell LLVM nothing about overlap. Where
  // asked to, and the caller's buffers are its own `noalias` arguments
  // (Outline.cpp), each passed once, the body goes into a function whose
  // arguments say so again (first, in `order`).
  std::vector<size_t> order;
  if (disjoint == Disjoint::Restate)
    for (size_t k = 0; k < args.size(); ++k)
      if (distinctArgument(args, k))
        order.push_back(k);
  if (order.empty()) {
    body(loaded, kernel->getArg(1), kernel->getArg(2));
  } else {
    const size_t distinct = order.size();
    for (size_t k = 0; k < args.size(); ++k)
      if (!distinctArgument(args, k))
        order.push_back(k);
    std::vector<llvm::Value *> inner;
    for (size_t k : order)
      inner.push_back(loaded[k]);
    inner.push_back(kernel->getArg(1));
    inner.push_back(kernel->getArg(2));
    outlined(
        inner,
        [&](const std::vector<llvm::Value *> &params) {
          std::vector<llvm::Value *> reordered(args.size());
          for (size_t k = 0; k < order.size(); ++k)
            reordered[order[k]] = params[k];
          body(reordered, params[order.size()], params[order.size() + 1]);
        },
        /*inlined=*/true, distinct)
        ->setName(kernel->getName() + ".rows");
  }
  b.CreateRetVoid();
  b.restoreIP(saved);
  b.SetInsertPoint(after);
  return kernel;
}

void Emitter::emitMatrix(const ir::Op &op, ir::ValueId id) {
  llvm::Value *out = buffers[id];
  const ir::TensorType &t0 = graph.type(op.operands[0]);
  switch (op.kind) {
  case OpKind::Linear: {
    // y[r, o] = bias[o] + Σ_k x[r, k] W[o, k]. From 16 rows on, W is first
    // transposed into scratch, panel by panel (emitPackTransposed), so each
    // tile streams its panel's rows contiguously (the packing costs in·out,
    // the product rows·in·out); below that, and for
    // layers of at most kNarrowLinear outputs, dot products of contiguous
    // rows, four batch rows per weight load, are cheaper. Each dot product
    // sums `lanes` partial sums (llvm.fmuladd of whole vectors: 16 lanes, or
    // 8 or 4 for shorter rows; none below 4 terms), then adds the lanes
    // (laneSum) and the last `in` mod `lanes` terms in order.
    int64_t in = t0.lastDim(), outDim = op.type.lastDim();
    bool hasBias = op.operands.size() == 3;
    const bool relu = op.attrs.activation == ir::Activation::Relu;
    llvm::Value *x = buffers[op.operands[0]], *w = buffers[op.operands[1]];
    llvm::Value *bias = hasBias ? buffers[op.operands[2]] : w;
    llvm::Value *nrows = rowsOf(op.type);
    llvm::Value *work = productSplits(*this, b.CreateMul(nrows, cst(in * outDim)));
    // Both ways add the bias to each finished sum before storing it, as
    // y = (Σ_k x w) + b, then a fused relu (passes/Activations.h): the bits
    // of separate passes, without the passes.
    auto tiled = [&] {
      emitPackTransposed(*this, w, scratch, outDim, in);
      parallelRows(
          nrows, work, {x, scratch, bias, out},
          [&](auto &a, llvm::Value *begin, llvm::Value *end) {
            TileAccess access{cst(in),
                              [&](llvm::Value *r, llvm::Value *k, llvm::Value *) {
                                return load(a[0], b.CreateAdd(b.CreateMul(r, cst(in)), k));
                              },
                              packedPanels(*this, a[1], in),
                              [&](llvm::Value *r) { return at(a[3], b.CreateMul(r, cst(outDim))); },
                              outDim};
            access.bias = hasBias ? a[2] : nullptr;
            access.relu = relu;
            if (in >= kPrefetchedRowFloats)
              access.aRows = a[0];
            emitTiledProduct(*this, access, begin, end);
          },
          Disjoint::Ignore);
    };
    auto dots = [&] {
      auto rowsFrom = [&](auto &a, llvm::Value *row0, int rows) {
        const int lanes = in >= kSumLanes ? kSumLanes : in >= 8 ? 8 : 4;
        const int64_t blocks = in / lanes, vectorEnd = blocks * lanes;
        llvm::FixedVectorType *vec = sumVector(lanes);
        auto *fmaVec = llvm::Intrinsic::getDeclaration(&module, llvm::Intrinsic::fmuladd, {vec});
        auto *fma = llvm::Intrinsic::getDeclaration(&module, llvm::Intrinsic::fmuladd, {f32});
        loop(cst(outDim), [&](llvm::Value *o) {
          llvm::Value *wRow = at(a[1], b.CreateMul(o, cst(in)));
          auto xAt = [&](int q, llvm::Value *k) {
            llvm::Value *row = b.CreateAdd(row0, cst(q));
            return at(a[0], b.CreateAdd(b.CreateMul(row, cst(in)), k));
          };
          std::vector<llvm::Value *> acc;
          for (int q = 0; q < rows; ++q)
            acc.push_back(accumulator(vec, llvm::Constant::getNullValue(vec)));
          if (blocks > 0)
            loop(cst(blocks), [&](llvm::Value *block) {
              llvm::Value *k = b.CreateMul(block, cst(lanes));
              llvm::Value *wv = b.CreateAlignedLoad(vec, at(wRow, k), llvm::Align(4));
              for (int q = 0; q < rows; ++q) {
                llvm::Value *xv = b.CreateAlignedLoad(vec, xAt(q, k), llvm::Align(4));
                b.CreateStore(b.CreateCall(fmaVec, {xv, wv, b.CreateLoad(vec, acc[q])}), acc[q]);
              }
            });
          std::vector<llvm::Value *> sums;
          for (int q = 0; q < rows; ++q)
            sums.push_back(accumulator(f32, laneSum(b.CreateLoad(vec, acc[q]))));
          if (vectorEnd < in)
            loop(cst(vectorEnd), cst(in), [&](llvm::Value *k) {
              llvm::Value *wv = load(wRow, k);
              for (int q = 0; q < rows; ++q) {
                llvm::Value *xv = b.CreateLoad(f32, xAt(q, k));
                b.CreateStore(b.CreateCall(fma, {xv, wv, b.CreateLoad(f32, sums[q])}), sums[q]);
              }
            });
          for (int q = 0; q < rows; ++q) {
            llvm::Value *row = b.CreateAdd(row0, cst(q));
            llvm::Value *y = b.CreateLoad(f32, sums[q]);
            if (hasBias)
              y = b.CreateFAdd(y, load(a[2], o));
            if (relu)
              y = unary(OpKind::Relu, op.attrs, y);
            store(y, a[3], b.CreateAdd(b.CreateMul(row, cst(outDim)), o));
          }
        });
      };
      parallelRows(
          nrows, work, {x, w, bias, out},
          [&](auto &a, llvm::Value *begin, llvm::Value *end) {
            llvm::Value *blocks = b.CreateSDiv(b.CreateSub(end, begin), cst(4));
            loop(blocks, [&](llvm::Value *blk) {
              rowsFrom(a, b.CreateAdd(begin, b.CreateMul(blk, cst(4))), 4);
            });
            loop(b.CreateAdd(begin, b.CreateMul(blocks, cst(4))), end,
                 [&](llvm::Value *r) { rowsFrom(a, r, 1); });
          },
          Disjoint::Ignore);
    };
    if (outDim <= kNarrowLinear)
      dots();
    else
      ifElse(b.CreateICmpSGE(nrows, cst(kPackedRows)), tiled, dots);
    return;
  }
  case OpKind::MatMul: {
    // c[r, :] = Σ_p a[r, p] b[p, :] (the input gradient of a dense layer).
    // From kPackedGradientRows rows on, b (a weight, not batched) is first
    // copied into scratch in the tiles' panels (emitPackRows), as the
    // forward product's weight is: M4/1024 2-3% shorter steps; from 1 row
    // on, M4/1 took 3% longer and M1/32 1.5%.
    int64_t k = t0.lastDim(), n = op.type.lastDim();
    llvm::Value *rows = rowsOf(op.type), *source = buffers[op.operands[1]];
    llvm::Value *packed = b.getFalse();
    if (!graph.type(op.operands[1]).batched) {
      packed = b.CreateICmpSGE(rows, cst(kPackedGradientRows));
      ifElse(
          packed, [&] { emitPackRows(*this, source, scratch, n, k); }, [] {});
      source = b.CreateSelect(packed, scratch, source);
    }
    std::vector<llvm::Value *> args = {buffers[op.operands[0]], source, out,
                                       b.CreateZExt(packed, i64)};
    llvm::Value *work = productSplits(*this, b.CreateMul(rows, cst(k * n)));
    parallelRows(
        rows, work, args,
        [&](auto &a, llvm::Value *begin, llvm::Value *end) {
          llvm::Value *isPacked = b.CreateICmpNE(a[3], cst(0));
          // B(p, c) at p n + c, or in its panel: at col0 k + p columns + c - col0.
          auto bAt = [&](llvm::Value *p, llvm::Value *col0, int64_t columns) {
            llvm::Value *rowStride = b.CreateSelect(isPacked, cst(columns), cst(n));
            llvm::Value *panelStride = b.CreateSelect(isPacked, cst(k), cst(1));
            return at(a[1], b.CreateAdd(b.CreateMul(p, rowStride), b.CreateMul(col0, panelStride)));
          };
          TileAccess access{cst(k),
                            [&](llvm::Value *r, llvm::Value *p, llvm::Value *) {
                              return load(a[0], b.CreateAdd(b.CreateMul(r, cst(k)), p));
                            },
                            bAt, [&](llvm::Value *r) { return at(a[2], b.CreateMul(r, cst(n))); },
                            n};
          emitTiledProduct(*this, access, begin, end);
        },
        Disjoint::Ignore);
    return;
  }
  case OpKind::MatMulTN: {
    // c[i, :] = Σ_r a[r, i] b[r, :] (the weight gradient of a dense layer);
    // rows i of c are independent, and the sum over the batch runs in one
    // fixed order inside each. The kernel reads m, a's row length, from its
    // arguments, so the weight gradients of heads of different widths on
    // one trunk (the same n) are one function, compiled once.
    int64_t m = t0.lastDim(), n = op.type.lastDim();
    llvm::Value *nrows = b.CreateUDiv(count(t0), cst(m));
    std::vector<llvm::Value *> args = {buffers[op.operands[0]], buffers[op.operands[1]], out, nrows,
                                       cst(m)};
    // The work is m·n multiply-adds per batch row, not m·n.
    llvm::Value *work = productSplits(*this, b.CreateMul(nrows, cst(m * n)));
    parallelRows(
        cst(m), work, args,
        [&](auto &a, llvm::Value *begin, llvm::Value *end) {
          TileAccess access{a[3],
                            [&](llvm::Value *i, llvm::Value *r, llvm::Value *) {
                              return load(a[0], b.CreateAdd(b.CreateMul(r, a[4]), i));
                            },
                            rowMajor(*this, a[1], cst(n)),
                            [&](llvm::Value *i) { return at(a[2], b.CreateMul(i, cst(n))); },
                            n,
                            kStepBlock};
          access.packBlocks = m >= kPackRows;
          emitTiledProduct(*this, access, begin, end);
        },
        Disjoint::Ignore);
    return;
  }
  case OpKind::MatMulLeft: {
    // y_l = w x_l (+ b on each row) for each matrix x_l [k, n]: a
    // convolution's product, image by image; each image is one thread's.
    const int64_t m = t0.dims[0], k = t0.dims[1], n = op.type.lastDim();
    const bool hasBias = op.operands.size() == 3;
    llvm::Value *w = buffers[op.operands[0]], *x = buffers[op.operands[1]];
    llvm::Value *bias = hasBias ? buffers[op.operands[2]] : w;
    llvm::Value *matrices = b.CreateUDiv(count(op.type), cst(m * n));
    // Carried columns (passes/Fusion.h): each image's are computed, then
    // multiplied while in the cache. Where the batch's would not stay in
    // the cache (recomputesColumns) they go to the slot of the share's
    // first image, and the weight gradient computes them again; else to
    // their own place, where it reads them.
    const ir::Op *im2col = isCarried(op.operands[1]) ? &graph.op(op.operands[1]) : nullptr;
    llvm::Value *image = im2col ? buffers[im2col->operands[0]] : w;
    const bool carry = im2col != nullptr;
    llvm::Value *work =
        productSplits(*this, b.CreateMul(matrices, cst(m * k * n + (carry ? k * n : 0))));
    parallelRows(
        matrices, work, {w, x, bias, out, image, rows},
        [&](auto &a, llvm::Value *begin, llvm::Value *end) {
          loop(begin, end, [&](llvm::Value *l) {
            llvm::Value *slot = l;
            if (carry) {
              slot = b.CreateSelect(recomputesColumns(a[5], k * n), begin, l);
              imageColumns(*im2col, a[4], a[1], l, slot, cst(0), cst(k));
            }
            imageProduct(op, a[0], a[1], hasBias ? a[2] : nullptr, a[3], slot, l);
          });
        },
        Disjoint::Ignore);
    return;
  }
  case OpKind::MatMulSumNT: {
    // c[i, j] = Σ_l Σ_p a_l[i, p] b_l[j, p] (a convolution's weight
    // gradient: each image's output gradient times its columns, transposed):
    // the sum runs over the columns of every a_l in order, in blocks that
    // divide a matrix's k columns (at most kStepBlock where k has such a
    // divisor), so both elements are found from the block's first step
    // without a division in the loop. Each block of b_l's rows for a panel
    // is copied transposed (TileAccess::packBlock), so no transpose of a
    // whole operand is stored first.
    const int64_t m = op.type.dims[0], n = op.type.dims[1], k = t0.lastDim();
    int64_t block = k;
    for (int64_t d = std::min(k, kStepBlock); d >= kStepBlock / 4; --d)
      if (k % d == 0) {
        block = d;
        break;
      }
    llvm::Value *steps = b.CreateUDiv(count(t0), cst(m));
    // Carried columns (passes/Fusion.h), where the batch's would not stay
    // in the cache: each thread computes its rows of each image's columns
    // into the slot of image 0 as its sum reaches the image (a block never
    // spans two), so they are read from the cache. Else the forward product
    // stored them in their place and they are read there.
    const ir::Op *im2col = isCarried(op.operands[0]) ? &graph.op(op.operands[0]) : nullptr;
    std::vector<llvm::Value *> args = {buffers[op.operands[0]],
                                       buffers[op.operands[1]],
                                       out,
                                       steps,
                                       im2col ? buffers[im2col->operands[0]] : out,
                                       rows};
    llvm::Value *work = productSplits(*this, b.CreateMul(steps, cst(m * n)));
    parallelRows(
        cst(m), work, args,
        [&](auto &a, llvm::Value *begin, llvm::Value *end) {
          llvm::Value *carry = im2col ? recomputesColumns(a[5], m * k) : b.getFalse();
          // The matrix l = first / k that a block starting at `first` is in,
          // and the block's first column p0 = first - l k.
          auto matrixOf = [&](llvm::Value *first) {
            llvm::Value *l = b.CreateUDiv(first, cst(k));
            return std::pair{l, b.CreateSub(first, b.CreateMul(l, cst(k)))};
          };
          TileAccess access{a[3],
                            [&](llvm::Value *i, llvm::Value *s, llvm::Value *first) {
                              auto [l, p0] = matrixOf(first);
                              llvm::Value *p = b.CreateAdd(p0, b.CreateSub(s, first));
                              llvm::Value *row =
                                  b.CreateSelect(carry, i, b.CreateAdd(b.CreateMul(l, cst(m)), i));
                              return load(a[0], b.CreateAdd(b.CreateMul(row, cst(k)), p));
                            },
                            nullptr,
                            [&](llvm::Value *i) { return at(a[2], b.CreateMul(i, cst(n))); },
                            n,
                            block};
          access.packBlocks = true;
          if (im2col)
            access.beforeBlock = [&](llvm::Value *first) {
              auto [l, p0] = matrixOf(first);
              ifElse(
                  b.CreateAnd(carry, b.CreateICmpEQ(p0, cst(0))),
                  [&] { imageColumns(*im2col, a[4], a[0], l, cst(0), begin, end); }, [] {});
            };
          access.packBlock = [&](llvm::Value *packed, llvm::Value *first, llvm::Value *col0,
                                 int64_t columns) {
            // Rows col0.. of b_l, `block` floats each from p0, become
            // `block` rows of `columns` floats.
            auto [l, p0] = matrixOf(first);
            llvm::Value *row = b.CreateAdd(b.CreateMul(l, cst(n)), col0);
            transposeBlock(at(a[1], b.CreateAdd(b.CreateMul(row, cst(k)), p0)), packed, cst(0),
                           columns, block, k, columns);
          };
          emitTiledProduct(*this, access, begin, end);
        },
        Disjoint::Ignore);
    return;
  }
  case OpKind::Gather:
  case OpKind::GatherGrad: {
    // Ids outside the table read (or write) nothing; the data loader rejects
    // them before training, this only keeps memory safe.
    bool grad = op.kind == OpKind::GatherGrad;
    llvm::Value *ids = buffers[op.operands[1]];
    const ir::TensorType &idType = graph.type(op.operands[1]);
    int64_t dim = op.type.lastDim();
    int64_t vocab = grad ? op.attrs.size : t0.dims[0];
    llvm::Value *src = buffers[op.operands[0]];
    // Zero first: a gradient accumulates, and a row with an invalid id reads as zeros.
    loop(count(op.type), [&](llvm::Value *i) { store(fcst(0), out, i); });
    loop(count(idType), [&](llvm::Value *p) {
      llvm::Value *id64 = b.CreateSExt(b.CreateLoad(i32, b.CreateInBoundsGEP(i32, ids, p)), i64);
      llvm::Value *valid = b.CreateICmpULT(id64, cst(vocab));
      llvm::Function *fn = b.GetInsertBlock()->getParent();
      llvm::BasicBlock *yes = llvm::BasicBlock::Create(ctx, "id_ok", fn);
      llvm::BasicBlock *cont = llvm::BasicBlock::Create(ctx, "id_next", fn);
      b.CreateCondBr(valid, yes, cont);
      b.SetInsertPoint(yes);
      loop(cst(dim), [&](llvm::Value *j) {
        llvm::Value *tableIdx = b.CreateAdd(b.CreateMul(id64, cst(dim)), j);
        llvm::Value *posIdx = b.CreateAdd(b.CreateMul(p, cst(dim)), j);
        if (grad)
          store(b.CreateFAdd(load(out, tableIdx), load(src, posIdx)), out, tableIdx);
        else
          store(load(src, tableIdx), out, posIdx);
      });
      b.CreateBr(cont);
      b.SetInsertPoint(cont);
    });
    return;
  }
  case OpKind::Dropout: {
    llvm::Value *x = buffers[op.operands[0]];
    if (!training || op.attrs.rate == 0) {
      loop(count(op.type), [&](llvm::Value *i) { store(load(x, i), out, i); });
      return;
    }
    llvm::Value *keepScale = fcst(1 - op.attrs.rate);
    loop(count(op.type), [&](llvm::Value *i) {
      // uniform = mix64(seed ^ mix64(step ^ mix64(i))) >> 40, as ir::dropoutUniform,
      // with seed = ir::dropoutSeed(op seed, run seed).
      llvm::Value *seed = b.CreateXor(cst(static_cast<int64_t>(op.attrs.seed)), runSeed);
      llvm::Value *h = mix64(b.CreateXor(seed, mix64(b.CreateXor(step, mix64(i)))));
      llvm::Value *u =
          b.CreateFMul(b.CreateUIToFP(b.CreateLShr(h, 40), f32), fcst(1.0 / 16777216.0));
      llvm::Value *keep =
          b.CreateFCmpOGE(b.CreateFPExt(u, f64), llvm::ConstantFP::get(f64, op.attrs.rate));
      store(b.CreateSelect(keep, b.CreateFDiv(load(x, i), keepScale), fcst(0)), out, i);
    });
    return;
  }
  default: // emitOp sends only these kinds here
    ir::unexpectedOp(op.kind, "the matrix code generator");
  }
}

llvm::Value *Emitter::recomputesColumns(llvm::Value *batch, int64_t perImage) {
  return b.CreateICmpSGT(b.CreateMul(batch, cst(perImage)), cst(kCachedColumns));
}

void Emitter::imageProduct(const ir::Op &op, llvm::Value *w, llvm::Value *x, llvm::Value *bias,
                           llvm::Value *y, llvm::Value *image, llvm::Value *slot) {
  const ir::TensorType &t0 = graph.type(op.operands[0]);
  const int64_t m = t0.dims[0], k = t0.dims[1], n = op.type.lastDim();
  llvm::Value *xl = at(x, b.CreateMul(image, cst(k * n)));
  llvm::Value *yl = at(y, b.CreateMul(slot, cst(m * n)));
  TileAccess access{cst(k),
                    [&](llvm::Value *i, llvm::Value *p, llvm::Value *) {
                      return load(w, b.CreateAdd(b.CreateMul(i, cst(k)), p));
                    },
                    rowMajor(*this, xl, cst(n)),
                    [&](llvm::Value *i) { return at(yl, b.CreateMul(i, cst(n))); },
                    n,
                    k > kStepBlock ? kStepBlock : 0};
  access.rowBias = bias;
  access.packBlocks = true; // with M5's 64 channels, as matmul_sum_nt's
  access.relu = op.attrs.activation == ir::Activation::Relu;
  emitTiledProduct(*this, access, cst(0), cst(m));
}

llvm::Value *Emitter::mix64(llvm::Value *z) {
  z = b.CreateAdd(z, cst(static_cast<int64_t>(0x9E3779B97F4A7C15ull)));
  z = b.CreateMul(b.CreateXor(z, b.CreateLShr(z, 30)),
                  cst(static_cast<int64_t>(0xBF58476D1CE4E5B9ull)));
  z = b.CreateMul(b.CreateXor(z, b.CreateLShr(z, 27)),
                  cst(static_cast<int64_t>(0x94D049BB133111EBull)));
  return b.CreateXor(z, b.CreateLShr(z, 31));
}

} // namespace mtl::codegen
