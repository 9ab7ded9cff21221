// Emitter.h: shared state and helpers for turning IR ops into LLVM IR loops.
#pragma once

#include "codegen/VectorUnit.h"
#include "ir/Graph.h"
#include "passes/MemoryPlan.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <functional>
#include <map>
#include <string>

namespace mtl::ir {
struct WindowShape;
} // namespace mtl::ir

namespace mtl::codegen {

/// Where a value that an op touches is stored, for telling LLVM that an op's
/// buffers do not overlap (`noalias`).
struct StorageSpan {
  const void *root = nullptr;   ///< the place's root; null: not known
  const void *buffer = nullptr; ///< the pointer the op is passed
  int64_t begin = 0, end = 0;   ///< floats past the root (times the rows with perRow)
  bool perRow = false;
  bool known = true; ///< false: the size depends on the rows in a way the span does not say
};

/// Whether spans with different buffers are disjoint memory. Different roots
/// are different allocations or regions that do not overlap; at one root the
/// offsets decide, and a span of unknown size overlaps everything there.
bool disjointSpans(const std::vector<StorageSpan> &spans);

/// Emits the body of one step function (train or eval). Every IR value lives
/// in memory (a pointer per value); kernels are loops over those buffers with
/// every dimension but the batch a constant, which lets LLVM unroll and
/// vectorise them for the target CPU.
class Emitter {
public:
  Emitter(llvm::Module &module, const ir::Graph &graph, const passes::MemoryPlan &plan);

  llvm::LLVMContext &ctx;
  llvm::Module &module;
  llvm::IRBuilder<> b;
  const ir::Graph &graph;
  const passes::MemoryPlan &plan;
  llvm::Type *f32, *f64, *i32, *i64, *ptr;

  /// Base pointer of each value's buffer, set before ops are emitted.
  std::vector<llvm::Value *> buffers;
  /// Where a buffer lives: `offset` floats past `root`, a pointer the step
  /// function computes once (an argument, an arena's start), or `rows *
  /// offset` floats past it for a batched value. emitOpsInChunks computes
  /// the pointers again from their roots inside each chunk.
  struct Place {
    llvm::Value *root = nullptr;
    int64_t offset = 0;
    bool perRow = false;
  };
  std::vector<Place> places;
  /// Sets value `id`'s buffer to `root` itself.
  void placeAtRoot(ir::ValueId id, llvm::Value *root);
  /// Sets value `id`'s buffer to `offset` floats past `root` (times the
  /// rows with `perRow`).
  void placeAt(ir::ValueId id, llvm::Value *root, int64_t offset, bool perRow = false);
  /// The batch size of the function being emitted (i64).
  llvm::Value *rows = nullptr;
  /// The mtl_parallel* argument (may be null at run time).
  llvm::Value *parallel = nullptr;
  /// Whether dropout is active (train) or the identity (eval).
  bool training = true;
  /// mix64 of the run's seed (mtl_hyper.seed, i64), mixed into each dropout
  /// op's constant seed as ir::dropoutSeed does; set by the gradient steps.
  llvm::Value *runSeed = nullptr;
  /// The optimizer step (mtl_hyper.step, i64) for dropout masks; exact at any
  /// step, where the graph's f32 "train.step" input is exact only to 2^24.
  llvm::Value *step = nullptr;
  /// Values computed inside their consumer's loop (see passes/Fusion.h); may be empty.
  std::vector<bool> fused;
  bool isFused(ir::ValueId id) const { return !fused.empty() && fused[id]; }
  /// Values computed image by image inside their consumer's loop that keep
  /// their buffer (passes/Fusion.h, carriedProducts); may be empty. Columns
  /// (im2col) are, at any batch: their products compute them. A columns'
  /// gradient is from kCarriedRows rows on; at smaller batches, whose
  /// columns stay in the cache anyway, it has a loop of its own as other
  /// values do (carrying it made M7's step at 16 rows 3-4% longer).
  std::vector<bool> carried;
  bool isCarried(ir::ValueId id) const { return !carried.empty() && carried[id]; }
  static constexpr int64_t kCarriedRows = 64;
  /// The most floats of a batch's carried columns that the forward product
  /// stores for the weight gradient to read (1 MB, half of an L2 cache);
  /// beyond, the weight gradient computes them again (passes/Fusion.h).
  static constexpr int64_t kCachedColumns = 262144;
  /// Whether the weight gradient computes carried columns of `perImage`
  /// floats an image again at `batch` rows (an i1).
  llvm::Value *recomputesColumns(llvm::Value *batch, int64_t perImage);

  /// Emits the computation of value `id`.
  void emitOp(ir::ValueId id);
  /// Emits the computation of value `id` as an internal, always-inlined
  /// function of its own (see Outline.cpp) and a call to it; ops too small to
  /// be worth a function (and ops with no code) go through emitOp.
  void emitOpOutlined(ir::ValueId id);
  /// Whether emitOpOutlined gives value `id` a function of its own.
  bool outlines(ir::ValueId id) const;
  /// The functions emitOpOutlined made, by opKey: an op whose key is there
  /// is a call to that function, not a new one. Shared by a module's step
  /// functions; null: every op gets a function of its own.
  std::map<std::string, llvm::Function *> *sameOps = nullptr;
  /// The values with storage that computing `id` writes or reads: itself,
  /// its operands and, through fused and carried operands, theirs; each
  /// once, in a fixed order.
  std::vector<ir::ValueId> storageOf(ir::ValueId id) const;
  using OutlinedBody = std::function<void(const std::vector<llvm::Value *> &args)>;
  /// Emits a call `f(args...)` to a new internal, always-inlined function `f`
  /// whose body `body` emits, given f's arguments, with this builder; the
  /// insertion point is restored after. The body must use only those arguments
  /// and constants, so that equal bodies are equal functions (the REPL's cache).
  /// Returns f, named `mtl.op` (`mtl.call`, `noinline`, when not inlined;
  /// callers name what they make: a chunk is kCallChunk). The first
  /// `distinct` arguments are marked `noalias`: the caller knows that the
  /// memory each reaches is reached by no other argument.
  llvm::Function *outlined(const std::vector<llvm::Value *> &args, const OutlinedBody &body,
                           bool inlined = true, size_t distinct = 0);
  /// Emits values `ids` in order with emitOpOutlined. Beyond kChunkOps
  /// outlined ops, the calls go in chunks of kChunkOps, each a function of
  /// its own that computes the pointers it passes on from their `places`
  /// (see Outline.cpp).
  void emitOpsInChunks(const std::vector<ir::ValueId> &ids);
  static constexpr size_t kChunkOps = 256;
  /// Emits the segments of passes::planLanes: a lane alone as calls in
  /// order; a pair of lanes as a kernel of two items, one lane each, which
  /// the pool runs on two threads at the batches the pair gives (Segment::
  /// minRows to maxRows), else one after the other. Lane 1 uses `laneScratch`.
  void emitSegments(const std::vector<passes::Segment> &segments);

  /// A second scratch area, as large as `scratch`, for the second lane.
  llvm::Value *laneScratch = nullptr;
  /// Copies `count` floats from `src` to `dst` in an outlined function,
  /// `mtl.copy` (one for every copy: the count is an argument).
  void copyOutlined(llvm::Value *src, llvm::Value *dst, llvm::Value *count);

  // Helpers used by the per-family kernel files.
  /// One element of an element-wise unary or binary kind, from its operands' values
  /// (Relu and Step also a vector of them).
  llvm::Value *unary(ir::OpKind kind, const ir::Attrs &attrs, llvm::Value *x);
  llvm::Value *binary(ir::OpKind kind, llvm::Value *x, llvm::Value *y);
  llvm::Value *cst(int64_t v) { return b.getInt64(static_cast<uint64_t>(v)); }
  llvm::Value *fcst(double v) { return llvm::ConstantFP::get(f32, v); }
  /// Number of elements of a value of type `t` in this step.
  llvm::Value *count(const ir::TensorType &t);
  /// Rows of a value's matrix view [rows, last dim]: every dimension but the
  /// last, times B for a batched value.
  llvm::Value *rowsOf(const ir::TensorType &t);
  llvm::Value *at(llvm::Value *base, llvm::Value *index);
  llvm::Value *load(llvm::Value *base, llvm::Value *index);
  void store(llvm::Value *v, llvm::Value *base, llvm::Value *index);
  /// Whether LLVM may unroll a loop. A body already unrolled by hand (a
  /// product's register tile) gains nothing from more copies of itself,
  /// only compile time and code size.
  enum class Unroll { Allowed, Never };
  /// for (i = begin; i < end; ++i) body(i)
  void loop(llvm::Value *begin, llvm::Value *end, const std::function<void(llvm::Value *)> &body,
            Unroll unroll = Unroll::Allowed);
  void loop(llvm::Value *end, const std::function<void(llvm::Value *)> &body) {
    loop(cst(0), end, body);
  }
  /// for (r = 0; r < rows; ++r) for (c = 0; c < width; ++c) body(r, c)
  void grid(llvm::Value *rows, int64_t width,
            const std::function<void(llvm::Value *, llvm::Value *)> &body);
  /// A `type` on the stack, allocated in the entry block of the function
  /// being emitted: a fixed part of its frame (a static alloca), so loops
  /// and inlining add no stack adjustments.
  llvm::Value *entryAlloca(llvm::Type *type);
  /// An accumulator (a float or a vector) in an alloca (promoted to a register by mem2reg).
  llvm::Value *accumulator(llvm::Type *type, llvm::Value *init);
  /// Lanes of the partial sums of row sums and of dot products of 16 terms
  /// or more: one 512-bit register, two 256-bit or four 128-bit ones.
  static constexpr int kSumLanes = 16;
  /// <lanes x float>.
  llvm::FixedVectorType *sumVector(int lanes = kSumLanes) {
    return llvm::FixedVectorType::get(f32, lanes);
  }
  /// The sum of the lanes of a vector (a power of two wide), halves added pairwise. Sums
  /// are written in an order of their own, never left to LLVM to reassociate,
  /// so results are the same at every optimisation level.
  llvm::Value *laneSum(llvm::Value *v);
  /// Calls a unary libm function or intrinsic ("expf", "logf", "log1pf", "tanhf", "sqrtf",
  /// "fabsf").
  llvm::Value *callMath(const char *name, llvm::Value *x);
  /// e^x, log x and log(1 + x) of a float or of each lane of a vector, as
  /// generated code (Elementary.cpp): the same bits in every lane as for a float.
  llvm::Value *exp(llvm::Value *x);
  llvm::Value *log(llvm::Value *x);
  llvm::Value *log1p(llvm::Value *x);
  /// x / c rounded as the division rounds it, from y = 1 / c (rounded),
  /// with two fused multiply-adds and a multiply (Elementary.cpp): for a c
  /// the same for many x, where the target has FMA (vectors.fma). x and c
  /// such that nothing underflows or overflows (a quotient, a remainder).
  llvm::Value *divideByScalar(llvm::Value *x, llvm::Value *c, llvm::Value *y);
  /// The same as a call to mtl.NAME.TYPE ("exp", "log" or "log1p"), a
  /// function of this module defined on first use: a loss or a softmax
  /// needs them in several places, each copied per class where a loop over
  /// a few classes is unrolled, which as inline code made compiling a model
  /// of two classifiers 40% longer.
  llvm::Value *callElementary(const std::string &name, llvm::Value *x);
  llvm::Value *fmax(llvm::Value *a, llvm::Value *b);
  llvm::Value *isNan(llvm::Value *x) { return b.CreateFCmpUNO(x, x); }
  /// Exponent bits of a float at or above which flagAtLeast flags it: inf
  /// and NaN; or |x| >= 2^60, past which a square or a product of two such
  /// numbers could overflow.
  static constexpr uint32_t kNonFinite = 0x7f800000u, kHuge = (127u + 60u) << 23;
  /// ORs into the i32 at `flag` whether float `x`'s exponent bits reach
  /// `exponentBits`. Integer ORs, unlike float compares chained in order,
  /// let loops over whole arrays vectorise.
  void flagAtLeast(llvm::Value *flag, llvm::Value *x, uint32_t exponentBits);
  /// flagAtLeast for a loop of values: the i32 at `largest` (from 0) keeps
  /// the largest |x|'s bits (noteMagnitude), and after the loop
  /// flagLargest ORs into `flag` whether they reach `exponentBits` (as the
  /// exponent's do, the significand's bits being 0 there). An unsigned
  /// maximum, where flagAtLeast's compare-and-OR takes five vector
  /// instructions for one.
  void noteMagnitude(llvm::Value *largest, llvm::Value *x);
  void flagLargest(llvm::Value *flag, llvm::Value *largest, uint32_t exponentBits);
  /// SplitMix64's finaliser, as ir::mix64.
  llvm::Value *mix64(llvm::Value *z);

  /// Below this much work (multiply-adds, or elements of an element-wise op)
  /// parallelRows runs on the calling thread: waking the pool would cost
  /// more. 2^16 since 2026-12-06, in the lanes' cost model too
  /// (passes/Lanes.h): M1's second weight gradient then runs beside the
  /// first layer's gradients at 256 and 512 rows, 10-19% off M1/256's step
  /// on two threads, rows at batch <= 32 level; splitting from 2^16 with
  /// the model at 2^17 gained nothing (bench/README.md, "Findings",
  /// "Element-wise ops split from 2^16").
  static constexpr int64_t kParallelWork = passes::kSplitWork;
  /// A matrix product splits from this many multiply-adds (Matrix.cpp).
  static constexpr int64_t kParallelProductWork = passes::kProductSplitWork;
  /// Element-wise ops and row sums whose rows have fewer elements than this
  /// keep a plain loop in the op's own code for values under kParallelWork
  /// elements at run time (eachRow); longer rows always go through a kernel.
  static constexpr int64_t kThreadedRow = 64;
  using KernelBody =
      std::function<void(std::vector<llvm::Value *> &args, llvm::Value *begin, llvm::Value *end)>;
  /// Emits `body` as a separate function over rows [begin, end) of `n`, and a
  /// call that goes through the runtime's parallel_for when there is a pool
  /// and `work` (multiply-adds in all, i64) is large enough, or where
  /// `work` (an i1) says so. `args` (pointers,
  /// i64 or f32) are passed through a context array and handed to `body` reloaded.
  /// The kernel function is named after the op being emitted
  /// (`mtl.kernel.max_pool_grad`), so profiles read without a key, and
  /// returned.
  /// Whether a kernel's body is told again which of its buffers are
  /// disjoint (parallelRows). All are but three kinds, which were slower
  /// told: the products, whose tiles LLVM then scheduled with spills of
  /// vector registers (tests/e2e/register_tiles.sh), the parameters'
  /// updates (M3/1 83 -> 88 us) and the losses (M2/4096 875 -> 910 us).
  enum class Disjoint { Restate, Ignore };
  llvm::Function *parallelRows(llvm::Value *n, llvm::Value *work,
                               const std::vector<llvm::Value *> &args, const KernelBody &body,
                               Disjoint disjoint = Disjoint::Restate);
  /// The mnemonic of the op emitOp is emitting, for kernel names.
  const char *kernelOp = "op";
  /// parallelRows for the op computing `id`: body(begin, end, extra) sees the
  /// op's buffers, and those of its fused operands, as the kernel's
  /// arguments, and `extra` (an i64, f32 or pointer of the caller, or null) as the kernel's.
  void inThreads(ir::ValueId id, llvm::Value *n, llvm::Value *work,
                 const std::function<void(llvm::Value *, llvm::Value *, llvm::Value *)> &body,
                 llvm::Value *extra = nullptr, Disjoint disjoint = Disjoint::Restate);
  /// body(begin, end, nullptr) over all `n` rows of the op computing `id`,
  /// whose rows have `rowWork` units of work each (`work` in all): inThreads
  /// where rows are long (kThreadedRow, or kParallelWork for a value without
  /// a batch); a plain loop here where a value without a batch has short
  /// rows; and for a batched value of short rows, a plain loop while `work`
  /// is under kParallelWork at run time and inThreads from there (the plain
  /// loop costs no call at small batches; at large ones, rows of 50 kept one
  /// thread busy while the other waited: M1 at 4096 rows).
  void eachRow(ir::ValueId id, const ir::TensorType &type, int64_t rowWork, llvm::Value *n,
               llvm::Value *work,
               const std::function<void(llvm::Value *, llvm::Value *, llvm::Value *)> &body);
  /// if (cond) then() else otherwise()
  void ifElse(llvm::Value *cond, const std::function<void()> &then,
              const std::function<void()> &otherwise);
  /// out[base + r * outStride + c] = in[base + c * inStride + r] for r < cols,
  /// c < m: a block of m rows and `cols` columns transposed (a whole matrix's
  /// strides are cols and m), 8 x 8 tiles through registers (Window.cpp).
  void transposeBlock(llvm::Value *in, llvm::Value *out, llvm::Value *base, int64_t m, int64_t cols,
                      int64_t inStride, int64_t outStride);
  /// A fixed scratch area of the workspace (floats), for transposed weights.
  llvm::Value *scratch = nullptr;
  /// The target's vector registers: the shape of a product's tiles
  /// (MicroKernel.cpp), and whether it loads and stores vectors under a mask
  /// in hardware (`masked`, AVX and later): a product's last columns past
  /// its full panels are then one panel of the vectors they need, the last
  /// masked, else one-vector panels and scalar tiles; a pool's last windows
  /// of a row likewise (PoolVectors.cpp).
  VectorUnit vectors;
  /// Asks LLVM to vectorise `fn`'s loops to the registers' full width. For
  /// AVX-512 CPUs LLVM 16 prefers 8 floats, half a register: right for
  /// loops that wait for memory, but an update element's dozen operations
  /// and three checks then take twice the instructions.
  void preferFullWidth(llvm::Function *fn);

private:
  /// outlined(), with the step's state passed after `prefix` (the scratch
  /// area, the pool, the rows and, with `seeded`, the run seed and step) and
  /// pointing at those arguments while `body` runs; `body` gets prefix's.
  llvm::Function *outlinedInState(const std::vector<llvm::Value *> &prefix, bool seeded,
                                  bool inlined, const OutlinedBody &body, bool distinct = false);
  /// `prefix`, then the step's state as outlinedInState passes it.
  std::vector<llvm::Value *> withState(const std::vector<llvm::Value *> &prefix, bool seeded);
  /// What the function emitOpOutlined makes for value `id` depends on: the
  /// ops it computes (`id`, and the fused and carried values inside it:
  /// kind, attributes, whether fused or carried), the type of every value
  /// it touches and which of `storage` each is, how the values are shared
  /// (a value reached twice), which storage shares a pointer (`argOf`), and
  /// `seeded`, `distinct` and `training`. The emitter's other state is the
  /// same for every op of a module, or an argument of the function.
  /// tests/codegen/shared_ops_test.cpp checks the key against the functions.
  std::string opKey(ir::ValueId id, const std::vector<ir::ValueId> &storage,
                    const std::vector<size_t> &argOf, bool seeded, bool distinct) const;
  /// Whether the storage of values `ids` is disjoint memory wherever two of
  /// them have different buffers (disjointSpans over their places).
  bool disjoint(const std::vector<ir::ValueId> &ids) const;
  /// The distinct roots of the places of the values that computing `ids` touches.
  std::vector<llvm::Value *> rootsOf(const std::vector<ir::ValueId> &ids) const;
  /// Emits the ops `ids` here, with the buffers of the values they touch
  /// computed from their places' `roots`, which are `values` here.
  void emitFromRoots(const std::vector<ir::ValueId> &ids, const std::vector<llvm::Value *> &roots,
                     const std::vector<llvm::Value *> &values);
  /// Calls a new `noinline` function (`mtl.ops`) that is passed `roots`
  /// and emits `chunk`'s ops from them.
  void callChunk(const std::vector<ir::ValueId> &chunk, const std::vector<llvm::Value *> &roots);
  void emitElementwise(const ir::Op &op, ir::ValueId id);
  void emitRowwise(const ir::Op &op, ir::ValueId id);
  void emitReduce(const ir::Op &op, ir::ValueId id);
  void emitMatrix(const ir::Op &op, ir::ValueId id);
  void emitLoss(const ir::Op &op, ir::ValueId id);
  void emitShapeOp(const ir::Op &op, ir::ValueId id);
  void emitWindow(const ir::Op &op, ir::ValueId id);
  void emitBatchNorm(const ir::Op &op, ir::ValueId id);
  void emitTranspose(const ir::Op &op, ir::ValueId id);
  /// Whether a pool's windows tile their rows (stride = kernel <= 4), so
  /// poolRow computes sixteen of them at once (PoolVectors.cpp).
  bool poolsInVectors(const ir::Op &op, const ir::WindowShape &w) const;
  /// A Window op's buffers: the gradient (gradient kinds), the image, the result.
  struct WindowBuffers {
    llvm::Value *g, *x, *out;
  };
  /// One output row of such a pool (or its gradient), in vectors of 16
  /// windows, the last one masked where the target masks vector moves:
  /// `pooled` indexes the row's first pooled element, `corner` the image
  /// element at its first window's corner. Returns how many windows from
  /// the left it computed.
  int64_t poolRow(const ir::Op &op, const ir::WindowShape &w, const WindowBuffers &buf,
                  llvm::Value *pooled, llvm::Value *corner);
  /// Image `image` of matmul_left `op` (w x_l, + b on each row), written
  /// at image `slot` of `y` (Matrix.cpp).
  void imageProduct(const ir::Op &op, llvm::Value *w, llvm::Value *x, llvm::Value *bias,
                    llvm::Value *y, llvm::Value *image, llvm::Value *slot);
  /// Rows [first, last) of image `image`'s columns of im2col `op` (image
  /// x), written at image `slot` of `columns` (Window.cpp): the columns
  /// carried into the products that read them (passes/Fusion.h).
  void imageColumns(const ir::Op &op, llvm::Value *x, llvm::Value *columns, llvm::Value *image,
                    llvm::Value *slot, llvm::Value *first, llvm::Value *last);
  /// Row (c, i, j) of an image's im2col columns, or its gradient added back
  /// into the image: `plane` indexes channel c of the image, `columns` the
  /// image's first element of the columns (Window.cpp).
  void im2colRow(const ir::Op &op, const ir::WindowShape &w, const WindowBuffers &buf,
                 llvm::Value *plane, llvm::Value *columns, llvm::Value *c, llvm::Value *i,
                 int64_t j);
  /// Whether im2col_grad `op` gathers each image row's terms in vectors
  /// (im2colGradRows) rather than adding the columns' rows back in place.
  bool gathersIm2colGrad(const ir::Op &op, const ir::WindowShape &w) const;
  /// Channel c of an image's im2col_grad, row by row: each element's terms
  /// summed in registers in the order the in-place adds take (Window.cpp).
  void im2colGradRows(const ir::WindowShape &w, const WindowBuffers &buf, llvm::Value *plane,
                      llvm::Value *columns, llvm::Value *c);
  /// The multiply-adds per element of the products fused into element-wise
  /// op `id` (passes/Fusion.h), through its chains of fused operands.
  int64_t fusedProductSteps(ir::ValueId id) const;
  /// Element `flat` (column `col` of its row) of an element-wise op, computed
  /// from its operands; fused operands are computed in place, recursively.
  llvm::Value *compute(ir::ValueId id, llvm::Value *flat, llvm::Value *col);
  /// The stored element, or the computed one for a fused value.
  llvm::Value *valueAt(ir::ValueId id, llvm::Value *flat, llvm::Value *col);
};

} // namespace mtl::codegen
