// CompileFlags.cpp: the flags shared by the commands that compile a model.
#include "driver/Commands.h"

#include "backend/DiskCache.h"
#include "mtlrt/CliNumbers.h"

namespace mtl::driver {

void addCompileFlags(CLI::App *cmd, CompileFlags &flags) {
  cmd->add_option("--model", flags.model, "Which model of the file (if it has several)")
      ->check(mtlrt::nonEmpty());
  cmd->add_option("--target-cpu", flags.targetCpu,
                  "CPU to generate code for: native, x86-64-v2, x86-64-v3, x86-64-v4, ...")
      ->check(mtlrt::nonEmpty())
      ->capture_default_str();
  cmd->add_option("-O", flags.optLevel,
                  "Optimisation level: 0 none, 1 LLVM's O1 pipeline, 2 mtlc's pipeline, 3 LLVM's "
                  "O3 pipeline (compiles two to four times as long)")
      ->check(mtlrt::wholeNumber(0, 3))
      ->capture_default_str();
  cmd->add_flag("--no-cache", flags.noCache,
                "Compile every function afresh: neither read nor fill the on-disk cache of "
                "compiled functions ($MTLC_CACHE_DIR, else $XDG_CACHE_HOME/mtlc or ~/.cache/mtlc)");
}

PipelineOptions pipelineOptions(const CompileFlags &flags, const GlobalOptions &global) {
  PipelineOptions po;
  po.verbose = global.verbose;
  po.modelName = flags.model;
  po.target.cpu = flags.targetCpu;
  po.target.optLevel = flags.optLevel;
  if (!flags.noCache)
    po.diskCache = backend::DiskCache::defaultRoot();
  return po;
}

} // namespace mtl::driver
