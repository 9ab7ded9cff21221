// Version.h: the runtime library's version string.
#pragma once

namespace mtlrt {

/// The runtime's version, "major.minor.patch". A C++ name: a model library
/// defines no C names but those of its interface (docs/embedding.md).
const char *runtimeVersion();

} // namespace mtlrt
