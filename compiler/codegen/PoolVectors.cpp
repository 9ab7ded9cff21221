// PoolVectors.cpp: pools whose windows tile their rows (stride = kernel),
// sixteen windows side by side in vector lanes.
//
// A window row of sixteen windows is k x 16 consecutive floats of the image:
// one vector load, whose lanes l k + j a shuffle deals out into one vector
// per window column j. Each lane then does what the element-by-element code
// of Window.cpp does for its window, in the same order (a maximum's first
// element in row-major order, NaN winning; a mean's sum from 0 in that
// order), so the results are bit for bit those of that code and of the
// interpreter's kernels. Gradients go the other way: one vector per window
// column, interleaved back into a row of k x 16 floats and stored whole.
#include "codegen/Emitter.h"

#include "ir/Window.h"

namespace mtl::codegen {

using ir::OpKind;

namespace {
constexpr int64_t kLanes = 16;
} // namespace

bool Emitter::poolsInVectors(const ir::Op &op, const ir::WindowShape &w) const {
  OpKind forward = ir::windowForward(op.kind);
  return (forward == OpKind::MaxPool || forward == OpKind::AvgPool) && w.padding == 0 &&
         w.stride == w.kernel && w.kernel <= 4;
}

int64_t Emitter::poolRow(const ir::Op &op, const ir::WindowShape &w, const WindowBuffers &buf,
                         llvm::Value *pooled, llvm::Value *corner) {
  const int64_t k = w.kernel, wide = k * kLanes;
  auto *narrowType = llvm::FixedVectorType::get(f32, kLanes);
  auto *wideType = llvm::FixedVectorType::get(f32, wide);
  auto lanesBelow = [&](int64_t lanes, int64_t active) -> llvm::Value * {
    if (active == 0)
      return nullptr; // every lane
    std::vector<llvm::Constant *> bits;
    for (int64_t l = 0; l < lanes; ++l)
      bits.push_back(b.getInt1(l < active));
    return llvm::ConstantVector::get(bits);
  };
  auto vload = [&](llvm::FixedVectorType *type, llvm::Value *ptr,
                   llvm::Value *mask) -> llvm::Value * {
    if (mask)
      return b.CreateMaskedLoad(type, ptr, llvm::Align(4), mask,
                                llvm::Constant::getNullValue(type));
    return b.CreateAlignedLoad(type, ptr, llvm::Align(4));
  };
  auto vstore = [&](llvm::Value *v, llvm::Value *ptr, llvm::Value *mask) {
    if (mask)
      b.CreateMaskedStore(v, ptr, llvm::Align(4), mask);
    else
      b.CreateAlignedStore(v, ptr, llvm::Align(4));
  };
  auto splat = [&](llvm::Value *v) { return b.CreateVectorSplat(kLanes, v); };
  const OpKind kind = op.kind;

  // Sixteen windows from output column `col0`, of which the first `active`
  // exist (0: all of them).
  auto group = [&](llvm::Value *col0, int64_t active) {
    llvm::Value *narrowMask = lanesBelow(kLanes, active), *wideMask = lanesBelow(wide, active * k);
    llvm::Value *pooledAt = b.CreateAdd(pooled, col0);
    auto imageRow = [&](int64_t i) {
      return b.CreateAdd(corner, b.CreateAdd(cst(i * w.width), b.CreateMul(col0, cst(k))));
    };
    // The window elements of every lane, in row-major order.
    std::vector<llvm::Value *> element;
    if (kind != OpKind::AvgPoolGrad)
      for (int64_t i = 0; i < k; ++i) {
        llvm::Value *r = vload(wideType, at(buf.x, imageRow(i)), wideMask);
        for (int64_t j = 0; j < k; ++j) {
          std::vector<int> pick;
          for (int64_t l = 0; l < kLanes; ++l)
            pick.push_back(static_cast<int>(l * k + j));
          element.push_back(b.CreateShuffleVector(r, pick));
        }
      }
    llvm::Value *divisor = splat(fcst(static_cast<double>(k * k)));
    if (kind == OpKind::AvgPool) {
      llvm::Value *sum = splat(fcst(0));
      for (llvm::Value *v : element)
        sum = b.CreateFAdd(sum, v);
      vstore(b.CreateFDiv(sum, divisor), at(buf.out, pooledAt), narrowMask);
      return;
    }
    // The first maximum (NaN wins and stays) and its element number.
    llvm::Value *best = nullptr, *which = nullptr;
    if (kind != OpKind::AvgPoolGrad) {
      best = element[0];
      which = splat(b.getInt32(0));
      for (size_t e = 1; e < element.size(); ++e) {
        llvm::Value *take =
            b.CreateAnd(b.CreateFCmpUGT(element[e], best), b.CreateFCmpORD(best, best));
        best = b.CreateSelect(take, element[e], best);
        which = b.CreateSelect(take, splat(b.getInt32(static_cast<uint32_t>(e))), which);
      }
    }
    if (kind == OpKind::MaxPool) {
      vstore(best, at(buf.out, pooledAt), narrowMask);
      return;
    }
    // Gradients: per window row, one vector per window column, interleaved.
    llvm::Value *g = vload(narrowType, at(buf.g, pooledAt), narrowMask);
    llvm::Value *share = b.CreateFAdd(splat(fcst(0)), b.CreateFDiv(g, divisor));
    const bool relu = op.attrs.activation == ir::Activation::Relu;
    for (int64_t i = 0; i < k; ++i) {
      std::vector<llvm::Value *> parts;
      for (int64_t j = 0; j < k; ++j) {
        if (kind == OpKind::AvgPoolGrad) {
          parts.push_back(share);
          continue;
        }
        const uint32_t e = static_cast<uint32_t>(i * k + j);
        llvm::Value *part =
            b.CreateSelect(b.CreateICmpEQ(which, splat(b.getInt32(e))), g, splat(fcst(0)));
        if (relu) // the relu before the pool fused in: times step(x), as a mul would
          part = b.CreateFMul(part, unary(OpKind::Step, op.attrs, element[e]));
        parts.push_back(part);
      }
      // Concatenated pairwise (part j at lanes j x 16), then dealt to lane l k + j.
      while (parts.size() > 1) {
        std::vector<llvm::Value *> next;
        for (size_t p = 0; p < parts.size(); p += 2) {
          llvm::Value *second = p + 1 < parts.size()
                                    ? parts[p + 1]
                                    : llvm::Constant::getNullValue(parts[p]->getType());
          int width = static_cast<int>(
              llvm::cast<llvm::FixedVectorType>(parts[p]->getType())->getNumElements());
          std::vector<int> both;
          for (int l = 0; l < 2 * width; ++l)
            both.push_back(l);
          next.push_back(b.CreateShuffleVector(parts[p], second, both));
        }
        parts = next;
      }
      std::vector<int> deal;
      for (int64_t t = 0; t < wide; ++t)
        deal.push_back(static_cast<int>((t % k) * kLanes + t / k));
      vstore(b.CreateShuffleVector(parts[0], deal), at(buf.out, imageRow(i)), wideMask);
    }
  };
  const int64_t full = w.outWidth / kLanes, rest = w.outWidth % kLanes;
  loop(cst(full), [&](llvm::Value *n) { group(b.CreateMul(n, cst(kLanes)), 0); });
  if (rest == 0 || !vectors.masked)
    return full * kLanes;
  group(cst(full * kLanes), rest);
  return w.outWidth;
}

} // namespace mtl::codegen
