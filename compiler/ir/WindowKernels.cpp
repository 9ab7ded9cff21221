// WindowKernels.cpp: the interpreter's Window kinds (Ops.def), one window at a time.
#include "ir/Kernels.h"

#include <cmath>

namespace mtl::ir::kernels {

void windows(OpKind kind, const WindowShape &w, int64_t images, const Buffer &first,
             const Buffer *second, Buffer &out) {
  // The gradient kinds take (g, x); the forward kinds read x only.
  const OpKind forward = windowForward(kind);
  const Buffer &x = forward == kind ? first : *second;
  const Buffer &g = first;
  const int64_t k = w.kernel, patches = w.patches();
  for (int64_t img = 0; img < images; ++img)
    for (int64_t c = 0; c < w.channels; ++c)
      for (int64_t p = 0; p < patches; ++p) {
        const int64_t top = (p / w.outWidth) * w.stride - w.padding;
        const int64_t left = (p % w.outWidth) * w.stride - w.padding;
        // Im2Col's first element of this image and pools' output element.
        const int64_t colImage = img * w.patchSize() * patches;
        const int64_t pooled = (img * w.channels + c) * patches + p;
        int64_t best = -1; // the first maximum's index in x
        double sum = 0;
        for (int64_t i = 0; i < k; ++i)
          for (int64_t j = 0; j < k; ++j) {
            const int64_t row = top + i, col = left + j;
            const bool inside = row >= 0 && row < w.height && col >= 0 && col < w.width;
            const int64_t at =
                inside ? img * w.imageSize() + (c * w.height + row) * w.width + col : -1;
            const int64_t colAt = colImage + ((c * k + i) * k + j) * patches + p;
            switch (kind) {
            case OpKind::Im2Col:
              out[colAt] = inside ? x[at] : 0.0;
              break;
            case OpKind::Im2ColGrad:
              if (inside)
                out[at] += g[colAt];
              break;
            case OpKind::MaxPool:
            case OpKind::MaxPoolGrad: // NaN wins, as in PyTorch
              if (best < 0 || x[at] > x[best] || std::isnan(x[at]))
                if (best < 0 || !std::isnan(x[best]))
                  best = at;
              break;
            case OpKind::AvgPool:
              sum += x[at];
              break;
            case OpKind::AvgPoolGrad:
              out[at] += g[pooled] / static_cast<double>(k * k);
              break;
            default: // the caller passes only OpClass::Window kinds
              unexpectedOp(kind, "the interpreter's window kernels");
            }
          }
        if (kind == OpKind::MaxPool)
          out[pooled] = x[best];
        else if (kind == OpKind::MaxPoolGrad)
          out[best] += g[pooled];
        else if (kind == OpKind::AvgPool)
          out[pooled] = sum / static_cast<double>(k * k);
      }
}

} // namespace mtl::ir::kernels
