// Emit.cpp: the legacy codegen pass manager, which is what LLVM 16 offers for emission.
//
// The pipeline's passes initialise themselves for each module they run on
// and finish it (the object writer and the machine code context are reset
// when a module ends), which is what lets CodeEmitter run one pipeline on
// many modules; tests/backend/emit_test.cpp checks the bytes against a new
// emitter's.
#include "backend/Emit.h"

#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Support/raw_ostream.h>

namespace mtl::backend {

struct CodeEmitter::Pipeline {
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream out{buffer}; // supports the seeking that object emission needs
  llvm::legacy::PassManager pm;
  bool ready = false;
};

CodeEmitter::CodeEmitter(llvm::TargetMachine &tm, FileKind kind)
    : pipeline_(std::make_unique<Pipeline>()) {
  auto type = kind == FileKind::Assembly ? llvm::CGFT_AssemblyFile : llvm::CGFT_ObjectFile;
  pipeline_->ready = !tm.addPassesToEmitFile(pipeline_->pm, pipeline_->out, nullptr, type);
}

CodeEmitter::~CodeEmitter() = default;

llvm::Expected<std::string> CodeEmitter::emit(llvm::Module &module) {
  if (!pipeline_->ready)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the target cannot emit this kind of file");
  pipeline_->buffer.clear();
  pipeline_->pm.run(module);
  return std::string(pipeline_->buffer.begin(), pipeline_->buffer.end());
}

llvm::Expected<std::string> emitMachineCode(llvm::Module &module, llvm::TargetMachine &tm,
                                            FileKind kind) {
  return CodeEmitter(tm, kind).emit(module);
}

} // namespace mtl::backend
