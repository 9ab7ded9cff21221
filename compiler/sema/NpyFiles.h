// NpyFiles.h: peeking into NumPy files at check time: .npy headers and .npz member names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mtl::sema {

/// What a .npy header says.
struct NpyShape {
  std::string dtype;         ///< "<f4"
  std::vector<int64_t> dims; ///< dims[0]: rows
};

/// Reads the header of a .npy file (plain or gzip). Nothing, with `error`
/// set ("is not a NumPy .npy array", "has dtype '<c8', which is not
/// supported (use float32, float64, integers or bool)", ...), when it cannot
/// be read or holds an array a data set cannot use: another dtype, big-endian
/// values, Fortran order, a 0-d array.
std::optional<NpyShape> readNpyShape(const std::string &path, std::string &error);

/// The array names of a .npz archive (its members without ".npy"), from the
/// zip's central directory; nothing and `error` set if it is not a zip.
std::optional<std::vector<std::string>> readNpzNames(const std::string &path, std::string &error);

} // namespace mtl::sema
