// Experiment.cpp: the `experiment { ... }` item: baselines, seeds, and the search with its folds.
#include "sema/Settings.h"

#include "sema/Args.h"
#include "sema/ConstEval.h"
#include "support/Suggest.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace mtl::sema {
namespace {

/// The task a search argument names; reports otherwise.
bool knownTask(Context &ctx, const ast::Arg &a) {
  const Symbol *sym = ctx.findSymbol(a.name.text);
  if (sym && sym->kind == Symbol::Task)
    return true;
  ctx.error(a.name.loc.valid() ? a.name.loc : a.loc,
            fmt::format("unknown task '{}' in the weights{}", a.name.text,
                        didYouMean(a.name.text, ctx.symbolNames(Symbol::Task))));
  return false;
}

/// The numbers of `[a, b, ...]` (or one number), each finite and >= 0.
std::optional<std::vector<double>> weightList(Context &ctx, const ast::Expr &e) {
  std::vector<double> out;
  for (const ast::Expr *v : listElements(e)) {
    std::optional<double> x = evalFloat(ctx, *v, nullptr);
    if (!x)
      return std::nullopt;
    if (!std::isfinite(*x) || *x < 0) {
      ctx.error(v->loc,
                fmt::format("a task's weight is finite and >= 0, got {}", formatNumber(*x)));
      return std::nullopt;
    }
    out.push_back(*x);
  }
  if (out.empty()) {
    ctx.error(e.loc, "expected at least one weight");
    return std::nullopt;
  }
  return out;
}

/// `grid(TASK = [w, ...], ...)` or `random(n, TASK = [lo, hi], ...)`.
void readWeights(Context &ctx, const ast::Expr &e, Experiment &x) {
  if (!e.isCall() || (e.text != "grid" && e.text != "random")) {
    ctx.error(e.loc, fmt::format("expected grid(TASK = [w, ...], ...) or random(n, TASK = [lo, "
                                 "hi], ...), got {}",
                                 describe(e)));
    return;
  }
  const bool random = e.text == "random";
  for (size_t i = 0; i < e.args.size(); ++i) {
    const ast::Arg &a = e.args[i];
    if (random && i == 0 && a.name.text.empty()) {
      x.randomPoints = evalInt(ctx, a.value, nullptr, "the number of points", 1, 10000).value_or(0);
      continue;
    }
    if (a.name.text.empty()) {
      ctx.error(a.loc, random ? "random(n, TASK = [lo, hi], ...): name the task of each range"
                              : "grid(TASK = [w, ...], ...): name the task of each list");
      return;
    }
    if (!knownTask(ctx, a))
      continue;
    for (const WeightChoice &c : x.weights)
      if (c.task == a.name.text) {
        ctx.error(a.name.loc, fmt::format("task '{}' is listed twice", a.name.text));
        return;
      }
    std::optional<std::vector<double>> values = weightList(ctx, a.value);
    if (!values)
      continue;
    if (random && (values->size() != 2 || (*values)[0] <= 0 || (*values)[0] > (*values)[1])) {
      ctx.error(a.value.loc, fmt::format("random draws each weight log-uniformly from [lo, hi] "
                                         "with 0 < lo <= hi; write {} = [lo, hi]",
                                         a.name.text));
      continue;
    }
    x.weights.push_back({a.name.text, std::move(*values)});
  }
  if (random && x.randomPoints == 0 && (e.args.empty() || !e.args[0].name.text.empty()))
    ctx.error(e.loc, "random(n, TASK = [lo, hi], ...): give the number of points first");
  if (e.args.empty() || (random && e.args.size() == 1))
    ctx.error(e.loc, fmt::format("{} needs at least one task's weights", e.text));
}

void readSearch(Context &ctx, const ast::SearchDecl &s, Experiment &x) {
  enum { Weights, BalanceKey, Lr };
  auto given = settingSlots(ctx, s.settings, {"weights", "balance", "lr"}, "search");
  x.search = true;
  if (const ast::Setting *w = given[Weights])
    readWeights(ctx, w->value, x);
  if (const ast::Setting *b = given[BalanceKey])
    for (const ast::Expr *e : listElements(b->value))
      if (std::optional<Balance> balance = readBalance(ctx, *e))
        x.balance.push_back(balance->text);
  if (const ast::Setting *l = given[Lr])
    for (const ast::Expr *e : listElements(l->value))
      if (std::optional<double> lr = evalFloat(ctx, *e, nullptr)) {
        if (!isPositiveFloat(*lr))
          ctx.error(e->loc, fmt::format("a learning rate is {}, got {}", positiveFloatText(),
                                        formatNumber(*lr)));
        else
          x.lr.push_back(*lr);
      }
  if (!given[Weights] && !given[BalanceKey] && !given[Lr])
    ctx.error(s.loc, "search has nothing to search; give weights, balance or lr");
  // An empty list would make a one-point "search" of the model's own setting.
  for (const ast::Setting *list : {given[BalanceKey], given[Lr]})
    if (list && listElements(list->value).empty())
      ctx.error(list->value.loc,
                fmt::format("search {} = []: list at least one {} to try, or leave {} out",
                            list->key.text, list == given[Lr] ? "learning rate" : "method",
                            list->key.text));
}

} // namespace

void checkExperiment(Context &ctx, const ast::ExperimentDecl *decl) {
  if (!decl)
    return;
  Experiment &x = ctx.model->experiment;
  x.declared = true;
  x.loc = decl->loc;
  const unsigned errorsBefore = ctx.errorsSeen;
  enum { Baselines, Seeds, Folds, MetricKey };
  auto given =
      settingSlots(ctx, decl->settings, {"baselines", "seeds", "folds", "metric"}, "experiment");
  if (const ast::Setting *s = given[Baselines]) {
    const ast::Expr &e = s->value;
    if (e.isName() && (e.text == "single_task" || e.text == "none"))
      x.singleTaskBaselines = e.text == "single_task";
    else
      ctx.error(e.loc, fmt::format("baselines is single_task or none, got {}", describe(e)));
  }
  if (const ast::Setting *s = given[Seeds])
    x.seeds = evalInt(ctx, s->value, nullptr, "seeds", 1, 1000).value_or(x.seeds);
  for (size_t i = 1; i < decl->searches.size(); ++i)
    ctx.error(decl->searches[i].loc, "an experiment has one search block")
        .note(decl->searches[0].loc, "the first is here");
  if (!decl->searches.empty())
    readSearch(ctx, decl->searches[0], x);
  for (int key : {Folds, MetricKey})
    if (given[size_t(key)] && !x.search)
      ctx.error(given[size_t(key)]->key.loc,
                fmt::format("'{}' belongs to a search (how it cross-validates and chooses); add "
                            "search {{ ... }}",
                            given[size_t(key)]->key.text));
  if (const ast::Setting *s = given[Folds]; s && x.search)
    x.folds = evalInt(ctx, s->value, nullptr, "folds", 2, 100).value_or(x.folds);
  bool metricOk = true; // a metric that did not read was reported already
  if (const ast::Setting *s = given[MetricKey]; s && x.search)
    metricOk = readMonitor(ctx, s->value, "metric", x.metric, x.maximize);
  if (x.search && metricOk && (!x.weights.empty() || !x.balance.empty()) && x.metric == "loss") {
    const ast::Setting *s = given[MetricKey];
    ctx.error(s ? s->value.loc : decl->loc,
              fmt::format("a search over task weights or balancing methods cannot choose by the "
                          "total loss, which they scale; choose by one task's metric or loss, "
                          "such as metric = {}.loss",
                          x.weights.empty() ? ctx.model->tasks[0].name : x.weights[0].task));
  }
  const TrainConfig &train = ctx.model->train;
  if (train.testFraction == 0 && train.testData.empty() && train.validateFraction == 0 &&
      train.validateData.empty())
    ctx.error(decl->loc, "an experiment scores each run on test data, or else on validation "
                         "data, and the model has neither; hold some out with `test = 0.2` (or "
                         "`validate`) in train { ... }, or name a data set");
  if (ctx.errorsSeen == errorsBefore && !x.singleTaskBaselines && x.seeds == 1 && !x.search)
    ctx.warning(decl->loc, "this experiment is one plain run; add baselines = single_task, "
                           "seeds = N or a search");
}

} // namespace mtl::sema
