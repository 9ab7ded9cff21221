// Target.h: the machine code is generated for: host or a named x86-64 level.
#pragma once

#include "backend/TargetOptions.h"

#include <llvm/Support/Error.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>

namespace mtl::backend {

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

/// What the code is generated for, as programs, libraries and run folders
/// record it: a named CPU or level as given; for "native", the host's name
/// and the x86-64 level its features reach ("native (generic, x86-64-v4)").
std::string targetLabel(const TargetOptions &opts);

} // namespace mtl::backend
