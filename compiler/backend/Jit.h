// Jit.h: in-process compilation with ORC LLJIT.
#pragma once

#include <llvm/Support/Error.h>

#include <memory>
#include <string>

namespace llvm::orc {
class JITDylib;
class LLJIT;
} // namespace llvm::orc

namespace mtl::backend {

class JitMemory;

/// An LLJIT instance for the host that links object code compiled for it
/// (FunctionCache compiles every module itself, so the same bytes can go to
/// the disk cache). Symbols of the running process (libm's expf, the
/// runtime's functions) resolve automatically. Objects go into libraries
/// (JITDylibs), so a recompiled model can replace an old one.
class Jit {
public:
  static llvm::Expected<std::unique_ptr<Jit>> create();
  ~Jit();

  /// A new, empty library (JITDylib) that resolves the process's symbols,
  /// then those of `linksTo` when given.
  llvm::Expected<llvm::orc::JITDylib *> createLibrary(llvm::orc::JITDylib *linksTo = nullptr);
  /// Adds an object file (ELF bytes for this host) to `library`; its symbols
  /// are linked when first looked up.
  llvm::Error addObject(llvm::orc::JITDylib &library, const std::string &bytes,
                        const std::string &name);
  /// The address of `symbol` in `library` (linking what it needs).
  llvm::Expected<void *> lookup(llvm::orc::JITDylib &library, const std::string &symbol);

private:
  Jit(std::unique_ptr<llvm::orc::LLJIT> jit, std::shared_ptr<JitMemory> memory);
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::shared_ptr<JitMemory> memory_; ///< where the linker puts every object's sections
  unsigned dylibs_ = 0;
};

} // namespace mtl::backend
