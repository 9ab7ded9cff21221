// Window.h: the geometry of the Window ops of Ops.def, square windows that
// slide over the last three dimensions [C, H, W] of a value.
#pragma once

#include "ir/Op.h"
#include "ir/Type.h"

#include <optional>
#include <string>

namespace mtl::ir {

/// One image's sides and the windows over it.
struct WindowShape {
  int64_t channels = 0, height = 0, width = 0;
  int64_t kernel = 1, stride = 1, padding = 0;
  int64_t outHeight = 0, outWidth = 0; ///< windows along each side

  int64_t imageSize() const { return channels * height * width; }
  int64_t patches() const { return outHeight * outWidth; }
  /// Elements of one patch, Im2Col's rows: (channel, row, column).
  int64_t patchSize() const { return channels * kernel * kernel; }
  /// Elements of one pooled image, [C, OH, OW].
  int64_t pooledSize() const { return channels * patches(); }
};

/// The windows `attrs` over `image` (its last three dimensions), or why they
/// do not fit: sides as PyTorch computes them, (side + 2 padding - kernel) /
/// stride + 1, rounded down; padding at most half the kernel.
std::optional<WindowShape> windowShape(const TensorType &image, const Attrs &attrs,
                                       std::string *why);

/// The forward kind that a window gradient kind differentiates (Im2ColGrad:
/// Im2Col, MaxPoolGrad: MaxPool, AvgPoolGrad: AvgPool); other kinds map to
/// themselves.
OpKind windowForward(OpKind kind);

/// The type of the forward window op `kind` on `image`.
TensorType windowResult(OpKind kind, const TensorType &image, const WindowShape &w);

} // namespace mtl::ir
