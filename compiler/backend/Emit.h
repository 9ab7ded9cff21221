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

/// Object files for one module after another through one code generation
/// pipeline, built once. Building LLVM's pipeline (about 150 passes) costs
/// about what generating a small function's code costs, and the function
/// cache generates code for each function in a module of its own. Each
/// module gets the bytes emitMachineCode gives it, whatever came before. One
/// thread at a time, and the TargetMachine must outlive the emitter.
class ObjectEmitter {
public:
  explicit ObjectEmitter(llvm::TargetMachine &tm);
  ~ObjectEmitter();
  ObjectEmitter(const ObjectEmitter &) = delete;
  ObjectEmitter &operator=(const ObjectEmitter &) = delete;

  llvm::Expected<std::string> emit(llvm::Module &module);

private:
  struct Pipeline;
  std::unique_ptr<Pipeline> pipeline_;
};

} // namespace mtl::backend
