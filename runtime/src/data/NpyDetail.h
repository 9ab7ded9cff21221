// NpyDetail.h: the parts of the .npy reader that the .npz reader shares (private to the runtime).
#pragma once

#include "mtlrt/Npy.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace mtlrt::detail {

/// The little-endian unsigned value of the `n` bytes at `p`.
inline uint64_t littleEndian(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

/// What a .npy header says.
struct NpyHeader {
  std::string dtype;
  std::vector<int64_t> dims;
  size_t dataOffset = 0; ///< where the values start
  int itemBytes = 0;
};

/// Parses the header at the start of `bytes`; `where` names the file (and
/// member) in messages. Fails on what readNpy refuses.
Result<NpyHeader> parseNpyHeader(const std::string &bytes, const std::string &where);

/// The array that `bytes` (a whole .npy file) holds, named `name`.
Result<NpyArray> npyFromBytes(const std::string &bytes, const std::string &where, std::string name);

} // namespace mtlrt::detail
