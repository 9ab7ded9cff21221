// TargetOptions.h: what decides the generated machine code, without LLVM's headers (the
// front-end driver, which never loads LLVM, carries it in its options).
#pragma once

#include <string>

namespace mtl::backend {

/// Options that decide the generated machine code.
struct TargetOptions {
  std::string cpu = "native"; ///< "native" (the host), "x86-64-v2", "x86-64-v3", "x86-64-v4", ...
  int optLevel = 2;           ///< 0 to 3 (optimizeModule)
};

} // namespace mtl::backend
