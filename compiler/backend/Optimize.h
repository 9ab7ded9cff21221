// Optimize.h: LLVM's optimisation pipeline, tuned by the target machine.
#pragma once

#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

namespace mtl::backend {

/// Sets the module's triple and data layout from `tm` and runs LLVM's default
/// per-module pipeline at `optLevel` (0-3), with loop and SLP vectorisation
/// and the target's cost model, so vector widths match the chosen CPU.
void optimizeModule(llvm::Module &module, llvm::TargetMachine &tm, int optLevel);

} // namespace mtl::backend
