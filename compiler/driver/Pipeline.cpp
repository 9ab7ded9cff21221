// Pipeline.cpp: parse → sema → lower → autodiff → codegen → optimise → JIT.
#include "driver/Pipeline.h"
#include "driver/DataSpecs.h"
#include "driver/ModelKey.h"

#include "autodiff/Step.h"
#include "backend/Optimize.h"
#include "codegen/CodeGen.h"
#include "ir/Verifier.h"
#include "passes/Activations.h"
#include "passes/CommonSubexpr.h"
#include "passes/DeadCode.h"
#include "support/Suggest.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

namespace mtl::driver {
namespace {

bool selectModel(Compilation &c, const std::string &path, const PipelineOptions &o) {
  if (c.models.empty()) {
    c.diags.error({}, fmt::format("{} defines no model to compile (a model is `model NAME {{ "
                                  "... }}`)",
                                  path));
    return false;
  }
  if (o.modelName.empty()) {
    if (c.models.size() > 1) {
      c.diags.error(c.models[1].loc, fmt::format("the file defines {} models; choose one with "
                                                 "--model (the first is '{}')",
                                                 c.models.size(), c.models[0].name));
      return false;
    }
    c.model = &c.models[0];
    return true;
  }
  for (sema::Model &m : c.models)
    if (m.name == o.modelName)
      c.model = &m;
  if (!c.model) {
    std::vector<std::string> names;
    for (const sema::Model &m : c.models)
      names.push_back(m.name);
    c.diags.error({},
                  fmt::format("{} has no model named '{}' (its models: {}){}", path, o.modelName,
                              fmt::join(names, ", "), didYouMean(o.modelName, names)));
  }
  return c.model != nullptr;
}

// What the function cache did, for --verbose.
void reportCache(const backend::FunctionCache &cache, const PipelineOptions &o) {
  if (o.verbose)
    fmt::print(stderr, "mtlc: {}\n", cache.summary());
}

// The step's LLVM module in `context`, checked by LLVM's verifier unless a
// function cache will check it (each distinct function once).
llvm::Expected<std::unique_ptr<llvm::Module>> generate(const codegen::CodegenInput &in,
                                                       llvm::LLVMContext &context, bool verify) {
  std::unique_ptr<llvm::Module> module = codegen::generateModule(in, context);
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (verify && llvm::verifyModule(*module, &os))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "invalid LLVM IR: %s",
                                   os.str().c_str());
  return module;
}

// Internal errors of later stages are reported as diagnostics, not crashes.
bool internal(Compilation &c, const std::string &what) {
  c.diags.error(c.model ? c.model->loc : SourceLoc{}, "internal compiler error: " + what);
  return false;
}

} // namespace

std::string hashText(const std::string &text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : text)
    h = (h ^ ch) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

std::string getterName(const sema::Model &model, const PipelineOptions &options) {
  return options.libraryGetter ? model.name + "_model" : "mtl_model_get";
}

bool runPipeline(const std::string &path, Stage last, Compilation &c, const PipelineOptions &o) {
  if (!runFront(path, last == Stage::Parse ? Stage::Parse : Stage::Check, c, o))
    return false;
  if (last == Stage::Parse || last == Stage::Check)
    return true;
  if (!selectModel(c, path, o))
    return false;
  if (o.adjust)
    o.adjust(*c.model);
  if (o.balance) {
    sema::BalanceKind &kind = c.model->balance.kind;
    if (mtlrt::balanceAddsParameters(*o.balance))
      kind = sema::BalanceKind::Uncertainty;
    else if (kind == sema::BalanceKind::Uncertainty)
      kind = sema::BalanceKind::Static; // the run's method works on the plain losses
  }
  {
    StageTimer t(o, "lower");
    c.step = lower::lowerModel(*c.model);
    for (const Diagnostic &d : c.step.errors)
      c.diags.error(d.loc, d.message);
    if (!c.step.ok())
      return false;
  }
  if (last == Stage::Lower)
    return true;
  {
    StageTimer t(o, "autodiff");
    std::vector<Diagnostic> errors = autodiff::differentiateStep(
        c.step.graph, c.step.signature, o.taskGradients || c.model->balance.combinesGradients());
    for (Diagnostic &d : errors)
      c.diags.error(d.loc, "internal compiler error: " + d.message);
    if (!errors.empty())
      return false;
    std::vector<Diagnostic> problems = ir::verify(c.step.graph);
    if (!problems.empty())
      return internal(c, "invalid IR after autodiff: " + problems[0].message);
  }
  if (last == Stage::Grad)
    return true;
  {
    StageTimer t(o, "passes");
    passes::eliminateCommonSubexpressions(c.step.graph, c.step.signature);
    passes::eliminateDeadCode(c.step.graph, c.step.signature);
    passes::fuseActivations(c.step.graph, c.step.signature);
    std::vector<Diagnostic> problems = ir::verify(c.step.graph);
    if (!problems.empty())
      return internal(c, "invalid IR after the IR passes: " + problems[0].message);
  }
  if (last == Stage::Passes)
    return true;
  // The JIT goes through a function cache (the session's, or the
  // compilation's own), which first looks for the model's index on disk: an
  // unchanged model needs no code generated.
  backend::FunctionCache *cache = o.cache;
  std::string key;
  std::unique_ptr<backend::FunctionCache> later; ///< a tiered compile's second build
  if (last == Stage::Jit) {
    if (!cache) {
      StageTimer t(o, "setup"); // the JIT and its target machine
      auto own = backend::FunctionCache::create(o.target, o.diskCache);
      if (!own) {
        c.diags.error({}, llvm::toString(own.takeError()));
        return false;
      }
      c.functions = std::move(*own);
      cache = c.functions.get();
      if (o.cacheCreated)
        o.cacheCreated(*cache);
    }
    std::optional<void *> indexed;
    {
      StageTimer t(o, "index"); // the model's key, and its index looked up
      key = modelKey(c, o);
      if (!key.empty()) {
        auto address = cache->linkIndexed(key, getterName(*c.model, o));
        if (!address) {
          c.diags.error({}, llvm::toString(address.takeError()));
          return false;
        }
        indexed = *address;
      }
    }
    if (indexed) {
      c.compiled = reinterpret_cast<const mtl_model *(*)()>(*indexed)();
      reportCache(*cache, o);
      return true;
    }
    if (o.tiered && !o.cache && o.target.optLevel > 0) {
      // -O0 first, in a cache of its own that keeps nothing on disk; the
      // requested level's cache compiles in the background once it runs.
      StageTimer t(o, "tiering");
      backend::TargetOptions quick = o.target;
      quick.optLevel = 0;
      auto first = backend::FunctionCache::create(quick);
      if (!first) {
        c.diags.error({}, llvm::toString(first.takeError()));
        return false;
      }
      later = std::move(c.functions);
      c.functions = std::move(*first);
      cache = c.functions.get();
      if (o.cacheCreated)
        o.cacheCreated(*cache);
    }
  }
  std::optional<codegen::CodegenInput> input;
  {
    StageTimer t(o, "codegen");
    c.llvmContext = std::make_unique<llvm::LLVMContext>();
    auto tm = backend::createTargetMachine(o.target);
    if (!tm) {
      c.diags.error({}, llvm::toString(tm.takeError()));
      return false;
    }
    c.targetMachine = std::move(*tm);
    input.emplace(codegen::CodegenInput{c.step.model, c.step.graph, c.step.signature,
                                        hashText(c.sourceText), backend::targetLabel(o.target),
                                        getterName(*c.model, o),
                                        mtlrt::runConfigJson(runConfig(*c.model)),
                                        o.vectors.value_or(backend::vectorUnit(*c.targetMachine))});
    // The cache verifies what it is given; a module that stops here is verified now.
    auto module = generate(*input, *c.llvmContext, /*verify=*/!cache || last == Stage::Llvm);
    if (!module)
      return internal(c, llvm::toString(module.takeError()));
    c.module = std::move(*module);
  }
  if (last == Stage::Llvm)
    return true;
  if (last == Stage::Optimize && !cache) {
    // A whole module for `emit` and `build`, which write it out as one file.
    StageTimer t(o, "optimize");
    backend::optimizeModule(*c.module, *c.targetMachine, o.target.optLevel);
    return true;
  }
  {
    StageTimer t(o, "optimize");
    // Per function, and only the functions the cache has not compiled yet.
    if (auto err = cache->optimize(*c.module, getterName(*c.model, o)))
      return internal(c, llvm::toString(std::move(err)));
  }
  if (last == Stage::Optimize)
    return true;
  {
    StageTimer t(o, "jit");
    auto address = cache->link(*c.module, getterName(*c.model, o), key);
    if (!address) {
      c.diags.error({}, llvm::toString(address.takeError()));
      return false;
    }
    c.compiled = reinterpret_cast<const mtl_model *(*)()>(*address)();
  }
  reportCache(*cache, o);
  if (later) {
    if (o.verbose)
      fmt::print(stderr, "mtlc: training starts with -O0 code; -O{} compiles in the background\n",
                 o.target.optLevel);
    c.background = std::make_unique<BackgroundCompile>(
        *c.compiled, std::move(later), o.target.optLevel,
        [in = *input, entry = getterName(*c.model, o), key](
            backend::FunctionCache &cache, StageTimes &times) -> llvm::Expected<const mtl_model *> {
          PipelineOptions timed;
          timed.timings = &times;
          llvm::LLVMContext context;
          std::unique_ptr<llvm::Module> module;
          {
            StageTimer t(timed, "codegen");
            auto made = generate(in, context, /*verify=*/false);
            if (!made)
              return made.takeError();
            module = std::move(*made);
          }
          {
            StageTimer t(timed, "optimize");
            if (auto err = cache.optimize(*module, entry))
              return err;
          }
          StageTimer t(timed, "jit");
          auto address = cache.link(*module, entry, key);
          if (!address)
            return address.takeError();
          return reinterpret_cast<const mtl_model *(*)()>(*address)();
        });
  }
  return true;
}

} // namespace mtl::driver
