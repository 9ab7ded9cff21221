// Emit.cpp: the legacy codegen pass manager, which is what LLVM 16 offers for emission.
//
// The pipeline's passes initialise themselves for each module they run on
// and finish it (the object writer and the machine code context are reset
// when a module ends), which is what lets ObjectEmitter run one pipeline on
// many modules; tests/backend/emit_test.cpp checks the bytes against a fresh
// pipeline's.
#include "backend/Emit.h"

#include <llvm/IR/LegacyPassManager.h>
#include <llvm/Support/raw_ostream.h>

namespace mtl::backend {

llvm::Expected<std::string> emitMachineCode(llvm::Module &module, llvm::TargetMachine &tm,
                                            FileKind kind) {
  // raw_svector_ostream supports the seeking that object emission needs.
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream out(buffer);
  llvm::legacy::PassManager pm;
  auto type = kind == FileKind::Assembly ? llvm::CGFT_AssemblyFile : llvm::CGFT_ObjectFile;
  if (tm.addPassesToEmitFile(pm, out, nullptr, type))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the target cannot emit this kind of file");
  pm.run(module);
  return std::string(buffer.begin(), buffer.end());
}

struct ObjectEmitter::Pipeline {
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream out{buffer};
  llvm::legacy::PassManager pm;
  bool ready = false;
};

ObjectEmitter::ObjectEmitter(llvm::TargetMachine &tm) : pipeline_(std::make_unique<Pipeline>()) {
  pipeline_->ready =
      !tm.addPassesToEmitFile(pipeline_->pm, pipeline_->out, nullptr, llvm::CGFT_ObjectFile);
}

ObjectEmitter::~ObjectEmitter() = default;

llvm::Expected<std::string> ObjectEmitter::emit(llvm::Module &module) {
  if (!pipeline_->ready)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the target cannot emit object files");
  pipeline_->buffer.clear();
  pipeline_->pm.run(module);
  return std::string(pipeline_->buffer.begin(), pipeline_->buffer.end());
}

} // namespace mtl::backend
