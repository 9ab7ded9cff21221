// Memory.cpp: the machine's physical memory, from sysconf.
#include "support/Memory.h"

#include <unistd.h>

namespace mtlrt {

uint64_t physicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? uint64_t(pages) * uint64_t(size) : 0;
}

} // namespace mtlrt
