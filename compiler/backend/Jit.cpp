// Jit.cpp: LLJIT linking object code into libraries, with process-symbol resolution.
#include "backend/Jit.h"
#include "backend/Target.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/TargetParser/Host.h>

namespace mtl::backend {

Jit::Jit(std::unique_ptr<llvm::orc::LLJIT> jit) : jit_(std::move(jit)) {}
Jit::~Jit() = default;

llvm::Expected<std::unique_ptr<Jit>> Jit::create() {
  initializeNativeTarget();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb)
    return jtmb.takeError();
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
  if (!jit)
    return jit.takeError();
  return std::unique_ptr<Jit>(new Jit(std::move(*jit)));
}

llvm::Expected<llvm::orc::JITDylib *> Jit::createLibrary(llvm::orc::JITDylib *linksTo) {
  auto dylib = jit_->createJITDylib("model" + std::to_string(dylibs_++));
  if (!dylib)
    return dylib.takeError();
  auto generator = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      jit_->getDataLayout().getGlobalPrefix());
  if (!generator)
    return generator.takeError();
  dylib->addGenerator(std::move(*generator));
  if (linksTo)
    dylib->addToLinkOrder(*linksTo);
  return &*dylib;
}

llvm::Error Jit::addObject(llvm::orc::JITDylib &library, const std::string &bytes,
                           const std::string &name) {
  return jit_->addObjectFile(library, llvm::MemoryBuffer::getMemBufferCopy(bytes, name));
}

llvm::Expected<void *> Jit::lookup(llvm::orc::JITDylib &library, const std::string &symbol) {
  auto address = jit_->lookup(library, symbol);
  if (!address)
    return address.takeError();
  return address->toPtr<void *>();
}

} // namespace mtl::backend
