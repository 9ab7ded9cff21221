// MicroKernel.h: a register-blocked tile for the products C (+)= A B.
#pragma once

#include "codegen/Emitter.h"

namespace mtl::codegen {

/// How to address one product C[m, n] = Σ_s A(m, s) B(s, n), for tiles.
struct TileAccess {
  llvm::Value *steps; ///< the length of the sum (i64)
  /// The scalar A(row, s); `first` is the first step of s's block (with
  /// `stepBlock`; else 0), constant over a tile's sum of that block.
  std::function<llvm::Value *(llvm::Value *row, llvm::Value *s, llvm::Value *first)> a;
  /// Pointer to B(s, col0), where `col0` starts a panel of `columns`
  /// columns, contiguous from there (rowMajor, or packedPanels); null with
  /// packBlock.
  std::function<llvm::Value *(llvm::Value *s, llvm::Value *col0, int64_t columns)> bAt;
  std::function<llvm::Value *(llvm::Value *row)> cRow; ///< pointer to C(row, 0)
  int64_t columns;                                     ///< n, a constant
  /// > 0: the sum over s goes in blocks of this many steps, each block over
  /// every tile, so a block of B stays in cache while all rows use it (for
  /// long sums: a weight gradient over every row of a batch). The tiles keep
  /// C between blocks and continue its sums in the same order, so results
  /// are those of one sum.
  int64_t stepBlock = 0;
  /// With stepBlock: each block's rows of a panel of B are first copied to
  /// the stack, contiguous, and every tile reads them there (one stream in
  /// the L1 cache, where B's own rows can be 512 bytes apart and fall in
  /// few of its sets). Pays where many rows of C read each copy.
  bool packBlocks = false;
  /// With packBlocks, where B's rows are not contiguous (a transposed B):
  /// stores the block's rows of the panel at `col0` at `packed` (`columns`
  /// floats a row) from the block's `first` step; every block is
  /// stepBlock steps long. Null: each row is copied from bAt.
  std::function<void(llvm::Value *packed, llvm::Value *first, llvm::Value *col0, int64_t columns)>
      packBlock = nullptr;
  /// With stepBlock: called at the start of each block with its first step,
  /// before any of its tiles (to compute what the block reads); may be null.
  std::function<void(llvm::Value *first)> beforeBlock = nullptr;
  /// At most one non-null: a row of n floats added to every row of C
  /// (`bias`), or one float per row added to each of its elements
  /// (`rowBias`), after the whole sum (C = A B + bias, the sum rounded
  /// first, as a separate pass would add it), in the registers before the
  /// tile's last stores.
  llvm::Value *bias = nullptr, *rowBias = nullptr;
  /// A relu applied after the bias (ir::Activation::Relu), in the same
  /// registers: x > 0 ? x : 0, as the relu op.
  bool relu = false;
  /// Non-null (without stepBlock): A(row, s) is aRows[row · steps + s], A's
  /// rows one after the other, and each full tile prefetches the rows of
  /// the tile after it into the L2 cache while it sums, rows · 4 bytes a
  /// step. Read as rows interleaved streams a few KB apart, A was not
  /// prefetched by the CPU: its loads waited on the L3 cache.
  llvm::Value *aRows = nullptr;
};

/// Emits C[rows [begin, end), all n columns] = A B. Rows go in blocks of 6
/// (AVX-512) or 4, then a block of 4 where 4 of 6 are left, then single rows;
/// columns in panels of whole vector registers (Emitter::vectors: 4 of 16
/// floats with AVX-512, 3 of 8 with AVX, 2 of 4 with SSE), then one panel of the vectors the
/// last columns need, the last vector masked (else one-vector panels and
/// scalar tiles). Each tile keeps its accumulators in registers for the
/// whole sum over s, so the inner loop does one broadcast of A and one
/// vector load of B per register of multiply-adds, and no stores. Each element
/// is summed in one fixed order, whatever the row range, so splitting rows
/// across threads cannot change results (nor `stepBlock`).
void emitTiledProduct(Emitter &e, const TileAccess &access, llvm::Value *begin, llvm::Value *end);

/// TileAccess::bAt of a B stored by rows of `stride` floats from `base`.
std::function<llvm::Value *(llvm::Value *, llvm::Value *, int64_t)>
rowMajor(Emitter &e, llvm::Value *base, llvm::Value *stride);

/// Stores B = the transpose of `w` (n rows of k floats) at `out` panel by
/// panel, in the panels emitTiledProduct gives n columns: the panel of
/// columns [c0, c0 + w) as k rows of w floats from out + c0 k. A tile then
/// reads its panel's k rows as one contiguous stream, where B's own rows
/// (n floats apart: 512 bytes for n = 128) put a panel's cache lines in
/// one set of every eight of the L1 and L2 caches, and it went from L3.
void emitPackTransposed(Emitter &e, llvm::Value *w, llvm::Value *out, int64_t n, int64_t k);

/// Stores B (k rows of n floats at `src`) at `out` in the same panels.
void emitPackRows(Emitter &e, llvm::Value *src, llvm::Value *out, int64_t n, int64_t k);

/// TileAccess::bAt of a B that emitPackTransposed or emitPackRows stored at `packed`.
std::function<llvm::Value *(llvm::Value *, llvm::Value *, int64_t)>
packedPanels(Emitter &e, llvm::Value *packed, int64_t k);

} // namespace mtl::codegen
