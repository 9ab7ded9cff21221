// Rowwise.cpp: softmax, log-softmax, layer norm and their gradients, and reductions.
#include "codegen/Emitter.h"

#include <algorithm>

namespace mtl::codegen {

using ir::OpKind;

void Emitter::emitRowwise(const ir::Op &op, ir::ValueId id) {
  int64_t last = op.type.lastDim();
  llvm::Value *x = buffers[op.operands[0]];
  llvm::Value *g = op.operands.size() > 1 ? buffers[op.operands[1]] : nullptr;
  llvm::Value *y = buffers[id];
  llvm::Value *nrows = b.CreateUDiv(count(op.type), cst(last));
  llvm::Value *n = cst(last);
  // Sum over the row of f(j), in f32 like PyTorch's float kernels.
  auto rowSum = [&](const std::function<llvm::Value *(llvm::Value *)> &f) {
    llvm::Value *acc = accumulator(f32, fcst(0));
    loop(n,
         [&](llvm::Value *j) { b.CreateStore(b.CreateFAdd(b.CreateLoad(f32, acc), f(j)), acc); });
    return b.CreateLoad(f32, acc);
  };
  loop(nrows, [&](llvm::Value *r) {
    llvm::Value *base = b.CreateMul(r, cst(last));
    auto xj = [&](llvm::Value *j) { return load(x, b.CreateAdd(base, j)); };
    auto gj = [&](llvm::Value *j) { return load(g, b.CreateAdd(base, j)); };
    auto put = [&](llvm::Value *j, llvm::Value *v) { store(v, y, b.CreateAdd(base, j)); };
    switch (op.kind) {
    case OpKind::Softmax:
    case OpKind::LogSoftmax: {
      // Subtracting the row maximum keeps exp() finite for large logits.
      llvm::Value *mxSlot = accumulator(f32, xj(cst(0)));
      loop(n,
           [&](llvm::Value *j) { b.CreateStore(fmax(b.CreateLoad(f32, mxSlot), xj(j)), mxSlot); });
      llvm::Value *mx = b.CreateLoad(f32, mxSlot);
      llvm::Value *s =
          rowSum([&](llvm::Value *j) { return callElementary("exp", b.CreateFSub(xj(j), mx)); });
      if (op.kind == OpKind::Softmax) {
        loop(n, [&](llvm::Value *j) {
          put(j, b.CreateFDiv(callElementary("exp", b.CreateFSub(xj(j), mx)), s));
        });
      } else {
        llvm::Value *shift = b.CreateFAdd(mx, callElementary("log", s));
        loop(n, [&](llvm::Value *j) { put(j, b.CreateFSub(xj(j), shift)); });
      }
      return;
    }
    case OpKind::SoftmaxGrad: { // x holds y = softmax
      llvm::Value *s = rowSum([&](llvm::Value *j) { return b.CreateFMul(gj(j), xj(j)); });
      loop(n, [&](llvm::Value *j) { put(j, b.CreateFMul(xj(j), b.CreateFSub(gj(j), s))); });
      return;
    }
    case OpKind::LogSoftmaxGrad: { // x holds y = log_softmax
      llvm::Value *s = rowSum(gj);
      loop(n, [&](llvm::Value *j) {
        put(j, b.CreateFSub(gj(j), b.CreateFMul(callElementary("exp", xj(j)), s)));
      });
      return;
    }
    case OpKind::LayerNorm:
    case OpKind::LayerNormGrad:
      break; // below
    default: // emitOp sends only OpClass::Rowwise kinds here
      ir::unexpectedOp(op.kind, "the row-wise code generator");
    }
    // LayerNorm and its gradient: biased variance, as PyTorch.
    llvm::Value *invN = fcst(1.0 / static_cast<double>(last));
    llvm::Value *mean = b.CreateFMul(rowSum(xj), invN);
    llvm::Value *var = b.CreateFMul(rowSum([&](llvm::Value *j) {
                                      llvm::Value *d = b.CreateFSub(xj(j), mean);
                                      return b.CreateFMul(d, d);
                                    }),
                                    invN);
    llvm::Value *inv =
        b.CreateFDiv(fcst(1), callMath("sqrtf", b.CreateFAdd(var, fcst(op.attrs.eps))));
    auto xhat = [&](llvm::Value *j) { return b.CreateFMul(b.CreateFSub(xj(j), mean), inv); };
    if (op.kind == OpKind::LayerNorm) {
      loop(n, [&](llvm::Value *j) { put(j, xhat(j)); });
      return;
    }
    // dx = inv * (g - mean(g) - xhat * mean(g * xhat))
    llvm::Value *mg = b.CreateFMul(rowSum(gj), invN);
    llvm::Value *mgx =
        b.CreateFMul(rowSum([&](llvm::Value *j) { return b.CreateFMul(gj(j), xhat(j)); }), invN);
    loop(n, [&](llvm::Value *j) {
      llvm::Value *v = b.CreateFSub(b.CreateFSub(gj(j), mg), b.CreateFMul(xhat(j), mgx));
      put(j, b.CreateFMul(inv, v));
    });
  });
}

void Emitter::emitReduce(const ir::Op &op, ir::ValueId id) {
  // The operand may be fused (Fusion.cpp): computed here, element by element.
  const ir::ValueId in = op.operands[0];
  const ir::TensorType &tin = graph.type(in);
  llvm::Value *y = buffers[id];
  llvm::Value *total = count(tin);
  llvm::Value *outCount = count(op.type);
  loop(outCount, [&](llvm::Value *i) { store(fcst(0), y, i); });
  int64_t last = std::max<int64_t>(tin.lastDim(), 1);
  switch (op.attrs.axis) {
  case ir::ReduceAxis::All: {
    llvm::Value *acc = accumulator(f32, fcst(0));
    loop(total, [&](llvm::Value *i) {
      b.CreateStore(
          b.CreateFAdd(b.CreateLoad(f32, acc), valueAt(in, i, b.CreateURem(i, cst(last)))), acc);
    });
    store(b.CreateLoad(f32, acc), y, cst(0));
    break;
  }
  case ir::ReduceAxis::Last: {
    // A row sums kSumLanes partial sums of whole vectors, then adds the
    // lanes (laneSum) and the last `last` mod kSumLanes terms in order, as
    // the small products do (Matrix.cpp). A fused operand's terms are
    // computed first, `chunk` blocks at a time (the largest divisor of the
    // blocks up to kChunk: one loop, no remainder), into an array that the
    // sum then reads as vectors (a loop LLVM vectorises: it only maps). Rows
    // are independent: large values split them over the threads.
    constexpr int64_t kChunk = 16;
    const int64_t blocks = last / kSumLanes, vectorEnd = blocks * kSumLanes;
    int64_t chunk = std::min(kChunk, std::max<int64_t>(blocks, 1));
    while (blocks % chunk)
      --chunk;
    llvm::FixedVectorType *vec = sumVector();
    auto rowSums = [&](llvm::Value *begin, llvm::Value *end, llvm::Value *) {
      llvm::Value *terms = nullptr;
      if (isFused(in) && blocks > 0)
        terms = entryAlloca(llvm::ArrayType::get(f32, chunk * kSumLanes));
      loop(begin, end, [&](llvm::Value *r) {
        llvm::Value *rowStart = b.CreateMul(r, cst(last));
        llvm::Value *acc = accumulator(vec, llvm::Constant::getNullValue(vec));
        // Adds blocks [first, first + count) of the row to acc.
        auto addBlocks = [&](llvm::Value *first, int64_t count) {
          llvm::Value *c0 = b.CreateMul(first, cst(kSumLanes));
          if (terms)
            loop(cst(count * kSumLanes), [&](llvm::Value *l) {
              llvm::Value *c = b.CreateAdd(c0, l);
              store(valueAt(in, b.CreateAdd(rowStart, c), c), terms, l);
            });
          loop(cst(count), [&](llvm::Value *k) {
            llvm::Value *offset = b.CreateMul(k, cst(kSumLanes));
            llvm::Value *from =
                terms ? at(terms, offset)
                      : at(buffers[in], b.CreateAdd(rowStart, b.CreateAdd(c0, offset)));
            llvm::Value *v = b.CreateAlignedLoad(vec, from, llvm::Align(4));
            b.CreateStore(b.CreateFAdd(b.CreateLoad(vec, acc), v), acc);
          });
        };
        if (blocks > 0)
          loop(cst(blocks / chunk),
               [&](llvm::Value *c) { addBlocks(b.CreateMul(c, cst(chunk)), chunk); });
        llvm::Value *sum = accumulator(f32, laneSum(b.CreateLoad(vec, acc)));
        if (vectorEnd < last)
          loop(cst(vectorEnd), cst(last), [&](llvm::Value *c) {
            llvm::Value *term = valueAt(in, b.CreateAdd(rowStart, c), c);
            b.CreateStore(b.CreateFAdd(b.CreateLoad(f32, sum), term), sum);
          });
        store(b.CreateLoad(f32, sum), buffers[id], r);
      });
    };
    if (!tin.batched) {
      rowSums(cst(0), outCount, nullptr);
      break;
    }
    eachRow(id, tin, last, outCount, total, rowSums);
    break;
  }
  case ir::ReduceAxis::Leading: {
    // Column sums: the row loop outside keeps the inner loop contiguous.
    // Each column sums its rows in order, so wide values split their
    // columns (in blocks) over the threads with the same results.
    constexpr int64_t kColumns = 256;
    auto columnSums = [&](int64_t width, llvm::Value *first, llvm::Value *rows) {
      loop(rows, [&](llvm::Value *r) {
        loop(cst(width), [&](llvm::Value *j) {
          llvm::Value *c = b.CreateAdd(first, j);
          llvm::Value *v = valueAt(in, b.CreateAdd(b.CreateMul(r, cst(last)), c), c);
          store(b.CreateFAdd(load(buffers[id], c), v), buffers[id], c);
        });
      });
    };
    llvm::Value *rows = b.CreateUDiv(total, cst(last));
    if (last < 2 * kColumns || !tin.batched) {
      columnSums(last, cst(0), rows);
      break;
    }
    const int64_t blocks = last / kColumns;
    inThreads(
        id, cst(blocks), total,
        [&](llvm::Value *begin, llvm::Value *end, llvm::Value *n) {
          loop(begin, end,
               [&](llvm::Value *k) { columnSums(kColumns, b.CreateMul(k, cst(kColumns)), n); });
        },
        rows);
    if (last % kColumns)
      columnSums(last % kColumns, cst(blocks * kColumns), rows);
    break;
  }
  }
  if (op.kind == OpKind::ReduceMean) {
    // mean = sum / (elements per output), computed at run time for batched inputs.
    llvm::Value *per = b.CreateUIToFP(b.CreateUDiv(total, outCount), f32);
    loop(outCount, [&](llvm::Value *i) { store(b.CreateFDiv(load(y, i), per), y, i); });
  }
}

} // namespace mtl::codegen
