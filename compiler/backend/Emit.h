// Emit.h: machine code out of a module: assembly text or an object file.
#pragma once

#include "backend/Target.h"

#include <llvm/IR/Module.h>

#include <memory>
#include <string>

namespace mtl::backend {

enum class FileKind { Assembly, Object };

/// Assembly or object files for one optimised module after another through
/// one code generation pipeline, built once. Building LLVM's pipeline (about
/// 200 passes and analyses) costs about what generating a small function's
/// code costs, and the function cache generates code for each function in a
/// module of its own. Each module gets the bytes a new emitter would give it,
/// whatever came before. One thread at a time; the TargetMachine must
/// outlive the emitter.
class CodeEmitter {
public:
  CodeEmitter(llvm::TargetMachine &tm, FileKind kind);
  ~CodeEmitter();
  CodeEmitter(const CodeEmitter &) = delete;
  CodeEmitter &operator=(const CodeEmitter &) = delete;

  /// The file's bytes, or an error.
  llvm::Expected<std::string> emit(llvm::Module &module);

private:
  struct Pipeline;
  std::unique_ptr<Pipeline> pipeline_;
};

/// One module's assembly or object file (a CodeEmitter used once).
llvm::Expected<std::string> emitMachineCode(llvm::Module &module, llvm::TargetMachine &tm,
                                            FileKind kind);

} // namespace mtl::backend
