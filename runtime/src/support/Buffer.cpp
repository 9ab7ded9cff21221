// Buffer.cpp: cache-line aligned arrays.
#include "support/Buffer.h"

#include <cstdint>

namespace mtlrt {

Buffer::Buffer(int64_t n) : count(n) {
  if (n < 0 || size_t(n) > (SIZE_MAX - 128) / 4)
    return; // an overflowed size (see sizeProduct) or more bytes than size_t holds
  // The spare line keeps an empty arena a valid pointer and lets vector
  // kernels read past the end; 64 more bytes align the start. calloc takes
  // large blocks from the system as zero pages that cost nothing until
  // touched, so buffers for a batch larger than the data (batch = 10^7 on
  // 275 rows) do not zero gigabytes that no step reads.
  size_t bytes = (size_t(count) * 4 + 63) / 64 * 64 + 128;
  mem.reset(std::calloc(bytes, 1));
  if (mem)
    start =
        reinterpret_cast<void *>((reinterpret_cast<uintptr_t>(mem.get()) + 63) & ~uintptr_t(63));
}

} // namespace mtlrt
