// Npy.h: reading NumPy arrays: .npy files (plain or gzip) and .npz archives.
#pragma once

#include "mtlrt/Result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mtlrt {

/// A NumPy array, every value converted to a 32-bit float.
struct NpyArray {
  std::string name;          ///< the .npz member without ".npy", or the .npy file's path
  std::vector<int64_t> dims; ///< the shape; dims[0] is the number of rows
  std::string dtype;         ///< as the file writes it, such as "<f4"
  std::vector<float> data;   ///< row-major (C order)

  int64_t rows() const { return dims.empty() ? 0 : dims[0]; }
  /// Values per row: the product of dims[1..] (1 for a rank-1 array).
  int64_t rowSize() const;
};

/// Reads a .npy file (format versions 1 to 3), plain or gzip. Accepts
/// little-endian (or byte-order-free) bool, 8- to 64-bit signed and unsigned
/// integers and 32- and 64-bit floats in C order, of rank 1 or more. Fails
/// with a message naming the file on anything else: "x.npy: dtype '>f4' is
/// big-endian; save it little-endian (a.astype('<f4'))", "x.npy: dtype
/// '<c8' is not supported (use float32, float64, integers or bool)", Fortran
/// order, a 0-d array, a header that is not NumPy's, data shorter or longer
/// than the shape.
Result<NpyArray> readNpy(const std::string &path);

/// Reads every array of a .npz archive (what numpy.savez and
/// savez_compressed write: a zip of .npy members, stored or deflated, zip64
/// records included), in the archive's order. Fails naming the archive and
/// member on a file that is not a zip, an unsupported compression method, a
/// CRC mismatch, or a member readNpy would refuse. With `only`, the arrays of
/// those names alone are read (others may be of kinds readNpy refuses: text,
/// a 0-d value); two members of one name read are an error.
Result<std::vector<NpyArray>> readNpz(const std::string &path,
                                      const std::vector<std::string> &only = {});

} // namespace mtlrt
