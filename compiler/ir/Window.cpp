// Window.cpp: the geometry of the Window ops.
#include "ir/Window.h"

#include <fmt/format.h>

namespace mtl::ir {

std::optional<WindowShape> windowShape(const TensorType &image, const Attrs &a, std::string *why) {
  auto fail = [&](std::string message) -> std::optional<WindowShape> {
    if (why)
      *why = std::move(message);
    return std::nullopt;
  };
  if (image.dims.size() < 3)
    return fail(fmt::format("windows need an image [.., C, H, W], got {}", formatType(image)));
  WindowShape w;
  const size_t n = image.dims.size();
  w.channels = image.dims[n - 3];
  w.height = image.dims[n - 2];
  w.width = image.dims[n - 1];
  w.kernel = a.kernel;
  w.stride = a.stride;
  w.padding = a.padding;
  if (w.kernel < 1 || w.stride < 1 || w.padding < 0 || 2 * w.padding > w.kernel)
    return fail(fmt::format("window kernel {}, stride {}, padding {}: kernel and stride must be "
                            "positive, padding at most half the kernel",
                            w.kernel, w.stride, w.padding));
  if (w.height + 2 * w.padding < w.kernel || w.width + 2 * w.padding < w.kernel)
    return fail(fmt::format("a window of {} does not fit in {} x {} with padding {}", w.kernel,
                            w.height, w.width, w.padding));
  w.outHeight = (w.height + 2 * w.padding - w.kernel) / w.stride + 1;
  w.outWidth = (w.width + 2 * w.padding - w.kernel) / w.stride + 1;
  return w;
}

OpKind windowForward(OpKind kind) {
  switch (kind) {
  case OpKind::Im2ColGrad:
    return OpKind::Im2Col;
  case OpKind::MaxPoolGrad:
    return OpKind::MaxPool;
  case OpKind::AvgPoolGrad:
    return OpKind::AvgPool;
  default:
    return kind;
  }
}

TensorType windowResult(OpKind kind, const TensorType &image, const WindowShape &w) {
  TensorType r = image;
  r.dims.resize(r.dims.size() - 3);
  if (kind == OpKind::Im2Col) {
    r.dims.push_back(w.patchSize());
    r.dims.push_back(w.patches());
  } else {
    r.dims.insert(r.dims.end(), {w.channels, w.outHeight, w.outWidth});
  }
  return r;
}

} // namespace mtl::ir
