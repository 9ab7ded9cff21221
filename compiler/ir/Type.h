// Type.h: element types and tensor types of the graph IR.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mtl::ir {

/// Element types. Floating-point values are f32 in generated code; the
/// reference interpreter evaluates them in double precision, which is what
/// gradient checks need, so the IR has no separate f64 type.
enum class DType { F32, I32 };

/// "f32" or "i32".
const char *dtypeName(DType dtype);

/// A static tensor type. `batched` means the first dimension is the symbolic
/// batch size `B` and `dims` are the dimensions after it; otherwise `dims` is
/// the whole (fully static) shape. `f32[]` is a scalar, `f32[B]` one value per row.
struct TensorType {
  DType dtype = DType::F32;
  bool batched = false;
  std::vector<int64_t> dims;

  static TensorType scalar(DType dtype = DType::F32) { return {dtype, false, {}}; }
  static TensorType batch(std::vector<int64_t> rowDims, DType dtype = DType::F32) {
    return {dtype, true, std::move(rowDims)};
  }
  static TensorType fixed(std::vector<int64_t> shape, DType dtype = DType::F32) {
    return {dtype, false, std::move(shape)};
  }

  /// Product of `dims` (1 for none): elements per row when batched.
  int64_t rowElements() const;
  /// Number of elements for a concrete batch size.
  int64_t elements(int64_t batchSize) const { return (batched ? batchSize : 1) * rowElements(); }
  /// True for a fully static shape with no dimensions.
  bool isScalar() const { return !batched && dims.empty(); }
  /// The last static dimension; 0 when there is none (a scalar or `[B]`).
  int64_t lastDim() const { return dims.empty() ? 0 : dims.back(); }

  bool operator==(const TensorType &) const = default;
};

/// "f32[B, 64]", "f32[64, 4]", "f32[]".
std::string formatType(const TensorType &type);

} // namespace mtl::ir
