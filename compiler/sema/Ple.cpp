// Ple.cpp: ple(levels, shared_experts, task_experts, expert), progressive
// layered extraction (Tang et al. 2020) in one call. Every level has
// experts of each task's own and shared ones, copies of the layers
// `expert`; each task's gate mixes its own experts and the shared ones into
// the task's stream, and before the last level a shared gate mixes every
// expert into the shared stream. A level's task experts and gates read the
// task's stream, its shared experts and shared gate the shared stream (the
// first level: the value ple is applied to). A task reads its stream after
// the last level.
//
// Built in rather than written in std/sharing.mtl: a level reads and makes a
// stream per task and one more, shared, while a value of the language is
// one stream per reading task. The streams of every task are built for each
// reader (their layers found again by name, their values made once), so
// the model's values are the same whichever task reads first.
#include "frontend/ExprText.h"
#include "sema/Args.h"
#include "sema/Blocks.h"
#include "sema/Combining.h"
#include "sema/ConstEval.h"

#include <fmt/format.h>

namespace mtl::sema {
namespace {

constexpr int64_t kMaxLevels = 8, kMaxExperts = 64;

struct PleArgs {
  int64_t levels = 0, shared = 0, own = 0;
  const ast::Expr *expert = nullptr;
};

std::optional<PleArgs> pleArgs(Context &ctx, const ast::Expr &call, const Env *env) {
  BoundArgs bound = bindArgs(
      ctx, call, "ple",
      {{"levels", true}, {"shared_experts", true}, {"task_experts", true}, {"expert", true}});
  if (!bound.ok)
    return std::nullopt;
  auto levels = evalInt(ctx, *bound.value(0), env, "ple's levels", 1, kMaxLevels);
  auto shared = evalInt(ctx, *bound.value(1), env, "ple's shared_experts", 1, kMaxExperts);
  auto own = evalInt(ctx, *bound.value(2), env, "ple's task_experts", 1, kMaxExperts);
  const ast::Expr *expert = bound.value(3);
  if (!expert->isNamed() && expert->kind != ast::ExprKind::Chain) {
    ctx.error(expert->loc, fmt::format("ple's expert takes layers: a layer, a block or a chain "
                                       "of them, as in 'expert = dense(16) -> relu'; got {}",
                                       describe(*expert)));
    return std::nullopt;
  }
  if (!levels || !shared || !own)
    return std::nullopt;
  return PleArgs{*levels, *shared, *own, expert};
}

/// The steps of the layers given for `expert`: a chain's, or the one given.
std::vector<ast::Expr> expertSteps(const ast::Expr &expert) {
  return expert.kind == ast::ExprKind::Chain ? expert.operands : std::vector<ast::Expr>{expert};
}

/// Builds one reader's view of a ple: its layers under `prefix`.
class Builder {
public:
  Builder(Context &ctx, const ast::Expr &call, const Owner &owner, const PleArgs &args)
      : ctx_(ctx), call_(call), owner_(owner), args_(args), prefix_(owner.take()) {}

  /// The stream of task `reader` after the last level, from `in`.
  Val run(Val in, int reader) {
    const auto tasks = static_cast<int>(ctx_.model->tasks.size());
    Val shared = in;
    std::vector<Val> streams(static_cast<size_t>(tasks), in);
    for (int64_t level = 0; level < args_.levels; ++level) {
      const bool last = level + 1 == args_.levels;
      const std::string at = fmt::format("{}.{}", prefix_, level);
      // The last level makes the reader's stream only.
      std::vector<int> which;
      for (int t = 0; t < tasks; ++t)
        if (!last || t == reader)
          which.push_back(t);
      std::vector<Val> own(static_cast<size_t>(tasks));
      for (int t : which)
        own[size_t(t)] = experts(at + ".experts." + taskName(t), args_.own, streams[size_t(t)]);
      Val common = experts(at + ".shared", args_.shared, shared);
      if (!common.ok())
        return {};
      std::vector<Val> next(static_cast<size_t>(tasks));
      for (int t : which) {
        const std::string gate = at + ".gates." + taskName(t);
        next[size_t(t)] = mixed(gate, streams[size_t(t)], {own[size_t(t)], common},
                                {at + ".experts." + taskName(t), at + ".shared"});
        if (!next[size_t(t)].ok())
          return {};
      }
      if (!last) {
        std::vector<Val> all;
        std::vector<std::string> names;
        for (int t = 0; t < tasks; ++t) {
          all.push_back(own[size_t(t)]);
          names.push_back(at + ".experts." + taskName(t));
        }
        all.push_back(common);
        names.push_back(at + ".shared");
        shared = mixed(at + ".shared_gate", shared, all, names);
        if (!shared.ok())
          return {};
      }
      streams = std::move(next);
    }
    return streams[size_t(reader)];
  }

private:
  std::string taskName(int t) const { return ctx_.model->tasks[size_t(t)].name; }

  // The owner of the layers named "<prefix>.<k>".
  Owner at(const std::string &prefix) const {
    Owner o = owner_;
    o.prefix = prefix;
    o.position = std::make_shared<int64_t>(0);
    o.startRepeat = nullptr;
    return o;
  }

  // `steps` applied to `v`, their layers named "<prefix>.<k>".
  Val apply(const std::vector<ast::Expr> &steps, const std::string &prefix, Val v) const {
    return continueChain(ctx_, steps, 0, v, at(prefix), nullptr);
  }

  // `count` copies of the expert layers applied to `v`, stacked: [count, n].
  Val experts(const std::string &prefix, int64_t count, Val v) const {
    const std::vector<ast::Expr> steps = expertSteps(*args_.expert);
    std::vector<Val> copies;
    for (int64_t j = 0; j < count; ++j) {
      copies.push_back(apply(steps, fmt::format("{}.{}", prefix, j), v));
      if (!copies.back().ok())
        return {};
      if (copies.back().flow.shape.size() != 1) {
        ctx_.error(args_.expert->loc,
                   fmt::format("ple's experts must give vectors, which its gates mix; '{}' "
                               "gives {}",
                               exprText(*args_.expert), formatShape(copies.back().flow.shape)));
        return {};
      }
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
    Val weights = apply({dense, softmax}, gate, v);
    if (!weights.ok())
      return {};
    std::vector<int> args{weights.value};
    for (const Val &p : parts)
      args.push_back(p.value);
    const Shape shape{parts[0].flow.shape[1]};
    auto [it, fresh] = ctx_.valueMemo.insert({{Value::Mix, -1, -1, args, 1.0}, -1});
    if (fresh) {
      Value mix;
      mix.kind = Value::Mix;
      mix.loc = call_.loc;
      mix.args = args;
      mix.shape = shape;
      mix.argTexts.push_back(gate);
      for (size_t k = 0; k < parts.size(); ++k)
        for (int64_t j = 0; j < parts[k].flow.shape[0]; ++j)
          mix.argTexts.push_back(fmt::format("{}[{}]", names[k], j));
      it->second = addValue(ctx_, std::move(mix));
    }
    return Val{it->second, Flow::of(DType::F32, shape)};
  }

  Context &ctx_;
  const ast::Expr &call_;
  const Owner &owner_;
  const PleArgs &args_;
  const std::string prefix_;
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
  if (!args || !in.ok())
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
  ++ctx.perTaskUses; // each task reads its own stream
  Val out = Builder(ctx, call, owner, *args).run(in, std::max(owner.reader, 0));
  if (out.ok())
    ctx.model->values[size_t(out.value)].perReader = true;
  return out;
}

} // namespace mtl::sema
