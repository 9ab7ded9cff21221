// Buffer.h: cache-line aligned arrays for the arenas and batches that generated code reads.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace mtlrt {

/// 64-byte aligned, zeroed memory for `count` 4-byte values (floats or int32
/// ids): generated kernels use aligned vector loads on the arenas.
class Buffer {
public:
  Buffer() = default;
  /// Allocates; check ok(), as a large arena may not fit in memory. A
  /// negative count (an overflowed size) allocates nothing and is not ok().
  explicit Buffer(int64_t count);
  bool ok() const { return mem != nullptr; }
  float *floats() const { return static_cast<float *>(start); }
  int32_t *ints() const { return static_cast<int32_t *>(start); }
  int64_t size() const { return count; }

private:
  struct Free {
    void operator()(void *p) const { std::free(p); }
  };
  std::unique_ptr<void, Free> mem;
  void *start = nullptr; ///< mem's first 64-byte aligned address
  int64_t count = 0;
};

} // namespace mtlrt
