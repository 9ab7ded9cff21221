// Blocks.cpp: block definition checks, recursion detection and block expansion.
#include "sema/Blocks.h"

#include "sema/Args.h"
#include "sema/ConstEval.h"
#include "sema/Layers.h"
#include "sema/Values.h"
#include "support/Suggest.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>

namespace mtl::sema {
namespace {

// Calls `f` on each step of `e`: a chain's steps, or `e` as one step.
template <class F> void forEachStep(const ast::Expr &e, F f) {
  if (e.kind != ast::ExprKind::Chain) {
    f(e);
    return;
  }
  for (const ast::Expr &s : e.operands)
    f(s);
}

const char *symbolWhat(Symbol::Kind kind) {
  switch (kind) {
  case Symbol::Input:
    return "an input";
  case Symbol::Shared:
    return "a shared block";
  case Symbol::Task:
    return "a task";
  case Symbol::Block:
    return "a block";
  }
  return "a name";
}

Flow expandBlock(Context &ctx, const BlockInfo &info, const ast::Expr &step, const Env *callerEnv,
                 const Flow &in, SourceLoc useLoc, std::vector<Layer> &out) {
  if (info.combines && !ctx.definitionMode) {
    ctx.error(nameLoc(step), fmt::format("block '{}' combines values, so it can only be a step "
                                         "of the chain of a head or a shared value, not of a "
                                         "shared module or of the layers given for a parameter",
                                         info.decl->name.text));
    return {};
  }
  std::optional<Env> env = enterBlock(ctx, info, step, callerEnv);
  if (!env)
    return {};
  Flow flow = in;
  for (const ast::Expr &s : info.decl->body.steps)
    flow = applyStep(ctx, s, &*env, flow, useLoc, out);
  ctx.expansions.pop_back();
  return flow;
}

// Layer parameter `arg` used as `step` of block `env.block`: the layers
// given for it applied to `in`.
Flow applyLayerArg(Context &ctx, const LayerArg &arg, const ast::Expr &step, const Env &env,
                   const Flow &in, SourceLoc useLoc, std::vector<Layer> &out) {
  if (step.isCall()) {
    ctx.error(step.loc, fmt::format("'{}' is a layer parameter of block '{}'; the layers given "
                                    "for it take their arguments where the block is called, so "
                                    "write '{}' alone here",
                                    step.text, env.block, step.text));
    return {};
  }
  if (!arg.chain) // checked on its own
    return {};
  // The layers expand as where they were written: the blocks entered since
  // are set aside (a block may be given its own kind as layers).
  std::vector<Expansion> entered(ctx.expansions.begin() + long(arg.depth), ctx.expansions.end());
  ctx.expansions.resize(arg.depth);
  Flow flow = in;
  forEachStep(*arg.chain,
              [&](const ast::Expr &s) { flow = applyStep(ctx, s, arg.env, flow, useLoc, out); });
  ctx.expansions.insert(ctx.expansions.end(), entered.begin(), entered.end());
  return flow;
}

} // namespace

std::optional<Env> enterBlock(Context &ctx, const BlockInfo &info, const ast::Expr &step,
                              const Env *callerEnv) {
  const ast::BlockDecl &decl = *info.decl;
  const std::string &name = decl.name.text;
  std::vector<ParamSpec> specs;
  for (const ast::Param &p : decl.params)
    specs.push_back({p.name.text, !p.defaultValue});
  BoundArgs bound = bindArgs(ctx, step, fmt::format("block '{}'", name), specs);
  Env env{name, info.topLevel, {}, {}};
  // Numbers are evaluated where the call is; layers are kept as written,
  // expanded where the body uses them, with the caller's parameters.
  auto isLayer = [&](size_t i) { return i < info.layerParam.size() && info.layerParam[i]; };
  for (size_t i = 0; i < specs.size(); ++i) {
    const ast::Expr *e = bound.value(i);
    if (isLayer(i) && e && !e->isNamed() && e->kind != ast::ExprKind::Chain) {
      ctx.error(e->loc, fmt::format("'{}' of block '{}' takes layers (a layer, a block or a chain "
                                    "of them, as in '{} = dense(16) -> relu'): it stands as a "
                                    "layer in its body or is given for another block's; got {}",
                                    specs[i].name, name, specs[i].name, describe(*e)));
      e = nullptr;
    }
    if (isLayer(i))
      env.layers.push_back({specs[i].name, e, callerEnv, nullptr, ctx.expansions.size()});
    else
      env.vars.push_back({specs[i].name, e ? evalNumber(ctx, *e, callerEnv) : std::nullopt});
  }
  if (info.bad) {
    ctx.broken = true;
    return {};
  }
  // A definition checked on its own does not look inside the blocks it calls:
  // those are checked on their own too.
  if (ctx.definitionMode)
    return {};
  // Cycles of calls are reported by checkBlocks, which marks their blocks
  // bad; one through the layers given for a parameter shows only here.
  for (const Expansion &e : ctx.expansions)
    if (e.block == name) {
      ctx.error(nameLoc(step), fmt::format("block '{}' calls itself through the layers given "
                                           "for a parameter",
                                           name));
      return {};
    }
  if (ctx.expansions.size() >= kMaxExpansionDepth) {
    ctx.error(nameLoc(step),
              fmt::format("blocks are nested more than {} deep here", kMaxExpansionDepth));
    return {};
  }
  ctx.expansions.push_back({name, fmt::format("in expansion of block '{}' here", name), step.loc});
  // Defaults may use the parameters before them, so they are evaluated in
  // the block; a layer default with the parameters before it.
  size_t number = 0, layer = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const ast::Expr *fallback =
        bound.value(i) || !decl.params[i].defaultValue ? nullptr : &*decl.params[i].defaultValue;
    if (!isLayer(i)) {
      if (fallback)
        env.vars[number].second = evalNumber(ctx, *fallback, &env);
      ++number;
      continue;
    }
    if (fallback) {
      auto before = std::make_shared<Env>(env);
      before->layers.resize(layer);
      env.layers[layer] = {specs[i].name, fallback, before.get(), before, ctx.expansions.size()};
    }
    ++layer;
  }
  return env;
}

namespace {

// Whether `e` starts a chain in a block's body: the input, a combination or
// a chain in parentheses (anything else is a layer applied to what flows in).
bool startsChain(const ast::Expr &e) {
  return isBlockInput(e) || isCombination(e) || e.kind == ast::ExprKind::Chain;
}

void layerStepNames(const std::vector<ast::Expr> &steps, std::set<std::string> &out);

// Adds to `out` the names that stand as layers in the chains that `e`, a
// chain's start, holds: a chain in parentheses, or a combination's operands.
void startStepNames(const ast::Expr &e, std::set<std::string> &out) {
  if (e.kind == ast::ExprKind::Chain) {
    layerStepNames(e.operands, out);
    return;
  }
  if (!isCombination(e))
    return;
  for (const ast::Expr &o : e.operands)
    startStepNames(o, out);
  for (const ast::Arg &a : e.args)
    startStepNames(a.value, out);
}

// Adds to `out` the names that stand as layers in a chain (`steps`: its
// first step starts it if it can) and in the chains nested in it.
void layerStepNames(const std::vector<ast::Expr> &steps, std::set<std::string> &out) {
  for (size_t i = 0; i < steps.size(); ++i) {
    const ast::Expr &s = steps[i];
    if (i == 0 ? startsChain(s) : isCombination(s) || s.kind == ast::ExprKind::Chain)
      startStepNames(s, out);
    else if (s.isName())
      out.insert(s.text);
  }
}

// Whether `name` is a parameter of `b`: in its body a number or layers
// given at the call, not a block it calls.
bool isParam(const BlockInfo &b, const std::string &name) {
  for (const ast::Param &p : b.decl->params)
    if (p.name.text == name)
      return true;
  return false;
}

// Adds to `out` the names that the calls in `e` (a step of `b`'s body, at
// any depth) pass on for a layer parameter of the block they call: given
// alone (`mmoe(2, expert = f)`) or as steps of a chain (`twice(f = f -> relu)`).
void passedLayerNames(const Context &ctx, const BlockInfo &b, const ast::Expr &e,
                      std::set<std::string> &out) {
  const BlockInfo *callee = e.isCall() && !layerByName(e.text) && !isParam(b, e.text)
                                ? ctx.findBlock(e.text, b.topLevel)
                                : nullptr;
  // The layers given for a layer parameter: a name, or a chain's steps.
  auto given = [&](const ast::Expr &layers) {
    if (layers.isName())
      out.insert(layers.text);
    else if (layers.kind == ast::ExprKind::Chain)
      layerStepNames(layers.operands, out);
  };
  if (const ast::Expr *expert = !callee && isPle(e) ? pleExpert(e) : nullptr)
    given(*expert);
  for (size_t k = 0; callee && k < e.args.size(); ++k) {
    const ast::Arg &a = e.args[k];
    const std::vector<ast::Param> &params = callee->decl->params;
    size_t j = k; // by position, or by name
    if (!a.name.text.empty())
      j = size_t(std::find_if(params.begin(), params.end(),
                              [&](const ast::Param &p) { return p.name.text == a.name.text; }) -
                 params.begin());
    if (j < callee->layerParam.size() && callee->layerParam[j])
      given(a.value);
  }
  for (const ast::Expr &o : e.operands)
    passedLayerNames(ctx, b, o, out);
  for (const ast::Arg &a : e.args)
    passedLayerNames(ctx, b, a.value, out);
}

// Marks the parameters that take layers: those that stand as layers in the
// body, and those it passes on for a layer parameter of a block it calls
// (until no block has more).
void markLayerParams(const Context &ctx, const std::vector<BlockInfo *> &blocks) {
  for (BlockInfo *b : blocks)
    b->layerParam.assign(b->decl->params.size(), false);
  for (bool changed = true; changed;) {
    changed = false;
    for (BlockInfo *b : blocks) {
      std::set<std::string> names;
      layerStepNames(b->decl->body.steps, names);
      for (const ast::Expr &s : b->decl->body.steps)
        passedLayerNames(ctx, *b, s, names);
      for (size_t i = 0; i < b->layerParam.size(); ++i)
        if (!b->layerParam[i] && names.count(b->decl->params[i].name.text))
          changed = b->layerParam[i] = true;
    }
  }
}

// Marks the blocks whose bodies combine values: they start with a
// combination, read their input `in`, or call a block that combines.
void markCombining(Context &ctx, const std::vector<BlockInfo *> &blocks) {
  auto combines = [&](const BlockInfo &b) {
    const std::vector<ast::Expr> &steps = b.decl->body.steps;
    if (!steps.empty() && isCombination(steps.front()))
      return true;
    std::vector<const ast::Expr *> names;
    for (const ast::Expr &s : steps)
      combinedNames(s, names);
    for (const ast::Expr *n : names) {
      if (isBlockInput(*n) || (isPle(*n) && !isParam(b, n->text)))
        return true;
      const BlockInfo *called = layerByName(n->text) || isParam(b, n->text)
                                    ? nullptr
                                    : ctx.findBlock(n->text, b.topLevel);
      if (called && called != &b && called->combines)
        return true;
    }
    return false;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (BlockInfo *b : blocks)
      if (!b->combines && combines(*b))
        changed = b->combines = true;
  }
}

// Checks, in a block that combines values, a combination or chain of its
// body on its own: the layers and blocks in its chains (with unknown
// shapes), and that every chain starts from `in` or a combination.
void checkCombiningStep(Context &ctx, const ast::Expr &e, const Env &env) {
  if (e.kind == ast::ExprKind::Chain) {
    for (size_t i = 0; i < e.operands.size(); ++i) {
      const ast::Expr &s = e.operands[i];
      if (i == 0 || isCombination(s)) {
        checkCombiningStep(ctx, s, env);
      } else {
        std::vector<Layer> scratch;
        applyStep(ctx, s, &env, Flow{}, s.loc, scratch);
      }
    }
    return;
  }
  if (isBlockInput(e) || e.kind == ast::ExprKind::Number || e.kind == ast::ExprKind::Int ||
      (e.isName() && env.find(e.text)))
    return; // the input, or a number
  if (!isCombination(e)) {
    ctx.error(e.loc, fmt::format("a chain in block '{}' starts from the block's input 'in' or a "
                                 "combination of values, got {}",
                                 env.block, describe(e)));
    return;
  }
  for (const ast::Expr &o : e.operands)
    checkCombiningStep(ctx, o, env);
  for (const ast::Arg &a : e.args)
    checkCombiningStep(ctx, a.value, env);
}

// Depth-first search over "block calls block" edges; a back edge is a cycle.
class CycleFinder {
public:
  CycleFinder(Context &ctx, const std::vector<BlockInfo *> &blocks) : ctx_(ctx), blocks_(blocks) {
    for (size_t i = 0; i < blocks.size(); ++i)
      index_[blocks[i]] = static_cast<int>(i);
    color_.assign(blocks.size(), 0);
  }

  void run() {
    for (size_t i = 0; i < blocks_.size(); ++i)
      if (color_[i] == 0)
        visit(static_cast<int>(i));
  }

private:
  void visit(int i) {
    color_[i] = 1;
    path_.push_back(i);
    const BlockInfo &b = *blocks_[i];
    std::vector<const ast::Expr *> steps;
    for (const ast::Expr &s : b.decl->body.steps)
      combinedNames(s, steps);
    for (const ast::Expr *step : steps) {
      const ast::Expr &s = *step;
      if (!s.isNamed() || layerByName(s.text) || isParam(b, s.text))
        continue;
      auto it = index_.find(ctx_.findBlock(s.text, b.topLevel));
      if (it == index_.end())
        continue;
      int j = it->second;
      if (color_[j] == 0) {
        visit(j);
      } else if (color_[j] == 1) {
        report(j, s);
      }
    }
    path_.pop_back();
    color_[i] = 2;
  }

  void report(int target, const ast::Expr &at) {
    std::vector<std::string> through;
    bool inCycle = false;
    for (int k : path_) {
      inCycle = inCycle || k == target;
      if (inCycle) {
        blocks_[k]->bad = true;
        if (k != target)
          through.push_back(blocks_[k]->decl->name.text);
      }
    }
    const std::string &name = blocks_[target]->decl->name.text;
    if (through.empty())
      ctx_.error(nameLoc(at), fmt::format("block '{}' calls itself", name));
    else
      ctx_.error(nameLoc(at), fmt::format("block '{}' calls itself through {}", name,
                                          quoteList(through, "and")));
  }

  Context &ctx_;
  const std::vector<BlockInfo *> &blocks_;
  std::map<const BlockInfo *, int> index_;
  std::vector<int> color_, path_;
};

} // namespace

bool isBlockInput(const ast::Expr &e) { return e.isName() && e.text == "in"; }

void checkBlocks(Context &ctx, const std::vector<BlockInfo *> &blocks) {
  markLayerParams(ctx, blocks);
  markCombining(ctx, blocks);
  bool wasDefinition = ctx.definitionMode;
  ctx.definitionMode = true;
  for (BlockInfo *b : blocks) {
    unsigned before = ctx.errorsSeen;
    const ast::BlockDecl &d = *b->decl;
    Env env{d.name.text, b->topLevel, {}, {}};
    std::map<std::string, SourceLoc> seen;
    for (size_t i = 0; i < d.params.size(); ++i) {
      const ast::Param &p = d.params[i];
      auto [it, fresh] = seen.insert({p.name.text, p.name.loc});
      if (p.name.text == "in")
        ctx.error(p.name.loc, fmt::format("'in' is the input of block '{}', not a parameter; "
                                          "name the parameter otherwise",
                                          d.name.text));
      else if (!fresh)
        ctx.error(p.name.loc,
                  fmt::format("duplicate parameter '{}' in block '{}'", p.name.text, d.name.text))
            .note(it->second, "previous definition is here");
      if (!b->layerParam[i]) {
        if (p.defaultValue)
          evalNumber(ctx, *p.defaultValue, &env);
        env.vars.push_back({p.name.text, std::nullopt});
        continue;
      }
      if (p.defaultValue) { // layers, checked with the parameters before them
        std::vector<Layer> scratch;
        forEachStep(*p.defaultValue,
                    [&](const ast::Expr &s) { applyStep(ctx, s, &env, Flow{}, s.loc, scratch); });
      }
      env.layers.push_back({p.name.text, nullptr, nullptr, nullptr});
    }
    std::vector<Layer> scratch;
    for (size_t i = 0; i < d.body.steps.size(); ++i) {
      const ast::Expr &s = d.body.steps[i];
      if (b->combines && (isCombination(s) || s.kind == ast::ExprKind::Chain))
        checkCombiningStep(ctx, s, env);
      else if (!b->combines || !isBlockInput(s))
        applyStep(ctx, s, &env, Flow{}, s.loc, scratch);
    }
    if (ctx.errorsSeen != before)
      b->bad = true;
  }
  ctx.definitionMode = wasDefinition;
  CycleFinder(ctx, blocks).run();
}

Flow applyStep(Context &ctx, const ast::Expr &step, const Env *env, const Flow &in,
               SourceLoc useLoc, std::vector<Layer> &out, bool sharedModules) {
  if (!ctx.definitionMode && !ctx.takeBudget(useLoc))
    return {};
  if (!step.isNamed()) {
    ctx.error(step.loc, fmt::format("expected a layer or a block, got {}", describe(step)));
    return {};
  }
  if (const LayerArg *arg = env ? env->findLayer(step.text) : nullptr)
    return applyLayerArg(ctx, *arg, step, *env, in, useLoc, out);
  if (auto kind = layerByName(step.text))
    return applyLayer(ctx, *kind, step, env, in, useLoc, out);
  bool topLevel = env && env->topLevel;
  if (isPle(step) && !ctx.findBlock(step.text, topLevel)) {
    if (ctx.definitionMode)
      checkPle(ctx, step, env);
    else
      ctx.error(nameLoc(step), "ple combines values, so it can only be a step of the chain of a "
                               "head or a shared value, not of a shared module or of the layers "
                               "given for a parameter");
    return {};
  }
  if (const BlockInfo *b = ctx.findBlock(step.text, topLevel))
    return expandBlock(ctx, *b, step, env, in, useLoc, out);
  if (env && env->find(step.text)) {
    ctx.error(nameLoc(step),
              fmt::format("'{}' is a parameter of block '{}', not a layer", step.text, env->block));
    return {};
  }
  if (env && !topLevel)
    if (const Symbol *sym = ctx.findSymbol(step.text)) {
      // An Env of no block is ple's experts' outside blocks (Ple.cpp).
      ctx.error(nameLoc(step),
                env->block.empty()
                    ? fmt::format("'{}' is {}; ple's experts are layers and blocks, of which "
                                  "each expert gets a copy",
                                  step.text, symbolWhat(sym->kind))
                    : fmt::format("'{}' is {}; a block body can only use layers, other blocks "
                                  "and its input 'in'",
                                  step.text, symbolWhat(sym->kind)));
      return {};
    }
  std::vector<std::string> candidates = layerNames();
  std::vector<std::string> blocks = ctx.blockNames(topLevel);
  candidates.insert(candidates.end(), blocks.begin(), blocks.end());
  if (sharedModules)
    for (std::string &name : ctx.sharedNames(SharedInfo::ModuleForm))
      candidates.push_back(std::move(name));
  // Where blocks exist the name may have meant one, so the message says so.
  ctx.error(nameLoc(step), fmt::format("unknown layer {}'{}'{}", blocks.empty() ? "" : "or block ",
                                       step.text, didYouMean(step.text, candidates)));
  return {};
}

} // namespace mtl::sema
