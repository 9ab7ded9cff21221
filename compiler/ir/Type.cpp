// Type.cpp: tensor type helpers and their textual form.
#include "ir/Type.h"

namespace mtl::ir {

const char *dtypeName(DType dtype) { return dtype == DType::I32 ? "i32" : "f32"; }

int64_t TensorType::rowElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

std::string formatType(const TensorType &type) {
  std::string s = dtypeName(type.dtype);
  s += '[';
  bool first = true;
  if (type.batched) {
    s += 'B';
    first = false;
  }
  for (int64_t d : type.dims) {
    if (!first)
      s += ", ";
    s += std::to_string(d);
    first = false;
  }
  s += ']';
  return s;
}

} // namespace mtl::ir
