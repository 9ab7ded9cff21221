// Optimize.h: the optimisation pipeline at -O0 to -O3, tuned by the target machine.
#pragma once

#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

namespace mtl::backend {

/// Sets the module's triple and data layout from `tm` and optimises it:
/// nothing at -O0, LLVM's default per-module pipeline at -O1 and -O3, and at
/// -O2 (mtlc's default) mtlc's own function pipeline, the passes its
/// generated code needs. Vectorisation uses the target's cost model, so
/// vector widths match the chosen CPU.
void optimizeModule(llvm::Module &module, llvm::TargetMachine &tm, int optLevel);

} // namespace mtl::backend
