// Memory.h: how much memory the machine has, for limits that fail before it runs out.
#pragma once

#include <cstdint>

namespace mtlrt {

/// The machine's physical memory in bytes, or 0 when the system does not say.
uint64_t physicalMemoryBytes();

} // namespace mtlrt
