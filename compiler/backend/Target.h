// Target.h: the machine code is generated for: host or a named x86-64 level.
#pragma once

#include "backend/TargetOptions.h"
#include "codegen/VectorUnit.h"

#include <llvm/Support/Error.h>
#include <llvm/Target/TargetMachine.h>

#include <memory>
#include <string>

namespace mtl::backend {

/// `tm`'s vector registers: 32 of 16 floats with AVX-512, 16 of 8 with AVX,
/// else 16 of 4 (SSE); masked loads and stores in hardware with AVX and
/// later (vmaskmovps, AVX-512's masked moves).
codegen::VectorUnit vectorUnit(const llvm::TargetMachine &tm);

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
