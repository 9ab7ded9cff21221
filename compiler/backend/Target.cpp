// Target.cpp: host detection and TargetMachine creation.
#include "backend/Target.h"

#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <fmt/format.h>
#include <mutex>
#include <vector>

namespace mtl::backend {

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

std::string resolvedCpu(const TargetOptions &opts) {
  return opts.cpu == "native" ? std::string(llvm::sys::getHostCPUName()) : opts.cpu;
}

std::string targetLabel(const TargetOptions &opts) {
  if (opts.cpu != "native")
    return opts.cpu;
  // The x86-64 level whose features the host has: what a machine needs to
  // run the code, where the host's name alone may say "generic" (a CPU newer
  // than LLVM, whose features are still used).
  static const std::vector<std::pair<const char *, std::vector<const char *>>> levels = {
      {"x86-64-v2", {"cx16", "sahf", "popcnt", "sse3", "sse4.1", "sse4.2", "ssse3"}},
      {"x86-64-v3", {"avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe", "xsave"}},
      {"x86-64-v4", {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}}};
  llvm::StringMap<bool> features;
  std::string level;
  if (llvm::sys::getHostCPUFeatures(features))
    for (const auto &[name, needs] : levels) {
      if (!std::all_of(needs.begin(), needs.end(),
                       [&](const char *f) { return features.lookup(f); }))
        break;
      level = name;
    }
  return fmt::format("native ({}{})", resolvedCpu(opts), level.empty() ? "" : ", " + level);
}

namespace {
// Host features matter only for "native": a named level brings its own set.
std::string featureString(const TargetOptions &opts) {
  if (opts.cpu != "native")
    return "";
  llvm::StringMap<bool> features;
  std::string out;
  if (!llvm::sys::getHostCPUFeatures(features))
    return out;
  for (auto &f : features) {
    if (!out.empty())
      out += ',';
    out += f.second ? '+' : '-';
    out += f.first().str();
  }
  return out;
}

llvm::CodeGenOpt::Level codegenLevel(int level) {
  switch (level) {
  case 0:
    return llvm::CodeGenOpt::None;
  case 1:
    return llvm::CodeGenOpt::Less;
  case 2:
    return llvm::CodeGenOpt::Default;
  default:
    return llvm::CodeGenOpt::Aggressive;
  }
}
} // namespace

codegen::VectorUnit vectorUnit(const llvm::TargetMachine &tm) {
  const llvm::MCSubtargetInfo &cpu = *tm.getMCSubtargetInfo();
  const bool fma = cpu.checkFeatures("+fma");
  if (cpu.checkFeatures("+avx512f"))
    return {16, 32, true, fma};
  if (cpu.checkFeatures("+avx"))
    return {8, 16, true, fma};
  return {4, 16, false, fma};
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const TargetOptions &opts) {
  initializeNativeTarget();
  std::string triple = llvm::sys::getProcessTriple();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "no target for %s: %s",
                                   triple.c_str(), error.c_str());
  std::string cpu = resolvedCpu(opts);
  // Look the name up in the target's processor table: creating a subtarget
  // for an unknown CPU would make LLVM print warnings of its own.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(target->createMCSubtargetInfo(triple, "", ""));
  if (!generic || !generic->isCPUStringValid(cpu))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "unknown target CPU '%s'; use native, x86-64, x86-64-v2, x86-64-v3, x86-64-v4 or an "
        "LLVM CPU name such as skylake",
        cpu.c_str());
  // A 32-bit CPU (i386, pentium4, athlon) is a valid name that cannot run
  // the 64-bit code mtlc makes: LLVM would abort the process on it.
  std::unique_ptr<llvm::MCSubtargetInfo> named(target->createMCSubtargetInfo(triple, cpu, ""));
  if (!named || !named->checkFeatures("+64bit"))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "target CPU '%s' cannot run 64-bit code; use native, x86-64, x86-64-v2, x86-64-v3, "
        "x86-64-v4 or a 64-bit CPU name such as skylake",
        cpu.c_str());
  llvm::TargetOptions to;
  // Assembly (`mtlc emit asm`) says what llc's does: each block's loop depth,
  // and which stores and loads are register spills and reloads
  // (tests/e2e/register_tiles.sh reads those). Object code is the same.
  to.MCOptions.AsmVerbose = true;
  std::unique_ptr<llvm::TargetMachine> tm(
      target->createTargetMachine(triple, cpu, featureString(opts), to, llvm::Reloc::PIC_,
                                  std::nullopt, codegenLevel(opts.optLevel)));
  if (!tm)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot create a target machine for %s", triple.c_str());
  return tm;
}

} // namespace mtl::backend
