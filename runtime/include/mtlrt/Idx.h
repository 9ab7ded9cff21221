// Idx.h: reading IDX files (the MNIST / Fashion-MNIST format), plain or gzip.
#pragma once

#include "mtlrt/Result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mtlrt {

/// An IDX array of unsigned bytes: dims[0] is usually the number of items.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data; ///< row-major, product(dims) bytes

  /// Number of items (dims[0]).
  int64_t items() const { return dims.empty() ? 0 : dims[0]; }
  /// Bytes per item: the product of dims[1..] (1 for a rank-1 array).
  int64_t itemSize() const;
};

/// Reads an IDX file of element type 0x08 (unsigned byte) and any rank >= 1.
/// Fails with a message naming the file on: a wrong magic number, another
/// element type, rank 0, a dimension of 0 after the first (a first dimension
/// of 0 is an empty array), sizes whose product overflows, data shorter than the
/// header promises ("f.gz: truncated: expected 7840000 data bytes, found
/// 1234"), bytes left after the data, and corrupt or truncated gzip streams.
Result<IdxArray> readIdx(const std::string &path);

} // namespace mtlrt
