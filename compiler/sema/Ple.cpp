// Ple.cpp: ple(levels, shared_experts, task_experts, expert), progressive
// layered extraction (Tang et al. 2020) in one call. Every level has
// experts of each task's own and shared ones, copies of the layers
// `expert`; each task's gate mixes its own experts and the shared ones into
// the task's stream, and before the last level a shared gate mixes every
// expert into the shared stream. A level's task experts and gates read the
// task's stream, its shared experts and shared gate the shared stream (the
// first level: the value ple is applied to). A task reads its stream after
// the last level. The tasks are those that read the value: the task of the
// head it is in, or every task whose head reads the shared value it is in.
//
// Built in rather than written in std/sharing.mtl: a level reads and makes a
// stream per task and one more, shared, while a value of the language is
// one stream per reading task. The streams before the last level are the
// same for every reading task: built for the first (Context::pleStreams),
// and each reading task adds its last level.
#include "frontend/ExprText.h"
#include "sema/Args.h"
#include "sema/Blocks.h"
#include "sema/Combining.h"
#include "sema/ConstEval.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace mtl::sema {
namespace {

constexpr int64_t kMaxLevels = 8, kMaxExperts = 64;

/// A call's arguments; a count is unknown in a block's definition when it
/// reads a parameter.
struct PleArgs {
  std::optional<int64_t> levels, shared, own;
  const ast::Expr *expert = nullptr;
};

std::optional<PleArgs> pleArgs(Context &ctx, const ast::Expr &call, const Env *env) {
  BoundArgs bound = bindArgs(
      ctx, call, "ple",
      {{"levels", true}, {"shared_experts", true}, {"task_experts", true}, {"expert", true}});
  if (!bound.ok)
    return std::nullopt;
  PleArgs out;
  out.levels = evalInt(ctx, *bound.value(0), env, "ple's levels", 1, kMaxLevels);
  out.shared = evalInt(ctx, *bound.value(1), env, "ple's shared_experts", 1, kMaxExperts);
  out.own = evalInt(ctx, *bound.value(2), env, "ple's task_experts", 1, kMaxExperts);
  out.expert = bound.value(3);
  if (!out.expert->isNamed() && out.expert->kind != ast::ExprKind::Chain) {
    ctx.error(out.expert->loc, fmt::format("ple's expert takes layers: a layer, a block or a "
                                           "chain of them, as in 'expert = dense(16) -> relu'; "
                                           "got {}",
                                           describe(*out.expert)));
    return std::nullopt;
  }
  return out;
}

/// The steps of the layers given for `expert`: a chain's, or the one given.
std::vector<ast::Expr> expertSteps(const ast::Expr &expert) {
  return expert.kind == ast::ExprKind::Chain ? expert.operands : std::vector<ast::Expr>{expert};
}

/// The steps of task `t`'s head, or none.
const std::vector<ast::Expr> *headSteps(const Context &ctx, size_t t) {
  for (const ast::TaskField &f : ctx.tasks[t].decl->fields)
    if (f.key.text == "head" && !f.values.empty())
      return &f.values[0].steps;
  return nullptr;
}

/// Whether `steps` read shared value `s`, directly or through the shared
/// values they read (`seen`: those looked into).
bool reads(const Context &ctx, const std::vector<ast::Expr> &steps, int s, std::set<int> &seen) {
  std::vector<const ast::Expr *> names;
  for (const ast::Expr &step : steps)
    combinedNames(step, names);
  for (const ast::Expr *n : names) {
    const Symbol *sym = ctx.findSymbol(n->text);
    if (!sym || sym->kind != Symbol::Shared)
      continue;
    if (sym->index == s)
      return true;
    if (seen.insert(sym->index).second &&
        reads(ctx, ctx.shared[size_t(sym->index)].decl->chain.steps, s, seen))
      return true;
  }
  return false;
}

/// The tasks a ple built for `owner` serves, in the model's order: the
/// head's task, or the tasks whose heads read the shared value; always
/// `reader` among them.
std::vector<int> pleTasks(const Context &ctx, const Owner &owner, int reader) {
  std::set<int> tasks{reader};
  const Symbol *sym = owner.shared ? ctx.findSymbol(owner.name) : nullptr;
  if (sym && sym->kind == Symbol::Shared)
    for (size_t t = 0; t < ctx.tasks.size(); ++t) {
      std::set<int> seen;
      const std::vector<ast::Expr> *head = headSteps(ctx, t);
      if (head && reads(ctx, *head, sym->index, seen))
        tasks.insert(int(t));
    }
  return {tasks.begin(), tasks.end()};
}

/// Builds one reading task's view of a ple: its layers under `prefix`.
class Builder {
public:
  Builder(Context &ctx, const ast::Expr &call, const Owner &owner, const PleArgs &args)
      : ctx_(ctx), call_(call), owner_(owner), args_(args), prefix_(owner.take()) {}

  /// The stream of task `reader` after the last level, from `in`.
  Val run(Val in, int reader) {
    const std::vector<int> tasks = pleTasks(ctx_, owner_, reader);
    const int64_t last = *args_.levels - 1;
    // The streams before the last level: the same for every reading task.
    const std::pair<std::string, int> key{prefix_, in.value};
    auto found = ctx_.dry ? ctx_.pleStreams.end() : ctx_.pleStreams.find(key);
    PleStreams streams = found != ctx_.pleStreams.end() ? found->second : levels(in, tasks, last);
    if (!streams.shared.ok())
      return {};
    if (!ctx_.dry)
      ctx_.pleStreams.emplace(key, streams);
    const std::string at = fmt::format("{}.{}", prefix_, last);
    Val own =
        experts(at + ".experts." + taskName(reader), *args_.own, streams.tasks[size_t(reader)]);
    Val common = experts(at + ".shared", *args_.shared, streams.shared);
    if (!own.ok() || !common.ok())
      return {};
    return mixed(at + ".gates." + taskName(reader), streams.tasks[size_t(reader)], {own, common},
                 {at + ".experts." + taskName(reader), at + ".shared"});
  }

private:
  std::string taskName(int t) const { return ctx_.model->tasks[size_t(t)].name; }

  // The streams of `tasks` and the shared one after `count` levels from `in`.
  PleStreams levels(Val in, const std::vector<int> &tasks, int64_t count) {
    PleStreams s;
    s.tasks.assign(ctx_.model->tasks.size(), Val{});
    for (int t : tasks)
      s.tasks[size_t(t)] = in;
    s.shared = in;
    for (int64_t level = 0; level < count && s.shared.ok(); ++level) {
      const std::string at = fmt::format("{}.{}", prefix_, level);
      std::vector<Val> all;
      std::vector<std::string> names;
      for (int t : tasks) {
        all.push_back(experts(at + ".experts." + taskName(t), *args_.own, s.tasks[size_t(t)]));
        names.push_back(at + ".experts." + taskName(t));
      }
      Val common = experts(at + ".shared", *args_.shared, s.shared);
      if (!common.ok() || std::any_of(all.begin(), all.end(), [](Val v) { return !v.ok(); }))
        return {};
      PleStreams next;
      next.tasks.assign(s.tasks.size(), Val{});
      for (size_t k = 0; k < tasks.size(); ++k) {
        const auto t = size_t(tasks[k]);
        next.tasks[t] = mixed(at + ".gates." + taskName(tasks[k]), s.tasks[t], {all[k], common},
                              {names[k], at + ".shared"});
      }
      all.push_back(common);
      names.push_back(at + ".shared");
      next.shared = mixed(at + ".shared_gate", s.shared, all, names);
      s = std::move(next);
    }
    return s;
  }

  // The owner of the layers named "<prefix>.<k>".
  Owner at(const std::string &prefix) const {
    Owner o = owner_;
    o.prefix = prefix;
    o.position = std::make_shared<int64_t>(0);
    o.startRepeat = nullptr;
    return o;
  }

  // `count` copies of the expert layers applied to `v`, stacked: [count, n].
  Val experts(const std::string &prefix, int64_t count, Val v) {
    if (!v.ok())
      return {};
    std::vector<Val> copies;
    for (int64_t j = 0; j < count; ++j) {
      // As for a layer parameter: layers and blocks, none that combine
      // values, and no shared module (an Env hides the model's names).
      Owner o = at(fmt::format("{}.{}", prefix, j));
      if (!owner_.env)
        o.env = &expertEnv_;
      std::vector<Op> applied;
      copies.push_back(continueChain(ctx_, expertSteps(*args_.expert), 0, v, o, &applied));
      if (!copies.back().ok())
        return {};
    }
    Shape shape{count, copies[0].flow.shape[0]};
    return combined(ctx_, call_, Value::Stack, copies, shape);
  }

  // A softmax gate on `v` over the experts of the stacks `parts` (named
  // `names` in gate telemetry), and their mixture: made once per inputs.
  Val mixed(const std::string &gate, Val v, const std::vector<Val> &parts,
            const std::vector<std::string> &names) {
    int64_t count = 0;
    for (const Val &p : parts)
      count += p.flow.shape[0];
    ast::Expr dense;
    dense.kind = ast::ExprKind::Call;
    dense.text = "dense";
    dense.loc = call_.loc;
    ast::Arg units;
    units.value.kind = ast::ExprKind::Int;
    units.value.number = double(count);
    units.value.loc = units.loc = call_.loc;
    dense.args.push_back(units);
    ast::Expr softmax;
    softmax.kind = ast::ExprKind::Name;
    softmax.text = "softmax";
    softmax.loc = call_.loc;
    Val weights = continueChain(ctx_, {dense, softmax}, 0, v, at(gate), nullptr);
    if (!weights.ok())
      return {};
    std::vector<Val> args{weights};
    args.insert(args.end(), parts.begin(), parts.end());
    Val out = combined(ctx_, call_, Value::Mix, args, Shape{parts[0].flow.shape[1]}, 1,
                       /*sameMix=*/true);
    Value &mix = ctx_.model->values[size_t(out.value)];
    if (mix.argTexts.empty()) { // made now
      mix.argTexts.push_back(gate);
      for (size_t k = 0; k < parts.size(); ++k)
        for (int64_t j = 0; j < parts[k].flow.shape[0]; ++j)
          mix.argTexts.push_back(fmt::format("{}[{}]", names[k], j));
    }
    return out;
  }

  Context &ctx_;
  const ast::Expr &call_;
  const Owner &owner_;
  const PleArgs &args_;
  const std::string prefix_;
  Env expertEnv_{"", false, {}, {}}; ///< the experts' scope outside a block
};

} // namespace

bool isPle(const ast::Expr &e) { return e.isNamed() && e.text == "ple"; }

const ast::Expr *pleExpert(const ast::Expr &call) {
  for (size_t k = 0; k < call.args.size(); ++k)
    if (call.args[k].name.text == "expert" || (call.args[k].name.text.empty() && k == 3))
      return &call.args[k].value;
  return nullptr;
}

void checkPle(Context &ctx, const ast::Expr &call, const Env *env) {
  auto args = pleArgs(ctx, call, env);
  if (!args)
    return;
  std::vector<Layer> scratch;
  for (const ast::Expr &s : expertSteps(*args->expert))
    applyStep(ctx, s, env, Flow{}, s.loc, scratch);
}

Val expandPle(Context &ctx, const ast::Expr &call, const Owner &owner, Val in) {
  auto args = pleArgs(ctx, call, owner.env);
  if (!args || !args->levels || !args->shared || !args->own || !in.ok())
    return {};
  if (in.flow.dtype != DType::F32 || in.flow.shape.size() != 1) {
    ctx.error(call.loc,
              fmt::format("ple's experts and gates read vectors of f32 (flatten an "
                          "image, embed ids first); it is applied to {}",
                          in.flow.dtype == DType::I32 ? "i32 ids" : formatShape(in.flow.shape)));
    return {};
  }
  if (owner.softGroup >= 0) {
    ctx.error(call.loc, fmt::format("ple builds a stream for every task, and {} is soft-shared, "
                                    "which gives every task a copy of all its layers; share it "
                                    "hard to use ple",
                                    owner.what));
    return {};
  }
  if (ctx.model->values[size_t(in.value)].perReader) {
    ctx.error(call.loc, "ple reads one value for every task's stream, and the value it is "
                        "applied to differs by task (it comes from each_task, mmoe, cgc or "
                        "another ple); apply ple before it, or give ple more levels");
    return {};
  }
  if (ctx.model->tasks.empty())
    return {};
  Val out = Builder(ctx, call, owner, *args).run(in, std::max(owner.reader, 0));
  if (out.ok())
    ctx.model->values[size_t(out.value)].perReader = true;
  return out;
}

} // namespace mtl::sema
