// Memory.cpp: the machine's physical memory, from sysconf; huge pages, from madvise.
#include "support/Memory.h"

#include <sys/mman.h>
#include <unistd.h>

namespace mtlrt {

uint64_t physicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? uint64_t(pages) * uint64_t(size) : 0;
}

void adviseHugePages(const void *p, size_t bytes) {
  constexpr uintptr_t huge = uintptr_t(2) << 20;
  if (bytes < 2 * huge)
    return;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + huge - 1) & ~(huge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(huge - 1);
  if (begin < end)
    madvise(reinterpret_cast<void *>(begin), end - begin, MADV_HUGEPAGE);
}

} // namespace mtlrt
