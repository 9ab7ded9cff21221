// Pipeline.h: the whole pipeline, parse to JIT (the stages and their options are in Front.h).
#pragma once

#include "backend/FunctionCache.h"
#include "backend/Target.h"
#include "driver/Front.h"
#include "driver/Tiered.h"
#include "lower/Lower.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <memory>
#include <string>
#include <vector>

struct mtl_model;

namespace mtl::driver {

/// The state of one compilation: what the front end produced and each later stage's output.
struct Compilation : Checked {
  sema::Model *model = nullptr; ///< the model the later stages compile (overrides applied)
  lower::LoweredStep step;
  std::unique_ptr<llvm::LLVMContext> llvmContext;
  std::unique_ptr<llvm::Module> module;
  std::unique_ptr<llvm::TargetMachine> targetMachine;
  /// The compilation's own function cache (and JIT) when the options gave none.
  std::unique_ptr<backend::FunctionCache> functions;
  const mtl_model *compiled = nullptr;
  /// A tiered compile's second build (PipelineOptions::tiered); last, so
  /// that it is stopped before what it reads goes.
  std::unique_ptr<BackgroundCompile> background;
};

/// Runs the stages up to `last` on the file at `path`. Returns true when no
/// error was reported; diagnostics stay in `c.diags` for the caller to print.
bool runPipeline(const std::string &path, Stage last, Compilation &c,
                 const PipelineOptions &options = {});

/// The descriptor getter's name for `model` (see PipelineOptions::libraryGetter).
std::string getterName(const sema::Model &model, const PipelineOptions &options);

/// A short hex digest of a text (FNV-1a 64), for the descriptor and checkpoints.
std::string hashText(const std::string &text);

} // namespace mtl::driver
