// Front.h: the stages, the pipeline's options, and the front end's part of the pipeline
// (parse and check), which needs no LLVM: `mtlc check`, `fmt` and `shapes` run in a program
// that does not load it (driver/main.cpp).
#pragma once

#include "backend/TargetOptions.h"
#include "codegen/VectorUnit.h"
#include "frontend/Ast.h"
#include "sema/Model.h"
#include "support/Diagnostics.h"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mtl::backend {
class FunctionCache;
} // namespace mtl::backend

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

/// Stage names and their times in milliseconds.
using StageTimes = std::vector<std::pair<std::string, double>>;

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
  /// The run's epochs when they override the model's (--epochs): sema checks
  /// the settings counted in epochs against them.
  std::optional<int64_t> epochs;
  /// Changes applied to the checked model before lowering (tests use it to swap the
  /// optimizer; run settings need none, as they are run-time values).
  std::function<void(sema::Model &)> adjust;
  /// When set, the vector registers to shape the products' tiles for instead
  /// of the target's (tests use it to run other targets' tile shapes on this
  /// host, LLVM splitting or joining their vectors, and compare results).
  std::optional<codegen::VectorUnit> vectors;
  /// When set, the main file's text (the REPL's in-memory model) instead of
  /// reading `path`; `path` still names it and resolves its imports.
  std::optional<std::string> text;
  /// When set, each stage that ran appends its name and time in milliseconds.
  StageTimes *timings = nullptr;
  /// When set (the REPL), the optimise and JIT stages go function by function
  /// through this session cache, which then owns the machine code, and
  /// compile only functions it has not compiled before. Its target must match
  /// `target`.
  backend::FunctionCache *cache = nullptr;
  /// When set, called with each function cache the JIT stage creates (without
  /// `cache`: its own, and a tiered compile's -O0 one) once it exists, so that
  /// another thread may cancel the compile (`mtlc train`, whose data loads beside it).
  std::function<void(backend::FunctionCache &)> cacheCreated;
  /// The root of the on-disk cache of compiled functions and model indexes that the JIT stage
  /// reads and fills (see backend::DiskCache); empty: none. Used when `cache`
  /// is not set; the REPL gives its session cache one itself.
  std::string diskCache;
  /// Stage::Jit with `optLevel` above 0, no `cache` and the model's index not
  /// on disk: compile at -O0 for the caller to start with, and at the
  /// requested level in the background (Compilation::background).
  bool tiered = false;
};

/// What parsing and checking produce: sources, diagnostics, the files and their models.
struct Checked {
  SourceManager sources;
  DiagnosticEngine diags{sources};
  std::vector<ast::File> files; ///< the main file first, then its imports
  std::vector<sema::Model> models;
  /// The main file's text, then each import's after a separator (hashed
  /// into the descriptor: the model's source hash).
  std::string sourceText;
};

/// The files `c` read: the main file and its imports, as they were named.
std::vector<std::string> sourceFiles(const Checked &c);

/// Runs the stages up to `last` (Stage::Parse or Stage::Check) on the file at
/// `path`. Returns true when no error was reported; diagnostics stay in
/// `c.diags` for the caller to print.
bool runFront(const std::string &path, Stage last, Checked &c, const PipelineOptions &options = {});

/// Times one stage for --verbose (and PipelineOptions::timings).
class StageTimer {
public:
  StageTimer(const PipelineOptions &o, const char *name);
  ~StageTimer();
  StageTimer(const StageTimer &) = delete;
  StageTimer &operator=(const StageTimer &) = delete;

private:
  bool verbose_;
  StageTimes *timings_;
  const char *name_;
  std::chrono::steady_clock::time_point start_;
};

} // namespace mtl::driver
