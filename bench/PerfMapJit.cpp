// PerfMapJit.cpp: LLJIT over RuntimeDyld with a listener that writes perf's map file.
//
// The driver's JIT (backend::Jit) is what users run and what the benchmark
// times; this copy exists only so that `mtl_step_bench --perf-map` under
// `perf record` can say which generated kernel the time goes to. perf looks up
// samples in anonymous executable memory in /tmp/perf-<pid>.map ("start size
// name" per line, hexadecimal), which is simpler than LLVM's jitdump listener
// (that one needs `perf inject --jit`).
#include "PerfMapJit.h"

#include "mtlrt/Abi.h"

#include <llvm/ExecutionEngine/JITEventListener.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/RTDyldObjectLinkingLayer.h>
#include <llvm/ExecutionEngine/SectionMemoryManager.h>
#include <llvm/Object/SymbolSize.h>
#include <llvm/Support/raw_ostream.h>

#include <cstdio>
#include <mutex>
#include <unistd.h>

namespace mtl::bench {
namespace {

class PerfMapListener : public llvm::JITEventListener {
public:
  PerfMapListener() {
    std::string path = "/tmp/perf-" + std::to_string(::getpid()) + ".map";
    file = std::fopen(path.c_str(), "a");
  }
  ~PerfMapListener() override {
    if (file)
      std::fclose(file);
  }

  void notifyObjectLoaded(ObjectKey, const llvm::object::ObjectFile &obj,
                          const llvm::RuntimeDyld::LoadedObjectInfo &info) override {
    if (!file)
      return;
    // The debug copy of the object has its sections at their load addresses.
    llvm::object::OwningBinary<llvm::object::ObjectFile> debug = info.getObjectForDebug(obj);
    const llvm::object::ObjectFile &loaded = debug.getBinary() ? *debug.getBinary() : obj;
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto &[symbol, size] : llvm::object::computeSymbolSizes(loaded)) {
      auto type = symbol.getType();
      auto name = symbol.getName();
      auto address = symbol.getAddress();
      if (!type || !name || !address) {
        llvm::consumeError(type.takeError());
        llvm::consumeError(name.takeError());
        llvm::consumeError(address.takeError());
        continue;
      }
      if (*type != llvm::object::SymbolRef::ST_Function || size == 0)
        continue;
      std::fprintf(file, "%llx %llx %s\n", static_cast<unsigned long long>(*address),
                   static_cast<unsigned long long>(size), name->str().c_str());
    }
    std::fflush(file);
  }

private:
  std::FILE *file = nullptr;
  std::mutex mutex;
};

class PerfMapJitImpl : public PerfMapJit {
public:
  PerfMapListener listener;
  std::unique_ptr<llvm::orc::LLJIT> jit;
};

} // namespace

std::unique_ptr<PerfMapJit>
jitWithPerfMap(driver::Compilation &c, const backend::TargetOptions &target, std::string &error) {
  auto fail = [&](llvm::Error err) {
    error = llvm::toString(std::move(err));
    return nullptr;
  };
  backend::initializeNativeTarget();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb)
    return fail(jtmb.takeError());
  if (target.cpu != "native") {
    jtmb->setCPU(target.cpu);
    jtmb->getFeatures() = llvm::SubtargetFeatures();
  }
  jtmb->setCodeGenOptLevel(target.optLevel >= 3 ? llvm::CodeGenOpt::Aggressive
                                                : llvm::CodeGenOpt::Default);
  auto owner = std::make_unique<PerfMapJitImpl>();
  PerfMapListener *listener = &owner->listener;
  auto jit = llvm::orc::LLJITBuilder()
                 .setJITTargetMachineBuilder(std::move(*jtmb))
                 .setObjectLinkingLayerCreator(
                     [listener](llvm::orc::ExecutionSession &session, const llvm::Triple &)
                         -> llvm::Expected<std::unique_ptr<llvm::orc::ObjectLayer>> {
                       auto layer = std::make_unique<llvm::orc::RTDyldObjectLinkingLayer>(
                           session, [] { return std::make_unique<llvm::SectionMemoryManager>(); });
                       layer->registerJITEventListener(*listener);
                       return layer;
                     })
                 .create();
  if (!jit)
    return fail(jit.takeError());
  owner->jit = std::move(*jit);
  auto generator = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      owner->jit->getDataLayout().getGlobalPrefix());
  if (!generator)
    return fail(generator.takeError());
  owner->jit->getMainJITDylib().addGenerator(std::move(*generator));
  if (auto err = owner->jit->addIRModule(
          llvm::orc::ThreadSafeModule(std::move(c.module), std::move(c.llvmContext))))
    return fail(std::move(err));
  auto address = owner->jit->lookup("mtl_model_get");
  if (!address)
    return fail(address.takeError());
  c.compiled = address->toPtr<const mtl_model *(*)()>()();
  return owner;
}

} // namespace mtl::bench
