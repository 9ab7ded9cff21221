// Chains.cpp: elaboration of chains into modules and values, with hard and soft sharing.
//
// A hard shared block has one instance; a soft one has one per task (named
// "<block>.<task>"). A shared value is built once per instance; a shared
// module is built at its first application and replayed on later ones (same
// Module, new Value), which needs the same input shape every time.
#include "sema/Values.h"

#include "frontend/ExprText.h"
#include "sema/Blocks.h"
#include "sema/Layers.h"
#include "support/Suggest.h"

#include <fmt/format.h>

namespace mtl::sema {
namespace {

int applyModule(Context &ctx, int module, int arg, const Shape &shape) {
  auto [it, fresh] = ctx.valueMemo.insert({{Value::Apply, module, arg, {}, 1.0}, -1});
  if (!fresh)
    return it->second;
  Value v;
  v.kind = Value::Apply;
  v.module = module;
  v.arg = arg;
  v.shape = shape;
  v.perReader = ctx.model->values[size_t(arg)].perReader;
  ctx.model->values.push_back(v);
  it->second = static_cast<int>(ctx.model->values.size()) - 1;
  return it->second;
}

// The owner of one instance of shared block `s`, built for `user`: key -1
// is the hard instance.
Owner instanceOwner(Context &ctx, int s, int key, const Owner &user) {
  SharedInfo &info = ctx.shared[s];
  const std::string &name = info.decl->name.text;
  Owner o;
  o.name = name;
  o.loc = info.decl->loc;
  o.shared = true;
  o.task = key;
  o.reader = user.reader;
  o.what = fmt::format("shared block '{}'", name);
  o.modules = ctx.dry ? nullptr : &info.modules;
  o.byName = ctx.dry || info.soft ? nullptr : &info.byName;
  if (info.soft) {
    o.name = fmt::format("{}.{}", name, key >= 0 ? ctx.model->tasks[key].name : "task");
    if (info.group < 0) {
      info.group = static_cast<int>(ctx.model->softGroups.size());
      ctx.model->softGroups.push_back({name, info.lambda, {}, info.decl->loc});
    }
    o.softGroup = info.group;
  }
  return o;
}

// Common entry checks of a use of shared block `s`; returns the instance key,
// or nullopt if the use cannot go on (already reported).
std::optional<int> enter(Context &ctx, int s, const Owner &user, SourceLoc useLoc) {
  SharedInfo &info = ctx.shared[s];
  if (info.bad) {
    ctx.broken = true;
    return std::nullopt;
  }
  if (info.soft && user.task == -1) {
    ctx.error(useLoc, fmt::format("{} is hard-shared and cannot use soft-shared '{}', of "
                                  "which every task has its own copy",
                                  user.what, info.decl->name.text));
    return std::nullopt;
  }
  if (!ctx.dry) {
    info.used = true;
    if (user.task >= 0)
      info.consumers.insert(user.task);
  }
  return info.soft ? user.task : -1;
}

} // namespace

Val useSharedValue(Context &ctx, int s, const Owner &user, SourceLoc useLoc) {
  auto key = enter(ctx, s, user, useLoc);
  if (!key)
    return {};
  SharedInfo &info = ctx.shared[s];
  if (info.perTask && !info.soft)
    key = user.reader; // each reading task has its own instance (its value is perReader)
  if (auto it = info.instances.find(*key); it != info.instances.end())
    return it->second.out;
  if (info.visiting)
    return {};
  info.visiting = true;
  Owner mine = instanceOwner(ctx, s, *key, user);
  const std::vector<ast::Expr> &steps = info.decl->chain.steps;
  mine.startRepeat = &steps[0];
  Val start = startChain(ctx, steps[0], mine, "a shared value");
  Val out = continueChain(ctx, steps, 1, start, mine, nullptr);
  SharedInfo &after = ctx.shared[s];
  after.visiting = false;
  if (out.ok() && ctx.model->values[size_t(out.value)].perReader && !after.soft && !after.perTask) {
    after.perTask = true; // found out while building it for this task
    key = user.reader;
  }
  after.instances[*key].out = out;
  if (out.ok() && !ctx.dry && ctx.model->values[size_t(out.value)].sharedName.empty())
    ctx.model->values[size_t(out.value)].sharedName = mine.name; // a soft copy's "NAME.TASK"
  return out;
}

Val applySharedModule(Context &ctx, int s, const Owner &user, Val arg, SourceLoc useLoc) {
  auto key = enter(ctx, s, user, useLoc);
  if (!key)
    return {};
  SharedInfo &info = ctx.shared[s];
  const std::string &name = info.decl->name.text;
  const std::vector<ast::Expr> &steps = info.decl->chain.steps;
  auto found = info.instances.find(*key);
  if (!arg.ok()) {
    // Nothing to build; still check the module's own steps once.
    if (found == info.instances.end() && !info.visiting) {
      info.visiting = true;
      Owner mine = instanceOwner(ctx, s, *key, user);
      continueChain(ctx, steps, 0, Val{}, mine, nullptr);
      ctx.shared[s].visiting = false;
    }
    return {};
  }
  if (found != info.instances.end()) {
    SharedInstance inst = found->second;
    if (inst.in.known && (inst.in.shape != arg.flow.shape || inst.in.dtype != arg.flow.dtype)) {
      ctx.error(useLoc, fmt::format("shared module '{}' is applied to {} here but to {} "
                                    "before; its parameters need the same input shape "
                                    "at every use",
                                    name, formatShape(arg.flow.shape), formatShape(inst.in.shape)))
          .note(inst.firstUse, "first applied here");
      return {};
    }
    if (!inst.outFlow.known)
      return {};
    Owner mine = instanceOwner(ctx, s, *key, user);
    Val cur = arg;
    for (const Op &op : inst.ops) {
      if (op.module >= 0)
        cur = Val{applyModule(ctx, op.module, cur.value, op.out.shape), op.out};
      else
        cur = applySharedModule(ctx, op.shared, mine, cur, op.useLoc);
      if (!cur.ok())
        return {};
    }
    return cur;
  }
  if (info.visiting)
    return {};
  info.visiting = true;
  Owner mine = instanceOwner(ctx, s, *key, user);
  ctx.expansions.push_back(
      {"", fmt::format("in application of shared module '{}' here", name), useLoc});
  std::vector<Op> ops;
  Val out = continueChain(ctx, steps, 0, arg, mine, &ops);
  ctx.expansions.pop_back();
  SharedInfo &after = ctx.shared[s];
  after.visiting = false;
  after.instances[*key] = SharedInstance{out, arg.flow, out.flow, std::move(ops), useLoc};
  return out;
}

int addModule(Context &ctx, const Owner &owner, std::vector<Layer> layers) {
  Model &model = *ctx.model;
  if (owner.byName) { // built before for another task: the same module
    std::string key;
    for (const Layer &l : layers)
      key += l.paramPrefix + ";";
    auto [it, fresh] = owner.byName->insert({key, int(model.modules.size())});
    if (!fresh)
      return it->second;
  }
  int id = static_cast<int>(model.modules.size());
  Module m;
  m.name = owner.name;
  m.layers = std::move(layers);
  m.loc = owner.loc;
  m.shared = owner.shared;
  m.softGroup = owner.softGroup;
  model.modules.push_back(std::move(m));
  if (owner.modules)
    owner.modules->push_back(id);
  if (owner.softGroup >= 0 && !ctx.dry)
    model.softGroups[owner.softGroup].modules.push_back(id);
  return id;
}

std::string Owner::next() const {
  return fmt::format("{}.{}", prefix.empty() ? name : prefix, *position);
}

std::string Owner::take() const {
  std::string at = next();
  ++*position;
  return at;
}

Owner nestedOwner(const Owner &owner) {
  Owner sub = owner;
  sub.prefix = owner.take();
  sub.position = std::make_shared<int64_t>(0);
  return sub;
}

Val startChain(Context &ctx, const ast::Expr &step, const Owner &owner, const char *role) {
  if (owner.env && isBlockInput(step))
    return owner.in.value_or(Val{});
  if (isCombination(step))
    return combineValues(ctx, step, owner, role);
  if (step.kind == ast::ExprKind::Chain) {
    Owner sub = nestedOwner(owner);
    Val start = startChain(ctx, step.operands.front(), sub, role);
    return continueChain(ctx, step.operands, 1, start, sub, nullptr);
  }
  if (!step.isNamed()) {
    ctx.error(step.loc, fmt::format("{} must start from an input or a shared value, got {}", role,
                                    describe(step)));
    return {};
  }
  const Symbol *sym = layerByName(step.text) ? nullptr : ctx.findSymbol(step.text);
  if (owner.env) { // a block's body sees its input and parameters, not the model's names
    ctx.error(step.loc, fmt::format("a chain in block '{}' starts from the block's input 'in' or "
                                    "a combination of values, got {}",
                                    owner.env->block, describe(step)));
    return {};
  }
  if (sym && (sym->kind == Symbol::Input || sym->kind == Symbol::Shared) && step.isCall())
    ctx.error(step.loc, fmt::format("'{}' takes no arguments", step.text));
  if (sym && sym->kind == Symbol::Input) {
    ctx.inputUsed[sym->index] = true;
    const Flow &f = ctx.inputFlows[sym->index];
    return Val{f.known ? sym->index : -1, f};
  }
  if (sym && sym->kind == Symbol::Shared) {
    const SharedInfo &info = ctx.shared[sym->index];
    if (info.form == SharedInfo::ValueForm)
      return useSharedValue(ctx, sym->index, owner, nameLoc(step));
    if (info.form == SharedInfo::ModuleForm) {
      std::string input = ctx.model->inputs.empty() ? "x" : ctx.model->inputs[0].name;
      ctx.error(nameLoc(step), fmt::format("{} must start from an input or a shared value; "
                                           "'{}' is a shared module: apply it to an input, "
                                           "as in '{} -> {}'",
                                           role, step.text, input, step.text));
    } else {
      ctx.broken = true;
    }
    return {};
  }
  if (sym && sym->kind == Symbol::Task) {
    ctx.error(nameLoc(step), fmt::format("{} must start from an input or a shared value; "
                                         "'{}' is a task",
                                         role, step.text));
    return {};
  }
  if (layerByName(step.text) || ctx.findBlock(step.text, false)) {
    ctx.error(nameLoc(step),
              fmt::format("{} must start from an input or a shared value, "
                          "got {} '{}'",
                          role, layerByName(step.text) ? "layer" : "block", step.text));
    return {};
  }
  std::vector<std::string> candidates = ctx.symbolNames(Symbol::Input);
  for (const std::string &n : ctx.sharedNames(SharedInfo::ValueForm))
    candidates.push_back(n);
  ctx.error(nameLoc(step), fmt::format("unknown input or shared value '{}'{}", step.text,
                                       didYouMean(step.text, candidates)));
  return {};
}

Val continueChain(Context &ctx, const std::vector<ast::Expr> &steps, size_t first, Val start,
                  const Owner &owner, std::vector<Op> *ops) {
  Val cur = start;        // the last value made
  Flow flow = start.flow; // what flows after the pending layers
  std::vector<Layer> pending;
  auto flush = [&] {
    if (pending.empty()) {
      if (!flow.known) // a failed step: what flows on is unknown, not `cur`
        cur = Val{-1, flow};
      return;
    }
    for (Layer &l : pending)
      l.paramPrefix = owner.take();
    if (cur.value < 0 || !flow.known) {
      pending.clear();
      cur = Val{-1, flow};
      return;
    }
    int id = addModule(ctx, owner, std::move(pending));
    pending.clear();
    cur = Val{applyModule(ctx, id, cur.value, flow.shape), flow};
    if (ops)
      ops->push_back({id, -1, {}, flow});
  };
  for (size_t i = first; i < steps.size(); ++i) {
    const ast::Expr &step = steps[i];
    if (isCombination(step)) {
      const std::string what = step.isCall() ? step.text : std::string(1, step.op ? step.op : '-');
      // `x -> dense(4) + y` reads as x -> (dense(4) + y): the chain before
      // the operator ends in its left operand, `x -> -dense(4)` in its operand.
      const bool binary = step.kind == ast::ExprKind::Binary;
      ast::Expr before;
      before.kind = ast::ExprKind::Chain;
      before.operands.assign(steps.begin(), steps.begin() + static_cast<long>(i));
      if (!step.isCall()) // an operator: its (left) operand ends the chain
        before.operands.push_back(step.operands[0]);
      const std::string h = exprText(before);
      ctx.error(step.loc,
                fmt::format(
                    "'{}' combines values, so it can only start a chain; combine what "
                    "comes before it inside it, as in '{}'",
                    what,
                    step.isCall() ? fmt::format("{}({}, ...) -> ...", what, h)
                    : binary ? fmt::format("({}) {} {} -> ...", h, what, exprText(step.operands[1]))
                             : fmt::format("-({}) -> ...", h)));
      flush();
      cur = {};
      flow = {};
      continue;
    }
    const Symbol *sym = !owner.env && step.isNamed() && !layerByName(step.text)
                            ? ctx.findSymbol(step.text)
                            : nullptr;
    const bool layerArg = owner.env && owner.env->findLayer(step.text);
    const BlockInfo *block = step.isNamed() && !layerByName(step.text) &&
                                     (!sym || sym->kind == Symbol::Block) && !layerArg
                                 ? ctx.findBlock(step.text, owner.env && owner.env->topLevel)
                                 : nullptr;
    const bool ple = !block && isPle(step) && !layerArg;
    if (((block && block->combines) || ple) && !ops) {
      flush(); // a shared module reports these in applyStep
      cur = block ? expandCombiningBlock(ctx, *block, step, owner, cur)
                  : expandPle(ctx, step, owner, cur);
      flow = cur.flow;
      continue;
    }
    if (sym && sym->kind == Symbol::Shared &&
        ctx.shared[sym->index].form != SharedInfo::ValueForm) {
      if (step.isCall())
        ctx.error(step.loc, fmt::format("shared block '{}' takes no arguments", step.text));
      flush();
      cur = applySharedModule(ctx, sym->index, owner, cur, step.loc);
      flow = cur.flow;
      if (ops)
        ops->push_back({-1, sym->index, step.loc, {}});
      continue;
    }
    if (sym && sym->kind != Symbol::Block) {
      if (sym->kind == Symbol::Shared)
        ctx.error(nameLoc(step), fmt::format("'{}' is a shared value and can only start a "
                                             "chain; only shared modules (which start with "
                                             "a layer) can be applied in the middle",
                                             step.text));
      else if (sym->kind == Symbol::Input)
        ctx.error(nameLoc(step), fmt::format("input '{}' can only start a chain", step.text));
      else
        ctx.error(nameLoc(step), fmt::format("'{}' is a task, not a layer", step.text));
      flush();
      cur = {};
      flow = {};
      continue;
    }
    flow = applyStep(ctx, step, owner.env, flow, step.loc, pending, /*sharedModules=*/true);
  }
  flush();
  return cur;
}

} // namespace mtl::sema
