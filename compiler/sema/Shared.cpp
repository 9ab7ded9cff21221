// Shared.cpp: sharing (hard/soft), forms and cycles of shared blocks; unused-block checks.
#include "sema/Values.h"

#include "sema/Args.h"
#include "sema/ConstEval.h"
#include "sema/Layers.h"
#include "support/Suggest.h"

#include <fmt/format.h>

#include <optional>

namespace mtl::sema {
namespace {

void readSharing(Context &ctx, SharedInfo &info) {
  if (!info.decl->sharing)
    return;
  const ast::Expr &e = *info.decl->sharing;
  if (e.isNamed() && e.text == "hard") {
    bindArgs(ctx, e, "hard", {});
    return;
  }
  if (e.isNamed() && e.text == "soft") {
    // Soft even when the strength is wrong, so uses are not misreported as hard.
    info.soft = true;
    BoundArgs b = bindArgs(ctx, e, "soft", {{"lambda", true}});
    if (const ast::Expr *v = b.value(0))
      if (auto lambda = evalFloat(ctx, *v, nullptr)) {
        if (*lambda < 0)
          ctx.error(v->loc, fmt::format("soft sharing strength must be finite and "
                                        "non-negative, got {}",
                                        formatNumber(*lambda)));
        else
          info.lambda = *lambda;
      }
    return;
  }
  if (!e.isNamed()) {
    ctx.error(e.loc, fmt::format("expected 'hard' or 'soft(lambda)', got {}", describe(e)));
    return;
  }
  std::string hint = didYouMean(e.text, {"hard", "soft"});
  ctx.error(nameLoc(e), fmt::format("unknown sharing '{}'{}", e.text,
                                    hint.empty() ? "; use 'hard' or 'soft(lambda)'" : hint));
}

// Depth-first search over "shared block names shared block" edges.
class SharedCycles {
public:
  explicit SharedCycles(Context &ctx) : ctx_(ctx), color_(ctx.shared.size(), 0) {}

  void run() {
    for (size_t i = 0; i < ctx_.shared.size(); ++i)
      if (color_[i] == 0)
        visit(static_cast<int>(i));
  }

private:
  void visit(int i) {
    color_[i] = 1;
    path_.push_back(i);
    std::vector<const ast::Expr *> steps;
    for (const ast::Expr &s : ctx_.shared[i].decl->chain.steps)
      combinedNames(s, steps);
    for (const ast::Expr *step : steps) {
      const ast::Expr &s = *step;
      if (!s.isNamed() || layerByName(s.text))
        continue;
      const Symbol *sym = ctx_.findSymbol(s.text);
      if (!sym || sym->kind != Symbol::Shared)
        continue;
      if (color_[sym->index] == 0)
        visit(sym->index);
      else if (color_[sym->index] == 1)
        report(sym->index, s);
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
        ctx_.shared[k].bad = true;
        if (k != target)
          through.push_back(ctx_.shared[k].decl->name.text);
      }
    }
    const std::string &name = ctx_.shared[target].decl->name.text;
    if (through.empty())
      ctx_.error(nameLoc(at), fmt::format("shared block '{}' uses itself", name));
    else
      ctx_.error(nameLoc(at), fmt::format("shared block '{}' uses itself through {}", name,
                                          quoteList(through, "and")));
  }

  Context &ctx_;
  std::vector<int> color_, path_;
};

// The walk over the shared blocks' forms: each block's state (0 not seen,
// 1 being found, 2 found), and the names an unknown first step may have
// meant, gathered once (a file of thousands of unknown names would
// otherwise gather every name again for each).
struct FormWalk {
  std::vector<int> state;
  std::optional<std::vector<std::string>> names;
};

const std::vector<std::string> &knownNames(Context &ctx, FormWalk &walk) {
  if (!walk.names) {
    std::vector<std::string> candidates = layerNames();
    for (const auto &[name, sym] : ctx.names)
      if (sym.kind != Symbol::Task)
        candidates.push_back(name);
    for (const std::string &b : ctx.blockNames(true))
      candidates.push_back(b);
    walk.names = std::move(candidates);
  }
  return *walk.names;
}

SharedInfo::Form formOf(Context &ctx, int s, FormWalk &walk) {
  std::vector<int> &state = walk.state;
  SharedInfo &info = ctx.shared[s];
  if (state[s] == 2)
    return info.form;
  if (state[s] == 1 || info.bad)
    return SharedInfo::Unknown;
  state[s] = 1;
  SharedInfo::Form form = SharedInfo::Unknown;
  if (info.decl->chain.steps.empty()) { // the parser never makes one; be safe
    info.bad = true;
    state[s] = 2;
    return form;
  }
  const ast::Expr &first = info.decl->chain.steps.front();
  const Symbol *sym =
      first.isNamed() && !layerByName(first.text) ? ctx.findSymbol(first.text) : nullptr;
  if (isCombination(first) || first.kind == ast::ExprKind::Chain) {
    form = SharedInfo::ValueForm; // its operands are checked where it is built
  } else if (!first.isNamed()) {
    ctx.error(first.loc, fmt::format("a shared block must start with an input, a shared "
                                     "value, a combination of them or a layer, got {}",
                                     describe(first)));
  } else if (layerByName(first.text) || (sym && sym->kind == Symbol::Block) ||
             (!sym && ctx.findBlock(first.text, false))) {
    form = SharedInfo::ModuleForm;
  } else if (sym && sym->kind == Symbol::Input) {
    form = SharedInfo::ValueForm;
  } else if (sym && sym->kind == Symbol::Shared) {
    form = formOf(ctx, sym->index, walk);
  } else if (sym && sym->kind == Symbol::Task) {
    ctx.error(nameLoc(first),
              fmt::format("a shared block cannot start from task '{}'", first.text));
  } else {
    ctx.error(nameLoc(first), fmt::format("unknown name '{}'{}", first.text,
                                          didYouMean(first.text, knownNames(ctx, walk))));
  }
  if (form == SharedInfo::Unknown)
    info.bad = true;
  info.form = form;
  state[s] = 2;
  return form;
}

} // namespace

void classifyShared(Context &ctx) {
  for (size_t i = 0; i < ctx.shared.size(); ++i) {
    SharedInfo &info = ctx.shared[i];
    const Symbol *sym = ctx.findSymbol(info.decl->name.text);
    info.inScope = sym && sym->kind == Symbol::Shared && sym->index == static_cast<int>(i);
    readSharing(ctx, info);
  }
  SharedCycles(ctx).run();
  FormWalk walk{std::vector<int>(ctx.shared.size(), 0), std::nullopt};
  for (size_t i = 0; i < ctx.shared.size(); ++i)
    formOf(ctx, static_cast<int>(i), walk);
}

void finishValues(Context &ctx) {
  // After an error, "never used" is more likely a consequence than news.
  bool quiet = ctx.modelHasErrors();
  for (const SharedInfo &info : ctx.shared) {
    if (!info.inScope || info.bad || quiet)
      continue;
    const ast::Ident &name = info.decl->name;
    if (!info.used)
      ctx.warning(name.loc, fmt::format("shared block '{}' is never used", name.text));
    else if (info.soft && info.consumers.size() == 1)
      ctx.warning(name.loc, fmt::format("soft-shared '{}' is used by one task only; soft "
                                        "sharing needs two or more tasks to have an effect",
                                        name.text));
  }
  // Unused blocks are checked as if some task used them, then dropped: they
  // must not add parameters to the model.
  Model &model = *ctx.model;
  size_t values = model.values.size(), modules = model.modules.size(),
         groups = model.softGroups.size();
  ctx.dry = true;
  for (size_t i = 0; i < ctx.shared.size(); ++i) {
    const SharedInfo &info = ctx.shared[i];
    if (info.used || info.bad)
      continue;
    Owner user;
    user.task = user.reader = kDryTask;
    user.what = fmt::format("shared block '{}'", info.decl->name.text);
    if (info.form == SharedInfo::ValueForm)
      useSharedValue(ctx, static_cast<int>(i), user, info.decl->name.loc);
    else
      applySharedModule(ctx, static_cast<int>(i), user, Val{}, info.decl->name.loc);
  }
  ctx.dry = false;
  model.values.resize(values);
  model.modules.resize(modules);
  model.softGroups.resize(groups);
  for (auto it = ctx.valueMemo.begin(); it != ctx.valueMemo.end();)
    it = it->second >= static_cast<int>(values) ? ctx.valueMemo.erase(it) : std::next(it);

  for (size_t i = 0; i < model.inputs.size(); ++i) {
    const Symbol *sym = ctx.findSymbol(model.inputs[i].name);
    bool inScope = sym && sym->kind == Symbol::Input && sym->index == static_cast<int>(i);
    if (inScope && !ctx.inputUsed[i] && !quiet)
      ctx.warning(sym->loc, fmt::format("input '{}' is never used", model.inputs[i].name));
  }
}

} // namespace mtl::sema
