// Emit.cpp: the legacy codegen pass manager, which is what LLVM 16 offers for emission.
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

} // namespace mtl::backend
