// MicroKernel.cpp: panels, row blocks and the accumulator tile of a product.
#include "codegen/MicroKernel.h"

#include <llvm/IR/Intrinsics.h>

namespace mtl::codegen {
namespace {

// The vectors of a full panel and the rows of a tile: its rows x vectors
// accumulators, one of B's vectors each and A's broadcast, in the
// registers: 6 x 4 + 4 + 1 of AVX-512's 32, 4 x 3 + 3 + 1 of AVX's 16; SSE,
// without fused multiply-adds, needs a register for each product too, so
// 4 x 2 + 2 + 1 and the products'. AVX-512's panel on AVX2 (4 x 4 vectors
// of 16 floats: 32 of its 8-float registers as accumulators) spilled them
// to the stack in its inner loop: M3, M5 and M6 took 1.8x, 2.0x and 2.9x
// this shape's step times on a Zen 3 (bench/README.md, "Findings");
// tests/e2e/register_tiles.sh checks that no product's loop over its sum
// spills or reloads a vector register. Six rows instead of four on AVX-512
// load each vector of B for 6 multiply-adds instead of 4 (bench/README.md,
// "Findings": M1/4096 1,759 -> 1,665 us, M3/1024 3,602 -> 3,404 on one
// thread).
int panelVectors(const VectorUnit &unit) {
  return unit.registers >= 32 ? 4 : unit.floats >= 8 ? 3 : 2;
}
int tileRows(const VectorUnit &unit) { return unit.registers >= 32 ? 6 : 4; }

// The steps [sBegin, sEnd) of the sum of one tile.
struct StepRange {
  llvm::Value *begin, *end;
  llvm::Value *resume; ///< true: the tile starts from C's values, not zero
  llvm::Value *last;   ///< true: the sum ends here (null: always)
};

// One tile: `rows` rows from `row0`, `vectors` groups of `width` columns from
// `col0`; with `active` > 0, the last group has only its first `active`
// columns (masked loads and stores touch no others).
void emitTile(Emitter &e, const TileAccess &acc, const StepRange &steps, llvm::Value *row0,
              int rows, llvm::Value *col0, int vectors, int width, int active) {
  auto &b = e.b;
  llvm::Type *type = width == 1 ? e.f32 : llvm::FixedVectorType::get(e.f32, width);
  llvm::Value *zero = llvm::Constant::getNullValue(type);
  llvm::Value *mask = nullptr;
  if (active > 0) {
    std::vector<llvm::Constant *> lanes;
    for (int l = 0; l < width; ++l)
      lanes.push_back(b.getInt1(l < active));
    mask = llvm::ConstantVector::get(lanes);
  }
  auto maskOf = [&](int v) { return v == vectors - 1 ? mask : nullptr; };
  auto loadAt = [&](llvm::Value *ptr, int v) -> llvm::Value * {
    if (maskOf(v))
      return b.CreateMaskedLoad(type, ptr, llvm::Align(4), mask, zero);
    return b.CreateAlignedLoad(type, ptr, llvm::Align(4));
  };
  std::vector<llvm::Value *> slots;
  for (int q = 0; q < rows; ++q) {
    llvm::Value *cRow = acc.cRow(b.CreateAdd(row0, e.cst(q)));
    for (int v = 0; v < vectors; ++v) {
      llvm::Value *start = zero;
      if (steps.resume)
        start = b.CreateSelect(steps.resume,
                               loadAt(e.at(cRow, b.CreateAdd(col0, e.cst(v * width))), v), zero);
      slots.push_back(e.accumulator(type, start));
    }
  }
  auto *fmuladd = llvm::Intrinsic::getDeclaration(&e.module, llvm::Intrinsic::fmuladd, {type});
  const int64_t columns = (active > 0 ? vectors - 1 : vectors) * width + active;
  llvm::Function *prefetch = nullptr;
  if (acc.aRows && acc.stepBlock <= 0 && rows == tileRows(e.vectors))
    prefetch = llvm::Intrinsic::getDeclaration(&e.module, llvm::Intrinsic::prefetch, {e.ptr});
  auto step = [&](llvm::Value *s) {
    if (prefetch) {
      // The next tile's rows, spread over this tile's steps: prefetcht1 (to
      // L2), never a fault, past the end of A too.
      llvm::Value *next = b.CreateMul(b.CreateAdd(row0, e.cst(rows)), acc.steps);
      llvm::Value *at =
          b.CreateGEP(e.f32, acc.aRows, b.CreateAdd(next, b.CreateMul(s, e.cst(rows))));
      b.CreateCall(prefetch, {at, b.getInt32(0), b.getInt32(2), b.getInt32(1)});
    }
    llvm::Value *bPanel = acc.bAt(s, col0, columns);
    std::vector<llvm::Value *> bv;
    for (int v = 0; v < vectors; ++v)
      bv.push_back(loadAt(e.at(bPanel, e.cst(v * width)), v));
    for (int q = 0; q < rows; ++q) {
      llvm::Value *a = acc.a(b.CreateAdd(row0, e.cst(q)), s, steps.begin);
      if (width > 1)
        a = b.CreateVectorSplat(width, a);
      for (int v = 0; v < vectors; ++v) {
        llvm::Value *slot = slots[q * vectors + v];
        b.CreateStore(b.CreateCall(fmuladd, {a, bv[v], b.CreateLoad(type, slot)}), slot);
      }
    }
  };
  // The tile is the unrolled body already: more copies only cost compile time.
  e.loop(steps.begin, steps.end, step, Emitter::Unroll::Never);
  for (int q = 0; q < rows; ++q) {
    llvm::Value *cRow = acc.cRow(b.CreateAdd(row0, e.cst(q)));
    for (int v = 0; v < vectors; ++v) {
      llvm::Value *value = b.CreateLoad(type, slots[q * vectors + v]);
      llvm::Value *col = b.CreateAdd(col0, e.cst(v * width));
      llvm::Value *bias = nullptr;
      if (acc.bias)
        bias = loadAt(e.at(acc.bias, col), v);
      if (acc.rowBias) {
        bias = e.load(acc.rowBias, b.CreateAdd(row0, e.cst(q)));
        if (width > 1)
          bias = b.CreateVectorSplat(width, bias);
      }
      llvm::Value *final = bias ? b.CreateFAdd(value, bias) : value;
      if (acc.relu)
        final = e.unary(ir::OpKind::Relu, {}, final);
      if (final != value)
        value = steps.last ? b.CreateSelect(steps.last, final, value) : final;
      llvm::Value *ptr = e.at(cRow, col);
      if (maskOf(v))
        b.CreateMaskedStore(value, ptr, llvm::Align(4), mask);
      else
        b.CreateAlignedStore(value, ptr, llvm::Align(4));
    }
  }
}

// Columns in runs of equal panels: full panels (panelVectors registers of
// the unit's width: 64 floats with AVX-512, 24 with AVX), then, where the
// target masks vector moves in hardware, one panel of the vectors that the
// last columns need, the last vector masked to the columns that exist
// (`active` of its lanes); else one-vector panels, then scalar groups of 4
// and singles. A run is a loop, so code size does not grow with n. One
// panel for the last columns broadcasts each A value once for all of them,
// where one-vector panels broadcast it once per panel (M4's 100-column
// products; bench/README.md, "Findings"). Each column sums in the same order
// in any panel, so the panels never change results.
struct PanelRun {
  int64_t col0, count;
  int vectors, width;
  int active = 0; ///< > 0: the lanes of the last vector of a last, partial panel
};

std::vector<PanelRun> panelRuns(int64_t n, const VectorUnit &unit) {
  std::vector<PanelRun> out;
  int64_t c = 0;
  const bool masked = unit.masked;
  const int lanes = unit.floats;
  for (auto [vectors, width] : {std::pair{panelVectors(unit), lanes}, {1, lanes}, {4, 1}, {1, 1}}) {
    if (masked && (width == 1 || vectors == 1))
      break;
    int64_t w = vectors * width, count = (n - c) / w;
    if (count > 0)
      out.push_back({c, count, vectors, width});
    c += count * w;
  }
  if (masked && c < n) {
    const int64_t rest = n - c;
    out.push_back({c, 1, static_cast<int>((rest + lanes - 1) / lanes), lanes,
                   static_cast<int>(rest % lanes)});
  }
  return out;
}

} // namespace

std::function<llvm::Value *(llvm::Value *, llvm::Value *, int64_t)>
rowMajor(Emitter &e, llvm::Value *base, llvm::Value *stride) {
  return [&e, base, stride](llvm::Value *s, llvm::Value *col0, int64_t) {
    return e.at(base, e.b.CreateAdd(e.b.CreateMul(s, stride), col0));
  };
}

// Calls pack(col0, columns) for each panel emitTiledProduct gives n columns.
void eachPanel(Emitter &e, int64_t n,
               const std::function<void(llvm::Value *col0, int64_t columns)> &pack) {
  auto &b = e.b;
  for (const PanelRun &run : panelRuns(n, e.vectors)) {
    const int64_t width = run.vectors * run.width;
    const int64_t columns = std::min(width, n - run.col0);
    e.loop(e.cst(run.count), [&](llvm::Value *panel) {
      pack(b.CreateAdd(e.cst(run.col0), b.CreateMul(panel, e.cst(width))), columns);
    });
  }
}

void emitPackTransposed(Emitter &e, llvm::Value *w, llvm::Value *out, int64_t n, int64_t k) {
  eachPanel(e, n, [&](llvm::Value *col0, int64_t columns) {
    llvm::Value *first = e.b.CreateMul(col0, e.cst(k));
    e.transposeBlock(e.at(w, first), e.at(out, first), e.cst(0), columns, k, k, columns);
  });
}

void emitPackRows(Emitter &e, llvm::Value *src, llvm::Value *out, int64_t n, int64_t k) {
  auto &b = e.b;
  eachPanel(e, n, [&](llvm::Value *col0, int64_t columns) {
    llvm::Value *panel = e.at(out, b.CreateMul(col0, e.cst(k)));
    e.loop(e.cst(k), [&](llvm::Value *s) {
      b.CreateMemCpy(e.at(panel, b.CreateMul(s, e.cst(columns))), llvm::Align(4),
                     e.at(src, b.CreateAdd(b.CreateMul(s, e.cst(n)), col0)), llvm::Align(4),
                     columns * 4);
    });
  });
}

std::function<llvm::Value *(llvm::Value *, llvm::Value *, int64_t)>
packedPanels(Emitter &e, llvm::Value *packed, int64_t k) {
  return [&e, packed, k](llvm::Value *s, llvm::Value *col0, int64_t columns) {
    auto &b = e.b;
    return e.at(packed, b.CreateAdd(b.CreateMul(col0, e.cst(k)), b.CreateMul(s, e.cst(columns))));
  };
}

void emitTiledProduct(Emitter &e, const TileAccess &access, llvm::Value *begin, llvm::Value *end) {
  auto &b = e.b;
  // Full blocks of `rows` rows; then, where that is more than 4 and 4 rows
  // are left, a block of 4; then single rows.
  const int rows = tileRows(e.vectors);
  llvm::Value *blocks = b.CreateSDiv(b.CreateSub(end, begin), e.cst(rows));
  llvm::Value *tailStart = b.CreateAdd(begin, b.CreateMul(blocks, e.cst(rows)));
  llvm::Value *four = nullptr, *singles = tailStart;
  if (rows > 4) {
    four = b.CreateICmpSGE(b.CreateSub(end, tailStart), e.cst(4));
    singles = b.CreateSelect(four, b.CreateAdd(tailStart, e.cst(4)), tailStart);
  }
  // A step block's rows of one panel of B, copied contiguous (see stepBlock).
  llvm::Value *packed = nullptr;
  if (access.stepBlock > 0 && access.packBlocks) {
    auto *slot = llvm::cast<llvm::AllocaInst>(e.entryAlloca(llvm::ArrayType::get(
        e.f32, access.stepBlock * panelVectors(e.vectors) * e.vectors.floats)));
    slot->setAlignment(llvm::Align(64));
    packed = slot;
  }
  auto tiles = [&](const StepRange &steps) {
    for (const PanelRun &run : panelRuns(access.columns, e.vectors)) {
      int64_t w = run.vectors * run.width;
      const int64_t columns = std::min(w, access.columns - run.col0);
      e.loop(e.cst(run.count), [&](llvm::Value *panel) {
        llvm::Value *col0 = b.CreateAdd(e.cst(run.col0), b.CreateMul(panel, e.cst(w)));
        TileAccess inPanel = access;
        if (packed) {
          if (access.packBlock)
            access.packBlock(packed, steps.begin, col0, columns);
          else
            e.loop(steps.begin, steps.end, [&](llvm::Value *s) {
              llvm::Value *row = b.CreateMul(b.CreateSub(s, steps.begin), e.cst(columns));
              b.CreateMemCpy(e.at(packed, row), llvm::Align(4), access.bAt(s, col0, columns),
                             llvm::Align(4), columns * 4);
            });
          inPanel.bAt = [&](llvm::Value *s, llvm::Value *, int64_t) {
            return e.at(packed, b.CreateMul(b.CreateSub(s, steps.begin), e.cst(columns)));
          };
        }
        auto tile = [&](llvm::Value *row0, int height) {
          emitTile(e, inPanel, steps, row0, height, col0, run.vectors, run.width, run.active);
        };
        e.loop(blocks, [&](llvm::Value *blk) {
          tile(b.CreateAdd(begin, b.CreateMul(blk, e.cst(rows))), rows);
        });
        if (four)
          e.ifElse(
              four, [&] { tile(tailStart, 4); }, [] {});
        e.loop(singles, end, [&](llvm::Value *row) { tile(row, 1); });
      });
    }
  };
  if (access.stepBlock <= 0) {
    tiles({e.cst(0), access.steps, nullptr, nullptr});
    return;
  }
  const int64_t block = access.stepBlock;
  llvm::Value *count = b.CreateSDiv(b.CreateAdd(access.steps, e.cst(block - 1)), e.cst(block));
  e.loop(count, [&](llvm::Value *k) {
    llvm::Value *first = b.CreateMul(k, e.cst(block));
    llvm::Value *last = b.CreateAdd(first, e.cst(block));
    last = b.CreateSelect(b.CreateICmpSLT(last, access.steps), last, access.steps);
    if (access.beforeBlock)
      access.beforeBlock(first);
    tiles({first, last, b.CreateICmpSGT(k, e.cst(0)), b.CreateICmpEQ(last, access.steps)});
  });
}

} // namespace mtl::codegen
