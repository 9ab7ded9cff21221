// Transfer.cpp: the train block's transfer settings: init, init_map, freeze, unfreeze_after,
// lr_scale.
#include "sema/Settings.h"

#include "sema/Args.h"
#include "sema/ConstEval.h"
#include "sema/Data.h"
#include "support/Suggest.h"

#include <algorithm>
#include <fmt/format.h>
#include <string_view>

namespace mtl::sema {
namespace {

/// The names a parameter group may start with: shared values and tasks.
std::vector<std::string> groupNames(const Context &ctx) {
  std::vector<std::string> names = ctx.symbolNames(Symbol::Shared);
  for (const std::string &t : ctx.symbolNames(Symbol::Task))
    names.push_back(t);
  return names;
}

/// Checks that `head` (the part of a group before its first '.' or '*')
/// names a shared value or a task; an empty head (a pattern starting with
/// '*') names any.
bool knownGroup(Context &ctx, const std::string &head, SourceLoc loc, const char *what) {
  const Symbol *sym = ctx.findSymbol(head);
  if (head.empty() || (sym && (sym->kind == Symbol::Shared || sym->kind == Symbol::Task)))
    return true;
  std::string hint = didYouMean(head, groupNames(ctx));
  ctx.error(loc, fmt::format("{}: '{}' is not a shared value or a task{}", what, head,
                             hint.empty() ? fmt::format("; the groups are {}",
                                                        quoteList(groupNames(ctx), "and"))
                                          : hint));
  return false;
}

/// Whether `group`, a quoted pattern or a name with dots ("trunk.2.*",
/// "y.0.weight"), can name a parameter. Sema knows each layer's parameter
/// prefix ("trunk.2"), not the names lowering gives after it ("weight",
/// "running_mean"), so a group passes when it can name something under the
/// prefix of a layer that has parameters: what fails names none for sure.
bool mayNameParameters(const Context &ctx, const std::string &group) {
  // Whether `g` can match a name that starts with `t`.
  auto startFits = [](auto &self, std::string_view g, std::string_view t) -> bool {
    if (t.empty())
      return true;
    if (g.empty())
      return false;
    if (g[0] == '*')
      return self(self, g.substr(1), t) || self(self, g, t.substr(1));
    return g[0] == t[0] && self(self, g.substr(1), t.substr(1));
  };
  const bool pattern = group.find('*') != std::string::npos;
  for (const Module &m : ctx.model->modules)
    for (const Layer &l : m.layers) {
      if (l.paramPrefix.empty() || (l.paramCount() == 0 && l.kind != LayerKind::BatchNorm))
        continue;
      const std::string prefix = l.paramPrefix + ".";
      if (pattern ? startFits(startFits, group, prefix)
                  : prefix.rfind(group + ".", 0) == 0 || group.rfind(prefix, 0) == 0)
        return true;
    }
  return false;
}

/// A parameter group: a name, or a quoted pattern ("trunk.0.*"); nullopt after an error.
std::optional<std::string> readGroup(Context &ctx, const ast::Expr &e, const char *what) {
  if (e.kind != ast::ExprKind::Name && e.kind != ast::ExprKind::String) {
    ctx.error(e.loc, fmt::format("{}: expected a shared value, a task or a quoted pattern such "
                                 "as \"trunk.0.*\", got {}",
                                 what, describe(e)));
    return std::nullopt;
  }
  std::string head = e.text.substr(0, e.text.find_first_of(".*"));
  if (!knownGroup(ctx, head, e.loc, what))
    return std::nullopt;
  // A group that names no parameter is refused when the run starts; say so
  // now (unless an error already left the model's layers incomplete).
  if (!ctx.modelHasErrors() && !head.empty() && head.size() < e.text.size() &&
      !mayNameParameters(ctx, e.text))
    ctx.warning(e.loc, fmt::format("{}: \"{}\" names no parameter of model '{}' (a run refuses "
                                   "it); parameters are named VALUE.POSITION.NAME, where "
                                   "positions count every layer, and only layers with "
                                   "parameters have any",
                                   what, e.text, ctx.model->name));
  return e.text;
}

/// "MODEL <- CHECKPOINT" with one '*' on both sides or on neither.
void readInitRule(Context &ctx, const ast::Expr &e, TrainConfig &cfg) {
  auto rule = evalString(ctx, e);
  if (!rule)
    return;
  size_t arrow = rule->find("<-");
  auto trimmed = [](std::string s) {
    s.erase(0, s.find_first_not_of(' '));
    s.erase(s.find_last_not_of(' ') + 1);
    return s;
  };
  std::string model = arrow == std::string::npos ? "" : trimmed(rule->substr(0, arrow));
  std::string from = arrow == std::string::npos ? "" : trimmed(rule->substr(arrow + 2));
  auto stars = [](const std::string &s) { return std::count(s.begin(), s.end(), '*'); };
  if (model.empty() || from.empty() || stars(model) > 1 || stars(model) != stars(from)) {
    ctx.error(e.loc, fmt::format("init_map: expected \"MODEL <- CHECKPOINT\" with one '*' on "
                                 "both sides or on neither, such as \"trunk.* <- encoder.*\", "
                                 "got \"{}\"",
                                 *rule));
    return;
  }
  if (knownGroup(ctx, model.substr(0, model.find_first_of(".*")), e.loc, "init_map"))
    cfg.initMap.push_back(*rule);
}

} // namespace

void checkTransfer(Context &ctx, const TransferSettings &given) {
  TrainConfig &cfg = ctx.model->train;
  if (const ast::Setting *s = given.init) {
    if (auto path = evalString(ctx, s->value)) {
      if (path->empty())
        ctx.error(s->value.loc, "init: a path must not be empty");
      else
        cfg.init = resolvePath(ctx.sources.name(s->value.loc.file), *path);
      cfg.initLoc = s->value.loc;
    }
  }
  if (const ast::Setting *s = given.initMap) {
    if (!given.init)
      ctx.error(s->key.loc, "init_map renames the tensors of 'init', which is not given");
    for (const ast::Expr *e : listElements(s->value))
      readInitRule(ctx, *e, cfg);
  }
  if (const ast::Setting *s = given.freeze)
    for (const ast::Expr *e : listElements(s->value))
      if (auto group = readGroup(ctx, *e, "freeze"))
        cfg.freeze.push_back(*group);
  if (const ast::Setting *s = given.unfreezeAfter) {
    if (!given.freeze)
      ctx.error(s->key.loc, "unfreeze_after needs 'freeze': it says when frozen groups start "
                            "to train");
    if (auto n = evalInt(ctx, s->value, nullptr, "unfreeze_after", 1, kMaxDim)) {
      cfg.unfreezeAfter = *n;
      const auto [epochs, source] = runEpochs(ctx);
      if (*n >= epochs)
        ctx.error(s->value.loc, fmt::format("unfreeze_after = {} leaves nothing to train "
                                            "unfrozen in the run's {} epoch{} ({})",
                                            *n, epochs, epochs == 1 ? "" : "s", source));
    }
  }
  if (const ast::Setting *s = given.lrScale) {
    for (const ast::Expr *e : listElements(s->value)) {
      if (!e->isCall() || e->args.size() != 1 || !e->args[0].name.text.empty()) {
        ctx.error(e->loc, fmt::format("lr_scale: expected GROUP(SCALE), such as trunk(0.1), "
                                      "got {}",
                                      describe(*e)));
        continue;
      }
      ast::Expr name = *e;
      name.kind = ast::ExprKind::Name;
      name.args.clear();
      auto group = readGroup(ctx, name, "lr_scale");
      auto scale = evalFloat(ctx, e->args[0].value, nullptr);
      if (scale && !(*scale >= 0 && *scale <= 1e6)) {
        ctx.error(
            e->args[0].value.loc,
            fmt::format("lr_scale: a scale must lie in [0, 1e6], got {}", formatNumber(*scale)));
        continue;
      }
      if (group && scale)
        cfg.lrScales.emplace_back(*group, *scale);
    }
  }
}

} // namespace mtl::sema
