// SemaContext.h: state shared by the sema passes, for one run and for the model being checked.
//
// Sema is split by concern (ConstEval, Args, Layers, Blocks, Names, Values,
// Tasks, Data, Settings, Train); they talk through this context. It owns the
// diagnostics policy: errors are deduplicated by place and text (a block used
// ten times with a typo in it gives one error), and errors raised while a
// block or shared module is being expanded get "in expansion of" notes.
#pragma once

#include "frontend/Ast.h"
#include "sema/Model.h"
#include "support/Diagnostics.h"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace mtl::sema {

/// What flows along a chain: the per-row shape and element type of a value.
/// `known == false` means the shape could not be worked out (an earlier
/// error, or a block checked on its own); checks that need it are skipped, so
/// that one mistake yields one error.
struct Flow {
  bool known = false;
  DType dtype = DType::F32;
  Shape shape;
  static Flow of(DType type, Shape shape) { return {true, type, std::move(shape)}; }
};

/// A value of the model being built: its id in Model::values (-1 when none
/// could be made) and what flows out of it.
struct Val {
  int value = -1;
  Flow flow;
  bool ok() const { return value >= 0 && flow.known; }
};

struct Env;

/// A ple's streams before its last level (Ple.cpp): each reading task's
/// (by task index; unknown for the others) and the shared one.
struct PleStreams {
  std::vector<Val> tasks;
  Val shared;
};

/// A layer parameter's argument: the layers (a layer, a block call or a
/// chain of them) written for it, and the parameters they were written
/// with (null at model level). No chain while the block is checked on its own.
struct LayerArg {
  std::string name;
  const ast::Expr *chain = nullptr;
  const Env *env = nullptr;
  std::shared_ptr<const Env> own; ///< a default's: the block's parameters before it
  /// The expansions in progress where the layers were written (the
  /// caller's; a default's includes its block): they expand as there.
  size_t depth = 0;
};

/// The parameters of a block being expanded or checked: numbers, and layer
/// parameters (used as a step of the body's chains). A number of nullopt
/// means "not known": the block is checked on its own, or the argument had
/// an error.
struct Env {
  std::string block;
  bool topLevel = false; ///< a top-level block sees top-level blocks only
  std::vector<std::pair<std::string, std::optional<double>>> vars;
  std::vector<LayerArg> layers;
  /// The entry for `name`, or null if it is not a numeric parameter.
  const std::optional<double> *find(const std::string &name) const;
  /// The layer parameter `name`, or null.
  const LayerArg *findLayer(const std::string &name) const;
};

/// A block definition and what sema has learned about it.
struct BlockInfo {
  const ast::BlockDecl *decl = nullptr;
  bool topLevel = false;
  bool bad = false; ///< invalid or recursive: uses yield an unknown shape quietly
  /// Per parameter: it is a layer parameter (its name is a step of a chain
  /// in the body), not a number.
  std::vector<bool> layerParam;
  /// Its body combines values (it reads its input `in`, or calls such a
  /// block): it is expanded where a chain is built, not into layers.
  bool combines = false;
};

/// A name of the model's namespace (inputs, blocks, shared blocks, tasks).
struct Symbol {
  enum Kind { Input, Block, Shared, Task } kind = Input;
  int index = -1; ///< into Context::inputFlows, localBlocks, shared or tasks
  SourceLoc loc;
};

/// Applying one part of a module-form shared block: one of its own modules,
/// or another shared module it uses.
struct Op {
  int module = -1;
  int shared = -1;
  SourceLoc useLoc;
  Flow out; ///< own module: what flows out of it
};

/// One instance of a shared block: the hard one (task -1) or a task's soft copy.
struct SharedInstance {
  Val out;             ///< value form: the block's value
  Flow in;             ///< module form: the input shape it was built for
  Flow outFlow;        ///< module form: its output shape
  std::vector<Op> ops; ///< module form: how to apply it to another value
  SourceLoc firstUse;
};

/// A `shared` declaration and its instances.
struct SharedInfo {
  const ast::SharedDecl *decl = nullptr;
  enum Form { Unknown, ValueForm, ModuleForm } form = Unknown;
  bool bad = false; ///< unusable (cycle, bad start): uses yield unknown quietly
  bool soft = false;
  double lambda = 0;
  bool inScope = true;                     ///< false for a duplicate name (checked, never used)
  bool used = false;                       ///< reached from a task head
  bool visiting = false;                   ///< being elaborated (guards against cycles)
  std::set<int> consumers;                 ///< tasks that use it
  int group = -1;                          ///< soft: index into Model::softGroups
  std::vector<int> modules;                ///< modules it owns, for `regularize ... on`
  std::map<int, SharedInstance> instances; ///< by task (-1: the hard instance)
  /// It makes layers per task (each_task, ple: its value is perReader), itself or through a shared
  /// value it reads: one hard instance per reading task, sharing `byName`.
  bool perTask = false;
  std::map<std::string, int> byName; ///< perTask: its modules by their layers' names
};

/// A task declaration and what sema learned about it.
struct TaskInfo {
  const ast::TaskDecl *decl = nullptr;
  bool kindOk = false;
  bool lossOk = true;       ///< no error in its loss
  bool metricsOk = true;    ///< no error in its metrics
  std::vector<int> modules; ///< the task's own modules
};

/// A data set declaration and what its bindings cover (index = Model::data).
struct DataInfo {
  const ast::DataDecl *decl = nullptr;
  bool synthetic = false;      ///< binds every input and task implicitly
  bool unresolved = false;     ///< a binding named no input or task (already reported)
  bool badSource = false;      ///< its source is unknown (reported): bindings go unchecked
  std::set<int> inputs, tasks; ///< bound targets
};

/// A block or shared module being expanded, for notes on errors inside it.
struct Expansion {
  std::string block; ///< block name ("" for shared modules)
  std::string note;
  SourceLoc loc;
};

/// Sema's working state: one per run; the model part is reset per model.
class Context {
public:
  Context(const SourceManager &sources, DiagnosticEngine &diags) : sources(sources), diags(diags) {}

  /// The run's epochs when a command overrides the model's (--epochs): the
  /// settings counted in epochs (warmup, unfreeze_after) must fit these.
  std::optional<int64_t> runEpochs;

  /// Reports an error, unless the same text was already reported at the same
  /// place; adds "in expansion of" notes for the expansions in progress.
  Diagnostic &error(SourceLoc loc, std::string message);
  /// Like error() for warnings.
  Diagnostic &warning(SourceLoc loc, std::string message);

  /// Forgets the previous model's state and starts `model`.
  void beginModel(Model &model);

  /// The block `name` visible from a top-level block (`topLevel`) or from the
  /// model, or null.
  const BlockInfo *findBlock(const std::string &name, bool topLevel) const;
  /// Names of the blocks visible from a top-level block or from the model.
  std::vector<std::string> blockNames(bool topLevel) const;
  /// The model-level symbol `name`, or null.
  const Symbol *findSymbol(const std::string &name) const;
  /// Names of the model's symbols of one kind.
  std::vector<std::string> symbolNames(Symbol::Kind kind) const;
  /// Names of shared blocks of one form.
  std::vector<std::string> sharedNames(SharedInfo::Form form) const;

  /// Counts one expanded layer or block call against the model's limit;
  /// false (after one error) once the limit is passed.
  bool takeBudget(SourceLoc where);

  const SourceManager &sources;
  DiagnosticEngine &diags;

  /// Top-level blocks of every file (the first of each name).
  std::map<std::string, BlockInfo> topBlocks;

  // The model being checked; everything below is reset by beginModel().
  /// The model being built (null while checking top-level blocks).
  Model *model = nullptr;
  /// The model's namespace: the first declaration of each name.
  std::map<std::string, Symbol> names;
  /// Per input (index = Model::inputs); unknown if its declaration was bad.
  std::vector<Flow> inputFlows;
  /// Per input: some chain starts from it.
  std::vector<bool> inputUsed;
  /// Every model-level block declaration, duplicates included.
  std::vector<BlockInfo> localBlocks;
  /// Every shared declaration, duplicates included.
  std::vector<SharedInfo> shared;
  /// Every task declaration (index = Model::tasks).
  std::vector<TaskInfo> tasks;
  /// Every data set declaration (index = Model::data).
  std::vector<DataInfo> data;
  /// The first data set of each name.
  std::map<std::string, int> dataNames;
  /// Block calls and shared-module applications being expanded, outermost first.
  std::vector<Expansion> expansions;
  /// A pure value (a module applied to a value, or a combination that is
  /// neither a gate's nor an expert's) by what it computes: (kind, module,
  /// argument, arguments, factor) → its index. One value per computation.
  std::map<std::tuple<int, int, int, std::vector<int>, double>, int> valueMemo;
  /// Each ple's streams before its last level, by the prefix its layers
  /// take and the value it reads: the same for every reading task, built
  /// at the first (not in a dry run).
  std::map<std::pair<std::string, int>, PleStreams> pleStreams;
  /// Checking a definition on its own: block calls are not expanded.
  bool definitionMode = false;
  /// Checking unused shared blocks: what is built is thrown away afterwards.
  bool dry = false;
  /// A use hit a definition that was already reported as invalid.
  bool broken = false;
  /// Errors raised so far, repeats included: what decides whether something
  /// checked cleanly (the engine's count skips the repeats).
  unsigned errorsSeen = 0;
  /// errorsSeen when the current model began.
  unsigned modelStartErrors = 0;
  /// True once the current model has an error.
  bool modelHasErrors() const { return errorsSeen != modelStartErrors || broken; }

private:
  std::set<std::tuple<int, int, int, int, std::string>> reported_;
  Diagnostic scratch_;
  int64_t budget_ = 0;
  bool budgetReported_ = false;
};

/// Maximum layers plus block calls a model may expand to.
constexpr int64_t kMaxExpandedSteps = 100000;
/// Maximum nesting of block expansions.
constexpr size_t kMaxExpansionDepth = 64;
/// Largest unit count, dimension or vocabulary: 2^31.
constexpr int64_t kMaxDim = int64_t(1) << 31;
/// Largest element or parameter count of one tensor: 2^40.
constexpr int64_t kMaxElements = int64_t(1) << 40;

/// The place of the name of a Name or Call expression (not its arguments).
SourceLoc nameLoc(const ast::Expr &e);
/// How an expression reads in a message: "a number", "a string", "'relu'"...
std::string describe(const ast::Expr &e);
/// A number as messages print it: 0.5, -1, 1e+20.
std::string formatNumber(double v);
/// "'a'", "'a' or 'b'", "'a', 'b' or 'c'".
std::string quoteList(const std::vector<std::string> &items, const char *last = "or");
/// A task kind as written: "binary", "classify(3)", "regress" or "regress(2)".
std::string kindText(const Task &task);

} // namespace mtl::sema
