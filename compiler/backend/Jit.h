// Jit.h: in-process compilation with ORC LLJIT.
#pragma once

#include "backend/Target.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>

#include <memory>
#include <string>

namespace mtl::backend {

/// An LLJIT instance for the host. Symbols of the running process (libm's
/// expf, the runtime's functions) resolve automatically. Each added module
/// lives in its own JITDylib so a recompiled model can replace an old one.
class Jit {
public:
  static llvm::Expected<std::unique_ptr<Jit>> create(const TargetOptions &opts);

  /// A new, empty library (JITDylib) that resolves the process's symbols,
  /// then those of `linksTo` when given.
  llvm::Expected<llvm::orc::JITDylib *> createLibrary(llvm::orc::JITDylib *linksTo = nullptr);
  /// Adds an object file (ELF bytes for this host) to `library`; its symbols
  /// are linked when first looked up.
  llvm::Error addObject(llvm::orc::JITDylib &library, const std::string &bytes,
                        const std::string &name);
  /// Compiles an already optimised module into `library`; returns the address of `symbol`.
  llvm::Expected<void *> addAndLookup(llvm::orc::JITDylib &library,
                                      llvm::orc::ThreadSafeModule module,
                                      const std::string &symbol);

private:
  explicit Jit(std::unique_ptr<llvm::orc::LLJIT> jit) : jit_(std::move(jit)) {}
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  unsigned dylibs_ = 0;
};

} // namespace mtl::backend
