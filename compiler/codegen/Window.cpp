// Window.cpp: the Window kinds (im2col, im2col_grad, pools and their gradients)
// and transpose.
//
// Images are independent, so the runtime splits them across threads; each
// image is written by one thread in a fixed order. Convolutions are im2col
// followed by matmul_left, the weight times each image's columns
// (lower/Layers.cpp, Matrix.cpp).
#include "codegen/Emitter.h"

#include "ir/Window.h"

#include <cmath>

namespace mtl::codegen {

using ir::OpKind;

void Emitter::emitWindow(const ir::Op &op, ir::ValueId id) {
  const OpKind forward = ir::windowForward(op.kind);
  const bool isGrad = forward != op.kind;
  const ir::TensorType &image = graph.type(op.operands[isGrad ? 1 : 0]);
  const ir::WindowShape w = *ir::windowShape(image, op.attrs, nullptr); // verified
  const int64_t k = w.kernel, patches = w.patches();
  llvm::Value *images = b.CreateUDiv(count(image), cst(w.imageSize()));
  const bool vectors = poolsInVectors(op, w);
  // passes/Activations.cpp fuses a relu's derivative only where windows do
  // not overlap, so each element is stored once.
  const bool relu = op.attrs.activation == ir::Activation::Relu;
  if (relu && w.stride < k)
    ir::unexpectedOp(op.kind,
                     "the window code generator with an activation and overlapping windows");
  // Tiling windows write every element of a gradient that lies in one; only
  // rows and columns past the last window are left to clear.
  const bool covered = vectors && w.outHeight * k == w.height && w.outWidth * k == w.width;
  // With `product`, the columns' gradient is carried (passes/Fusion.h): each
  // image's columns are computed here, into the slot of the share's first image.
  auto run = [&](const ir::Op *product) {
    int64_t perImage = w.pooledSize() * k * k;
    std::vector<llvm::Value *> args = {buffers[op.operands[0]],
                                       buffers[op.operands[isGrad ? 1 : 0]], buffers[id]};
    if (product) {
      const ir::TensorType &weight = graph.type(product->operands[0]);
      perImage += weight.dims[0] * weight.dims[1] * product->type.lastDim();
      for (ir::ValueId o : product->operands)
        args.push_back(buffers[o]);
    }
    llvm::Value *work = b.CreateMul(images, cst(perImage));
    parallelRows(images, work, args, [&](auto &a, llvm::Value *begin, llvm::Value *end) {
      llvm::Value *g = a[0], *in = a[1], *out = a[2];
      loop(begin, end, [&](llvm::Value *img) {
        llvm::Value *imageBase = b.CreateMul(img, cst(w.imageSize()));
        llvm::Value *columnsOf = img;
        if (product) {
          columnsOf = begin; // each thread's own slot, reused image after image
          imageProduct(*product, a[3], a[4], product->operands.size() == 3 ? a[5] : nullptr, g, img,
                       columnsOf);
        }
        const bool gathers = op.kind == OpKind::Im2ColGrad && gathersIm2colGrad(op, w);
        if (isGrad && !covered && !gathers) // the gradients add up in place: clear it first
          loop(cst(w.imageSize()),
               [&](llvm::Value *i) { store(fcst(0), out, b.CreateAdd(imageBase, i)); });
        if (forward == OpKind::Im2Col) {
          // Row (c, i, j) of an image's columns holds element (i, j) of
          // channel c of every window in order: for each row of windows, a
          // run of the image's row oy stride + i - padding from column
          // j - padding, every `stride` elements, zero where it leaves the
          // image. The gradient adds the same runs back in place.
          llvm::Value *colImage = b.CreateMul(columnsOf, cst(w.patchSize() * patches));
          loop(cst(w.channels), [&](llvm::Value *c) {
            llvm::Value *plane = b.CreateAdd(imageBase, b.CreateMul(c, cst(w.height * w.width)));
            if (gathers)
              return im2colGradRows(w, {g, in, out}, plane, colImage, c);
            loop(cst(k), [&](llvm::Value *i) {
              for (int64_t j = 0; j < k; ++j)
                im2colRow(op, w, {g, in, out}, plane, colImage, c, i, j);
            });
          });
          return;
        }
        // Calls body(x index) for each element (i, j) of the window of
        // channel c at output position p, row by row (pools have no padding).
        auto eachElement = [&](llvm::Value *c, llvm::Value *p,
                               const std::function<void(llvm::Value *)> &body) {
          llvm::Value *top = b.CreateMul(b.CreateUDiv(p, cst(w.outWidth)), cst(w.stride));
          llvm::Value *left = b.CreateMul(b.CreateURem(p, cst(w.outWidth)), cst(w.stride));
          llvm::Value *plane = b.CreateAdd(imageBase, b.CreateMul(c, cst(w.height * w.width)));
          // Small windows are written out element by element.
          auto steps = [&](const std::function<void(llvm::Value *)> &fn) {
            if (k > 4)
              return loop(cst(k), fn);
            for (int64_t s = 0; s < k; ++s)
              fn(cst(s));
          };
          steps([&](llvm::Value *i) {
            llvm::Value *rowBase =
                b.CreateAdd(plane, b.CreateMul(b.CreateAdd(top, i), cst(w.width)));
            steps([&](llvm::Value *j) { body(b.CreateAdd(rowBase, b.CreateAdd(left, j))); });
          });
        };
        // Pools: channel by channel, each output element in order.
        auto poolAt = [&](llvm::Value *c, llvm::Value *p) {
          llvm::Value *pooled = b.CreateAdd(
              b.CreateMul(b.CreateAdd(b.CreateMul(img, cst(w.channels)), c), cst(patches)), p);
          switch (op.kind) {
          case OpKind::MaxPool:
          case OpKind::MaxPoolGrad: {
            // The first maximum in row-major order; a NaN wins and stays, as
            // in PyTorch. Value and index stay in registers.
            llvm::Value *bestValue = accumulator(f32, fcst(-INFINITY));
            llvm::Value *bestIndex = accumulator(i64, cst(-1));
            eachElement(c, p, [&](llvm::Value *xAt) {
              llvm::Value *v = load(in, xAt), *top = b.CreateLoad(f32, bestValue);
              llvm::Value *firstOne = b.CreateICmpSLT(b.CreateLoad(i64, bestIndex), cst(0));
              llvm::Value *take = b.CreateOr(
                  firstOne, b.CreateAnd(b.CreateFCmpUGT(v, top), b.CreateNot(isNan(top))));
              b.CreateStore(b.CreateSelect(take, v, top), bestValue);
              b.CreateStore(b.CreateSelect(take, xAt, b.CreateLoad(i64, bestIndex)), bestIndex);
            });
            llvm::Value *at = b.CreateLoad(i64, bestIndex);
            if (op.kind == OpKind::MaxPool) {
              store(b.CreateLoad(f32, bestValue), out, pooled);
            } else if (w.stride >= k) {
              // Windows that do not overlap: each element is written once,
              // the gradient at the maximum and zero beside it.
              // With the relu before the pool fused in, times step(x).
              llvm::Value *grad = load(g, pooled);
              eachElement(c, p, [&](llvm::Value *xAt) {
                llvm::Value *v = b.CreateSelect(b.CreateICmpEQ(xAt, at), grad, fcst(0));
                if (relu)
                  v = b.CreateFMul(v, unary(OpKind::Step, op.attrs, load(in, xAt)));
                store(v, out, xAt);
              });
            } else {
              store(b.CreateFAdd(load(out, at), load(g, pooled)), out, at);
            }
            return;
          }
          case OpKind::AvgPool: {
            llvm::Value *sum = accumulator(f32, fcst(0));
            eachElement(c, p, [&](llvm::Value *xAt) {
              b.CreateStore(b.CreateFAdd(b.CreateLoad(f32, sum), load(in, xAt)), sum);
            });
            store(b.CreateFDiv(b.CreateLoad(f32, sum), fcst(static_cast<double>(k * k))), out,
                  pooled);
            return;
          }
          case OpKind::AvgPoolGrad: {
            llvm::Value *share = b.CreateFDiv(load(g, pooled), fcst(static_cast<double>(k * k)));
            // Windows that do not overlap write each element once (0 +
            // share, as adding into the cleared image would), so the
            // image need not be cleared where they tile it.
            eachElement(c, p, [&](llvm::Value *xAt) {
              llvm::Value *before = w.stride >= k ? fcst(0) : load(out, xAt);
              store(b.CreateFAdd(before, share), out, xAt);
            });
            return;
          }
          default: // emitOp sends only OpClass::Window kinds here
            ir::unexpectedOp(op.kind, "the window code generator");
          }
        };
        if (!vectors) {
          loop(cst(w.channels),
               [&](llvm::Value *c) { loop(cst(patches), [&](llvm::Value *p) { poolAt(c, p); }); });
          return;
        }
        // Windows that tile their rows: output row by output row, sixteen
        // windows at a time (PoolVectors.cpp), any left one by one.
        loop(cst(w.channels), [&](llvm::Value *c) {
          loop(cst(w.outHeight), [&](llvm::Value *oy) {
            llvm::Value *p0 = b.CreateMul(oy, cst(w.outWidth));
            llvm::Value *pooled = b.CreateAdd(
                b.CreateMul(b.CreateAdd(b.CreateMul(img, cst(w.channels)), c), cst(patches)), p0);
            llvm::Value *corner = b.CreateAdd(
                imageBase,
                b.CreateMul(b.CreateAdd(b.CreateMul(c, cst(w.height)), b.CreateMul(oy, cst(k))),
                            cst(w.width)));
            int64_t done = poolRow(op, w, {g, in, out}, pooled, corner);
            loop(cst(done), cst(w.outWidth),
                 [&](llvm::Value *ox) { poolAt(c, b.CreateAdd(p0, ox)); });
          });
        });
      });
    });
  };
  // Below kCarriedRows, the columns' gradient has a loop of its own
  // (Emitter::emitOpOutlined) and this one reads it.
  if (isCarried(op.operands[0]))
    ifElse(
        b.CreateICmpSGE(rows, cst(kCarriedRows)), [&] { run(&graph.op(op.operands[0])); },
        [&] { run(nullptr); });
  else
    run(nullptr);
}

namespace {

constexpr int64_t kTile = 8;

/// The 8 x 8 tile whose rows start at `src`, `stride` floats apart, written
/// transposed to rows at `dst`, `dstStride` apart: eight vector loads, three
/// rounds of eight two-vector shuffles and eight vector stores. Round k pairs
/// rows i and i + h (h = 4, 2, 1) and interleaves their runs of h elements,
/// which transposes the h x h blocks of the tile as wholes.
void transposeTile(Emitter &e, llvm::Value *src, int64_t stride, llvm::Value *dst,
                   int64_t dstStride) {
  auto &b = e.b;
  auto *vec = llvm::FixedVectorType::get(e.f32, kTile);
  std::vector<llvm::Value *> rows;
  for (int64_t i = 0; i < kTile; ++i)
    rows.push_back(b.CreateAlignedLoad(vec, e.at(src, e.cst(i * stride)), llvm::Align(4)));
  for (int64_t h = kTile / 2; h >= 1; h /= 2) {
    std::vector<int> low, high;
    for (int64_t s = 0; s < kTile; s += 2 * h)
      for (int64_t part = 0; part < 2; ++part)
        for (int64_t t = 0; t < h; ++t) {
          low.push_back(int(part * kTile + s + t));
          high.push_back(int(part * kTile + s + h + t));
        }
    std::vector<llvm::Value *> next(kTile);
    for (int64_t i = 0; i < kTile; ++i)
      if ((i & h) == 0) {
        next[i] = b.CreateShuffleVector(rows[i], rows[i + h], low);
        next[i + h] = b.CreateShuffleVector(rows[i], rows[i + h], high);
      }
    rows = next;
  }
  for (int64_t i = 0; i < kTile; ++i)
    b.CreateAlignedStore(rows[i], e.at(dst, e.cst(i * dstStride)), llvm::Align(4));
}

} // namespace

void Emitter::imageColumns(const ir::Op &op, llvm::Value *x, llvm::Value *columns,
                           llvm::Value *image, llvm::Value *slot, llvm::Value *first,
                           llvm::Value *last) {
  const ir::WindowShape w = *ir::windowShape(graph.type(op.operands[0]), op.attrs, nullptr);
  const int64_t k = w.kernel;
  llvm::Value *imageBase = b.CreateMul(image, cst(w.imageSize()));
  llvm::Value *colImage = b.CreateMul(slot, cst(w.patchSize() * w.patches()));
  loop(first, last, [&](llvm::Value *row) {
    // Row (c, i, j) = c k k + i k + j; im2colRow takes j as a constant.
    llvm::Value *c = b.CreateUDiv(row, cst(k * k));
    llvm::Value *i = b.CreateURem(b.CreateUDiv(row, cst(k)), cst(k));
    llvm::Value *j = b.CreateURem(row, cst(k));
    llvm::Value *plane = b.CreateAdd(imageBase, b.CreateMul(c, cst(w.height * w.width)));
    for (int64_t jj = 0; jj < k; ++jj)
      ifElse(
          b.CreateICmpEQ(j, cst(jj)),
          [&] {
            im2colRow(op, w, {nullptr, x, columns}, plane, colImage, c, i, jj);
          },
          [] {});
  });
}

void Emitter::im2colRow(const ir::Op &op, const ir::WindowShape &w, const WindowBuffers &buf,
                        llvm::Value *plane, llvm::Value *columns, llvm::Value *c, llvm::Value *i,
                        int64_t j) {
  const int64_t k = w.kernel, shift = j - w.padding;
  // Windows ox in [lo, hi) read inside the row: 0 <= ox stride + shift < width.
  const int64_t lo = shift >= 0 ? 0 : std::min(w.outWidth, (w.stride - 1 - shift) / w.stride);
  const int64_t last = w.width - 1 - shift; // the largest ox stride that stays inside
  const int64_t hi = last < 0 ? lo : std::max(lo, std::min(w.outWidth, last / w.stride + 1));
  llvm::Value *element =
      b.CreateAdd(b.CreateMul(b.CreateAdd(b.CreateMul(c, cst(k)), i), cst(k)), cst(j));
  llvm::Value *colRow = b.CreateAdd(columns, b.CreateMul(element, cst(w.patches())));
  // With stride 1 and masked vector moves, im2col's row of windows is a
  // few vectors (up to 4) of masked loads and stores instead of a loop of
  // floats, which LLVM leaves scalar at these lengths (14 or 28 windows).
  // Not its gradient: there rows of j and j + 1 add into the same image
  // elements one float apart, and a masked load right after an overlapping
  // masked store waits for it (M7/16's step 2% longer with them; scalar
  // adds forward from store to load). Where it can, the gradient gathers
  // instead (im2colGradRows).
  const int64_t lanes = vectors.floats;
  const bool vectorRuns =
      op.kind == ir::OpKind::Im2Col && w.stride == 1 && vectors.masked && w.outWidth <= 4 * lanes;
  auto *vec = llvm::FixedVectorType::get(f32, static_cast<unsigned>(lanes));
  loop(cst(w.outHeight), [&](llvm::Value *oy) {
    llvm::Value *row = b.CreateSub(b.CreateAdd(b.CreateMul(oy, cst(w.stride)), i), cst(w.padding));
    llvm::Value *inside =
        b.CreateAnd(b.CreateICmpSGE(row, cst(0)), b.CreateICmpSLT(row, cst(w.height)));
    llvm::Value *cols = b.CreateAdd(colRow, b.CreateMul(oy, cst(w.outWidth)));
    // Window ox reads element first + ox stride of the image.
    llvm::Value *first =
        b.CreateAdd(b.CreateAdd(plane, b.CreateMul(row, cst(w.width))), cst(shift));
    auto xAt = [&](llvm::Value *ox) { return b.CreateAdd(first, b.CreateMul(ox, cst(w.stride))); };
    auto zeros = [&](int64_t from, int64_t to) {
      loop(cst(from), cst(to),
           [&](llvm::Value *ox) { store(fcst(0), buf.out, b.CreateAdd(cols, ox)); });
    };
    if (vectorRuns) {
      // The image's run [lo, hi) lines up with the columns' row: lane ox of
      // vector q is window q lanes + ox, read from element ox + shift of
      // the image's row; lanes outside [lo, hi) do not read, and the
      // columns get zeros there. The address is not inbounds: lanes before
      // lo may point before the image's start.
      for (int64_t q = 0; q * lanes < w.outWidth; ++q) {
        auto maskOf = [&](int64_t from, int64_t to) {
          std::vector<llvm::Constant *> bits;
          for (int64_t l = q * lanes; l < (q + 1) * lanes; ++l)
            bits.push_back(b.getInt1(l >= from && l < to));
          return llvm::ConstantVector::get(bits);
        };
        // A row above or below the image reads nothing: all zeros.
        llvm::Value *reads = b.CreateAnd(maskOf(lo, hi), b.CreateVectorSplat(lanes, inside));
        llvm::Value *image = b.CreateGEP(f32, buf.x, b.CreateAdd(first, cst(q * lanes)));
        llvm::Value *v = b.CreateMaskedLoad(vec, image, llvm::Align(4), reads,
                                            llvm::Constant::getNullValue(vec));
        b.CreateMaskedStore(v, at(buf.out, b.CreateAdd(cols, cst(q * lanes))), llvm::Align(4),
                            maskOf(0, w.outWidth));
      }
      return;
    }
    if (op.kind == ir::OpKind::Im2Col) {
      ifElse(
          inside,
          [&] {
            zeros(0, lo);
            loop(cst(lo), cst(hi), [&](llvm::Value *ox) {
              store(load(buf.x, xAt(ox)), buf.out, b.CreateAdd(cols, ox));
            });
            zeros(hi, w.outWidth);
          },
          [&] { zeros(0, w.outWidth); });
      return;
    }
    ifElse(
        inside,
        [&] {
          loop(cst(lo), cst(hi), [&](llvm::Value *ox) {
            llvm::Value *at = xAt(ox);
            store(b.CreateFAdd(load(buf.out, at), load(buf.g, b.CreateAdd(cols, ox))), buf.out, at);
          });
        },
        [] {});
  });
}

bool Emitter::gathersIm2colGrad(const ir::Op &op, const ir::WindowShape &w) const {
  return w.stride == 1 && vectors.masked && w.width <= 4 * vectors.floats && w.kernel <= 5 &&
         op.attrs.activation == ir::Activation::None;
}

// With stride 1, element (y, x) of channel c gets the term of window
// (y + padding - i, x + padding - j) from row (c, i, j) of the columns, for
// each (i, j) whose window lies in the columns. Adding the rows back in
// place (im2colRow) gives each element its terms in (i, j) order, each add
// a load that waits on the store before it to the same element; here a
// vector of an image row's elements sums its terms in that order in
// registers and is stored once. The rows of windows of a term are a masked
// load each (lanes whose window does not exist, or which lie past the row,
// read nothing and add +0, which leaves every sum as it was: a sum that
// starts at +0 is never -0). So the bits of the in-place adds.
void Emitter::im2colGradRows(const ir::WindowShape &w, const WindowBuffers &buf, llvm::Value *plane,
                             llvm::Value *columns, llvm::Value *c) {
  const int64_t k = w.kernel, lanes = vectors.floats, count = (w.width + lanes - 1) / lanes;
  auto *vec = llvm::FixedVectorType::get(f32, static_cast<unsigned>(lanes));
  llvm::Value *zero = llvm::Constant::getNullValue(vec);
  // Lanes of vector q whose element x = q lanes + l lies in [from, to).
  auto lanesIn = [&](int64_t q, int64_t from, int64_t to) {
    std::vector<llvm::Constant *> bits;
    for (int64_t x = q * lanes; x < (q + 1) * lanes; ++x)
      bits.push_back(b.getInt1(x >= from && x < to));
    return llvm::ConstantVector::get(bits);
  };
  loop(cst(w.height), [&](llvm::Value *y) {
    std::vector<llvm::Value *> sums(static_cast<size_t>(count), zero);
    for (int64_t i = 0; i < k; ++i) {
      llvm::Value *oy = b.CreateSub(b.CreateAdd(y, cst(w.padding)), cst(i));
      llvm::Value *rowExists =
          b.CreateAnd(b.CreateICmpSGE(oy, cst(0)), b.CreateICmpSLT(oy, cst(w.outHeight)));
      for (int64_t j = 0; j < k; ++j) {
        const int64_t shift = w.padding - j; // window x + shift
        llvm::Value *row = b.CreateAdd(
            columns,
            b.CreateMul(
                b.CreateAdd(b.CreateMul(b.CreateAdd(b.CreateMul(c, cst(k)), cst(i)), cst(k)),
                            cst(j)),
                cst(w.patches())));
        llvm::Value *windows = b.CreateAdd(row, b.CreateMul(oy, cst(w.outWidth)));
        for (int64_t q = 0; q < count; ++q) {
          // Lane x reads window x + shift, which exists for x in [-shift, outWidth - shift).
          llvm::Value *reads = b.CreateAnd(
              lanesIn(q, std::max<int64_t>(-shift, 0), std::min(w.width, w.outWidth - shift)),
              b.CreateVectorSplat(lanes, rowExists));
          llvm::Value *ptr = b.CreateGEP(f32, buf.g, b.CreateAdd(windows, cst(q * lanes + shift)));
          sums[q] =
              b.CreateFAdd(sums[q], b.CreateMaskedLoad(vec, ptr, llvm::Align(4), reads, zero));
        }
      }
    }
    llvm::Value *first = b.CreateAdd(plane, b.CreateMul(y, cst(w.width)));
    for (int64_t q = 0; q < count; ++q)
      b.CreateMaskedStore(sums[q], at(buf.out, b.CreateAdd(first, cst(q * lanes))), llvm::Align(4),
                          lanesIn(q, 0, w.width));
  });
}

void Emitter::transposeBlock(llvm::Value *in, llvm::Value *out, llvm::Value *base, int64_t m,
                             int64_t cols, int64_t inStride, int64_t outStride) {
  // Whole 8 x 8 tiles go through registers (transposeTile); the rest, a last
  // band of rows or columns narrower than a tile, element by element.
  const int64_t m8 = m / kTile * kTile, cols8 = cols / kTile * kTile;
  auto element = [&](llvm::Value *r, llvm::Value *c) {
    llvm::Value *src = b.CreateAdd(base, b.CreateAdd(b.CreateMul(c, cst(inStride)), r));
    store(load(in, src), out, b.CreateAdd(base, b.CreateAdd(b.CreateMul(r, cst(outStride)), c)));
  };
  loop(cst(cols8 / kTile), [&](llvm::Value *rt) {
    llvm::Value *r = b.CreateMul(rt, cst(kTile));
    loop(cst(m8 / kTile), [&](llvm::Value *ct) {
      llvm::Value *c = b.CreateMul(ct, cst(kTile));
      transposeTile(
          *this, at(in, b.CreateAdd(base, b.CreateAdd(b.CreateMul(c, cst(inStride)), r))), inStride,
          at(out, b.CreateAdd(base, b.CreateAdd(b.CreateMul(r, cst(outStride)), c))), outStride);
    });
    loop(cst(m8), cst(m), [&](llvm::Value *c) {
      loop(cst(kTile), [&](llvm::Value *j) { element(b.CreateAdd(r, j), c); });
    });
  });
  loop(cst(cols8), cst(cols),
       [&](llvm::Value *r) { loop(cst(m), [&](llvm::Value *c) { element(r, c); }); });
}

void Emitter::emitTranspose(const ir::Op &op, ir::ValueId id) {
  // Output element (block, r, c) = input (block, c, r): an input block of m
  // rows and `cols` columns becomes `cols` rows of m.
  const int64_t m = op.type.lastDim(), cols = graph.type(op.operands[0]).lastDim();
  llvm::Value *blocks = b.CreateUDiv(count(op.type), cst(m * cols));
  parallelRows(blocks, count(op.type), {buffers[op.operands[0]], buffers[id]},
               [&](auto &a, llvm::Value *begin, llvm::Value *end) {
                 loop(begin, end, [&](llvm::Value *block) {
                   transposeBlock(a[0], a[1], b.CreateMul(block, cst(m * cols)), m, cols, cols, m);
                 });
               });
}

} // namespace mtl::codegen
