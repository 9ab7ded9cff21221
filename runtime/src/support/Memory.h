// Memory.h: how much memory the machine has, for limits that fail before it runs out, and huge
// pages for the large arrays the data loaders write.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mtlrt {

/// The machine's physical memory in bytes, or 0 when the system does not say.
uint64_t physicalMemoryBytes();

/// Asks the kernel to back [p, p + bytes) with transparent huge pages where
/// it can, before the memory is first touched. A no-op below 4 MB and where
/// the system declines.
void adviseHugePages(const void *p, size_t bytes);

/// Reserves room for `n` values in `v` (a vector or a string) and advises
/// all of its room with adviseHugePages.
template <typename Container> void reserveHuge(Container &v, size_t n) {
  v.reserve(n);
  adviseHugePages(v.data(), v.capacity() * sizeof(*v.data()));
}

} // namespace mtlrt
