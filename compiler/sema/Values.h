// Values.h: chains, shared values and shared modules (hard and soft) turned into modules and
// values.
#pragma once

#include "sema/SemaContext.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mtl::sema {

/// The task context of a dry run (checking unused shared blocks): soft blocks
/// behave as if some task used them.
constexpr int kDryTask = -2;

/// Who owns the layers that a chain creates, and in which task's context it
/// runs (soft-shared blocks make one copy per task).
struct Owner {
  std::string name;   ///< Module::name
  std::string prefix; ///< layers are named "<prefix>.<position>"; empty: `name`
  /// The next position, shared by every chain the owner builds: a chain
  /// inside a combination takes one position and numbers its own layers
  /// under it ("<prefix>.<position>.<k>"), as a PyTorch Sequential would.
  std::shared_ptr<int64_t> position = std::make_shared<int64_t>(0);

  /// The name of the next position ("<prefix>.<position>").
  std::string next() const;
  /// That name, and the position taken.
  std::string take() const;
  SourceLoc loc; ///< Module::loc
  bool shared = false;
  int softGroup = -1;
  std::vector<int> *modules = nullptr; ///< where to record the modules made
  int task = -1;                       ///< the task using it; -1 in a hard-shared context
  /// The task whose head is being built, through every shared value it
  /// reads: whose layers `each_task(...)` makes (kDryTask in a dry run).
  int reader = -1;
  /// A shared value built once per reading task: its modules by their
  /// layers' names, so that what is not per task is built once.
  std::map<std::string, int> *byName = nullptr;
  std::string what; ///< "task 'species'", "shared block 'trunk'", for messages
  /// The repeat(..) that starts the head or shared value, if one does: its
  /// copies take the owner's positions ("trunk.<j>.<k>"); another repeat
  /// takes one position and numbers its copies under it, as a ModuleList.
  const ast::Expr *startRepeat = nullptr;
  /// Inside a block that combines values: its parameters and its input, `in`.
  const Env *env = nullptr;
  std::optional<Val> in;
};

/// Resolves sharing (`hard`, `soft(λ)`) and the form of every shared block:
/// a value (starts from an input or a shared value) or a module (starts with
/// a layer, block or shared module). Reports shared blocks that use
/// themselves (once per cycle) and bad first steps; marks those `bad`.
void classifyShared(Context &ctx);

/// The first step of a head or shared value: an input or a shared value
/// (instantiated for `owner.task` if soft), a combination, or a chain in
/// parentheses. `role` starts messages ("a head").
Val startChain(Context &ctx, const ast::Expr &step, const Owner &owner, const char *role);

/// A new module of `owner` holding `layers` (recorded with the owner's
/// modules and soft group); its index.
int addModule(Context &ctx, const Owner &owner, std::vector<Layer> layers);

/// The owner of a chain nested in one of `owner`'s combinations: the same
/// owner, its layers named under the next position of `owner`.
Owner nestedOwner(const Owner &owner);

/// Whether `e` combines values (a + b, 0.5 * a, concat(..), mix(..)) rather
/// than naming one.
bool isCombination(const ast::Expr &e);
/// The names (inputs, shared values, and the steps of chains nested in it) a
/// combination reads, at any depth; `e` itself when it is not a combination
/// but a name.
void combinedNames(const ast::Expr &e, std::vector<const ast::Expr *> &out);
/// The value `e` combines (isCombination), each operand started as a chain
/// would be; checks shapes and reports, located, what does not fit.
Val combineValues(Context &ctx, const ast::Expr &e, const Owner &owner, const char *role);

/// Applies `steps[first..]` to `start`: layers and block calls become the
/// owner's modules (a new module after each shared module in between, with
/// positions counted across them), shared modules are applied (one Module per
/// hard module, one copy per task for soft ones). Records what was applied in
/// `ops` if given. Returns the final value.
Val continueChain(Context &ctx, const std::vector<ast::Expr> &steps, size_t first, Val start,
                  const Owner &owner, std::vector<Op> *ops);

/// A call of block `info`, whose body combines values, applied to `in`: the
/// body built for `owner` (its layers take the owner's positions, as a
/// block's layers do), with the block's parameters bound and `in` standing
/// for `in`. Unknown after an error.
Val expandCombiningBlock(Context &ctx, const BlockInfo &info, const ast::Expr &call,
                         const Owner &owner, Val in);

/// Whether `e` calls the built-in ple (progressive layered extraction).
bool isPle(const ast::Expr &e);
/// The layers a ple call gives for its experts (`expert = ...`, or the
/// fourth argument); null when it gives none.
const ast::Expr *pleExpert(const ast::Expr &call);
/// ple(levels, shared_experts, task_experts, expert) applied to `in` for
/// the task `owner.reader`: that task's stream after the last level, its
/// layers named under one position of the owner (Ple.cpp). Unknown after an
/// error.
Val expandPle(Context &ctx, const ast::Expr &call, const Owner &owner, Val in);
/// A ple call's arguments and expert layers checked on their own, with
/// parameters `env` (a block's definition).
void checkPle(Context &ctx, const ast::Expr &call, const Env *env);

/// The value of shared value `s` for `user` (its task's copy if soft);
/// `useLoc` is where it is named.
Val useSharedValue(Context &ctx, int s, const Owner &user, SourceLoc useLoc);

/// Shared module `s` applied to `arg` for `user`: built at the first
/// application, replayed (same modules, new values) after that.
Val applySharedModule(Context &ctx, int s, const Owner &user, Val arg, SourceLoc useLoc);

/// After the task heads: warns about shared blocks no task uses and checks
/// them in a dry run (whatever it builds is dropped), warns about soft
/// sharing with a single task and about inputs nothing reads. The warnings
/// are left out when the model already has errors: they would mostly echo them.
void finishValues(Context &ctx);

} // namespace mtl::sema
