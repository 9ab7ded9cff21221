// Target.h: the machine code is generated for: host or a named x86-64 level.
#pragma once

#include <llvm/Support/Error.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>

namespace mtl::backend {

/// Options that decide the generated machine code.
struct TargetOptions {
  std::string cpu = "native"; ///< "native" (the host), "x86-64-v2", "x86-64-v3", "x86-64-v4", ...
  int optLevel = 2;           ///< 0 to 3 (optimizeModule)
};

/// Whether `tm`'s CPU loads and stores vectors under a mask in hardware
/// (AVX and later: vmaskmovps, AVX-512's masked moves).
bool hasMaskedVectorMoves(const llvm::TargetMachine &tm);

/// Initialises LLVM's native target once per process (idempotent).
void initializeNativeTarget();

/// A TargetMachine for the host triple and the requested CPU; an error names
/// the unknown CPU and the levels that are accepted.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>> createTargetMachine(const TargetOptions &opts);

/// The CPU name that `opts.cpu` resolves to ("native" becomes the host's name).
std::string resolvedCpu(const TargetOptions &opts);

} // namespace mtl::backend
