// Jit.cpp: LLJIT linking object code into libraries, with process-symbol resolution.
#include "backend/Jit.h"
#include "backend/JitMemory.h"
#include "backend/Target.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/RTDyldObjectLinkingLayer.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/TargetParser/Host.h>

namespace mtl::backend {

Jit::Jit(std::unique_ptr<llvm::orc::LLJIT> jit, std::shared_ptr<JitMemory> memory)
    : jit_(std::move(jit)), memory_(std::move(memory)) {}
Jit::~Jit() = default;

llvm::Expected<std::unique_ptr<Jit>> Jit::create() {
  initializeNativeTarget();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb)
    return jtmb.takeError();
  auto memory = JitMemory::create();
  if (!memory)
    return memory.takeError();
  // LLJIT's own linking layer for ELF, with the objects' sections packed
  // into one region (JitMemory) instead of pages of their own per object.
  auto jit = llvm::orc::LLJITBuilder()
                 .setJITTargetMachineBuilder(std::move(*jtmb))
                 .setObjectLinkingLayerCreator(
                     [memory = *memory](llvm::orc::ExecutionSession &session, const llvm::Triple &)
                         -> llvm::Expected<std::unique_ptr<llvm::orc::ObjectLayer>> {
                       return std::make_unique<llvm::orc::RTDyldObjectLinkingLayer>(
                           session, [memory] { return JitMemory::sectionsFor(memory); });
                     })
                 .create();
  if (!jit)
    return jit.takeError();
  return std::unique_ptr<Jit>(new Jit(std::move(*jit), std::move(*memory)));
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
  // Everything the lookup linked is in place: protect it before it runs.
  if (auto err = memory_->seal())
    return err;
  return address->toPtr<void *>();
}

} // namespace mtl::backend
