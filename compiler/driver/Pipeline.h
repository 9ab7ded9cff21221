// Pipeline.h: the one place that lists the compiler's stages in order.
#pragma once

#include "backend/FunctionCache.h"
#include "backend/Target.h"
#include "frontend/Ast.h"
#include "lower/Lower.h"
#include "sema/Model.h"
#include "support/Diagnostics.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct mtl_model;

namespace mtl::driver {

/// The stages, in pipeline order; running up to one runs all before it.
enum class Stage {
  Parse,    ///< text → AST (with imports)
  Check,    ///< AST → sema::Model
  Lower,    ///< model → IR of the forward step and losses
  Grad,     ///< + reverse-mode gradients
  Passes,   ///< IR passes: common subexpressions, dead code, element-wise fusion
  Llvm,     ///< IR → LLVM module (not yet optimised)
  Optimize, ///< LLVM's O2/O3 pipeline for the target
  Jit,      ///< machine code in this process
};

/// Options that change what the later stages produce.
struct PipelineOptions {
  backend::TargetOptions target;
  std::string modelName; ///< which model of the file; empty: the only one
  /// Name the descriptor getter NAME_model (libraries, so that several models
  /// link into one program) instead of mtl_model_get (the JIT and programs).
  bool libraryGetter = false;
  bool verbose = false; ///< print each stage's time to stderr
  /// Generate task_grad_step (each task's gradient on the shared parameters)
  /// even when the model's balancing method does not need it: for a run
  /// with another method (--balance) or gradient statistics.
  bool taskGradients = false;
  /// The run's balancing method when it overrides the model's (--balance,
  /// :set balance): lowering adds uncertainty's log-variances to the loss when
  /// it names `uncertainty`, and leaves a model's own out when it names another.
  std::optional<std::string> balance;
  /// Changes applied to the checked model before lowering (tests use it to swap the
  /// optimizer; run settings need none, as they are run-time values).
  std::function<void(sema::Model &)> adjust;
  /// When set, the main file's text (the REPL's in-memory model) instead of
  /// reading `path`; `path` still names it and resolves its imports.
  std::optional<std::string> text;
  /// When set, each stage that ran appends its name and time in milliseconds.
  std::vector<std::pair<std::string, double>> *timings = nullptr;
  /// When set (the REPL), the optimise and JIT stages go function by function
  /// through this session cache, which then owns the machine code, and
  /// compile only functions it has not compiled before. Its target must match
  /// `target`.
  backend::FunctionCache *cache = nullptr;
  /// The root of the on-disk cache of compiled functions and model indexes that the JIT stage
  /// reads and fills (see backend::DiskCache); empty: none. Used when `cache`
  /// is not set; the REPL gives its session cache one itself.
  std::string diskCache;
};

/// The state of one compilation: sources, diagnostics and each stage's output.
struct Compilation {
  SourceManager sources;
  DiagnosticEngine diags{sources};
  std::vector<ast::File> files; ///< the main file first, then its imports
  std::vector<sema::Model> models;
  sema::Model *model = nullptr; ///< the model the later stages compile (overrides applied)
  lower::LoweredStep step;
  std::vector<bool> fused; ///< element-wise ops fused into their consumers (Stage::Passes)
  std::unique_ptr<llvm::LLVMContext> llvmContext;
  std::unique_ptr<llvm::Module> module;
  std::unique_ptr<llvm::TargetMachine> targetMachine;
  /// The compilation's own function cache (and JIT) when the options gave none.
  std::unique_ptr<backend::FunctionCache> functions;
  const mtl_model *compiled = nullptr;
  std::string sourceText; ///< the main file's text (hashed into the descriptor)
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
