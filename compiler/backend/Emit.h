// Emit.h: machine code out of a module: assembly text or an object file.
#pragma once

#include "backend/Target.h"

#include <llvm/IR/Module.h>

#include <string>

namespace mtl::backend {

enum class FileKind { Assembly, Object };

/// Generates assembly or an object file for an optimised module; the bytes
/// are returned (and written by the caller), or an error.
llvm::Expected<std::string> emitMachineCode(llvm::Module &module, llvm::TargetMachine &tm,
                                            FileKind kind);

} // namespace mtl::backend
