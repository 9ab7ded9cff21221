// Memory.h: how much memory the machine has, for limits that fail before it runs out, and huge
// pages for the large arrays the data loaders write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mtlrt {

/// The machine's physical memory in bytes, or 0 when the system does not say.
uint64_t physicalMemoryBytes();

/// Asks the kernel to back [p, p + bytes) with transparent huge pages where
/// it can, before the memory is first touched. A no-op below 4 MB and where
/// the system declines.
void adviseHugePages(const void *p, size_t bytes);

/// Reserves room for `n` values in `v` (empty) with adviseHugePages.
template <typename T> void reserveHuge(std::vector<T> &v, size_t n) {
  v.reserve(n);
  adviseHugePages(v.data(), n * sizeof(T));
}

} // namespace mtlrt
