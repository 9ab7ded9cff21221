// Train.cpp: training settings, the data sets training uses, and early stopping.
#include "sema/Settings.h"

#include "sema/Args.h"
#include "sema/ConstEval.h"
#include "support/Suggest.h"

#include <algorithm>
#include <fmt/format.h>

namespace mtl::sema {
namespace {

enum Key {
  Epochs,
  Batch,
  Seed,
  Shuffle,
  DataKey,
  Validate,
  Test,
  EarlyStopKey,
  Init,
  InitMap,
  Freeze,
  UnfreezeAfter,
  LrScale,
  ScheduleKey,
  ClipNorm,
  SamplingKey,
  KeyCount
};
const std::vector<std::string> kKeys = {"epochs",   "batch",    "seed",      "shuffle",
                                        "data",     "validate", "test",      "early_stop",
                                        "init",     "init_map", "freeze",    "unfreeze_after",
                                        "lr_scale", "schedule", "clip_norm", "sampling"};

bool readEarlyStop(Context &ctx, const ast::Expr &e, EarlyStop &es, const ast::Expr **monitorExpr) {
  if (!e.isNamed() || e.text != "early_stop") {
    ctx.error(e.loc, fmt::format("expected early_stop(patience = N, monitor = ..., "
                                 "min_delta = X), got {}",
                                 describe(e)));
    return false;
  }
  BoundArgs b = bindArgs(ctx, e, "early_stop",
                         {{"patience", false}, {"monitor", false}, {"min_delta", false}});
  if (const ast::Expr *v = b.value(0))
    es.patience = evalInt(ctx, *v, nullptr, "patience", 1, kMaxDim).value_or(es.patience);
  if (const ast::Expr *v = b.value(1))
    if (readMonitor(ctx, *v, "monitor", es.monitor, es.maximize))
      *monitorExpr = v;
  if (const ast::Expr *v = b.value(2))
    if (auto x = evalNumber(ctx, *v, nullptr)) {
      if (*x < 0)
        ctx.error(v->loc, fmt::format("min_delta must be non-negative, got {}", formatNumber(*x)));
      else
        es.minDelta = *x;
    }
  es.enabled = true;
  return true;
}

} // namespace

namespace {

/// A monitored TASK.X that the validation data sets do not label would be a
/// value validation never computes: early stopping could never follow it.
void checkMonitorValidated(Context &ctx, const ast::Expr &at, const std::string &monitor) {
  const TrainConfig &cfg = ctx.model->train;
  const std::string task = monitor.substr(0, monitor.find('.'));
  const Symbol *sym = ctx.findSymbol(task);
  if (!sym || sym->kind != Symbol::Task || cfg.validateData.empty())
    return; // held out of the training data, which binds every task (checkDataCoverage)
  std::vector<std::string> sets;
  for (int d : cfg.validateData) {
    const DataInfo &info = ctx.data[size_t(d)];
    if (info.synthetic || info.unresolved || info.badSource || info.tasks.count(sym->index))
      return;
    sets.push_back(info.decl->name.text);
  }
  ctx.error(at.loc, fmt::format("early_stop monitors '{}', but the validation data ({}) does not "
                                "bind task '{}', so validation never scores it; bind its labels "
                                "there ({} = column(...)), or monitor a task it scores",
                                monitor, quoteList(sets, "and"), task, task))
      .note(ctx.model->tasks[size_t(sym->index)].loc, fmt::format("'{}' is declared here", task));
}

} // namespace

bool readMonitor(Context &ctx, const ast::Expr &e, const char *what, std::string &monitor,
                 bool &maximize) {
  if (e.kind != ast::ExprKind::Name && e.kind != ast::ExprKind::String) {
    ctx.error(e.loc, fmt::format("{} must be 'loss', TASK.loss or TASK.METRIC, got {}", what,
                                 describe(e)));
    return false;
  }
  if (e.text == "loss") {
    monitor = "loss";
    maximize = false;
    return true;
  }
  size_t dot = e.text.find('.');
  if (dot == std::string::npos || e.text.find('.', dot + 1) != std::string::npos) {
    ctx.error(e.loc,
              fmt::format("{} must be 'loss', TASK.loss or TASK.METRIC, got '{}'", what, e.text));
    return false;
  }
  std::string task = e.text.substr(0, dot), metric = e.text.substr(dot + 1);
  const Symbol *sym = ctx.findSymbol(task);
  if (!sym || sym->kind != Symbol::Task) {
    ctx.error(e.loc, fmt::format("unknown task '{}' in {}{}", task, what,
                                 didYouMean(task, ctx.symbolNames(Symbol::Task))));
    return false;
  }
  const Task &t = ctx.model->tasks[sym->index];
  if (!ctx.tasks[sym->index].metricsOk || !ctx.tasks[sym->index].kindOk)
    return false; // its metrics were reported already; don't guess
  std::vector<std::string> reported = {"loss"};
  for (Metric m : t.metrics)
    reported.push_back(metricName(m));
  if (std::find(reported.begin(), reported.end(), metric) == reported.end()) {
    std::string hint = didYouMean(metric, reported);
    ctx.error(e.loc,
              fmt::format("task '{}' does not report '{}'{}", task, metric,
                          hint.empty() ? "; it reports " + quoteList(reported, "and") : hint));
    return false;
  }
  monitor = e.text;
  maximize = higherIsBetter(metric);
  return true;
}

std::pair<int64_t, std::string> runEpochs(const Context &ctx) {
  if (ctx.runEpochs)
    return {*ctx.runEpochs, fmt::format("--epochs {}", *ctx.runEpochs)};
  const TrainConfig &cfg = ctx.model->train;
  return {cfg.epochs, fmt::format("epochs = {}", cfg.epochs)};
}

void checkTrain(Context &ctx, const ast::TrainDecl *decl, const ast::ModelDecl &model) {
  TrainConfig &cfg = ctx.model->train;
  std::vector<const ast::Setting *> given(KeyCount, nullptr);
  if (decl) {
    cfg.loc = decl->loc;
    given = settingSlots(ctx, decl->settings, kKeys, "train");
  }
  if (auto *s = given[Epochs])
    cfg.epochs = evalInt(ctx, s->value, nullptr, "epochs", 1, kMaxDim).value_or(cfg.epochs);
  if (auto *s = given[Batch]) {
    cfg.batch = evalInt(ctx, s->value, nullptr, "batch", 1, kMaxDim).value_or(cfg.batch);
    // batch_norm normalises a batch by its own statistics: one row has a
    // variance of 0, and the running variance it keeps decays towards 0.
    const Layer *norm = nullptr;
    for (const Module &mod : ctx.model->modules)
      for (const Layer &l : mod.layers)
        norm = !norm && l.kind == LayerKind::BatchNorm ? &l : norm;
    if (cfg.batch == 1 && norm)
      ctx.warning(s->value.loc, "batch = 1 trains batch_norm on one row at a time: each batch's "
                                "variance is 0, and the running variance that evaluation uses "
                                "decays towards 0; train with batches of several rows")
          .note(norm->loc, "batch_norm is here");
  }
  if (auto *s = given[Seed])
    cfg.seed = static_cast<uint64_t>(
        evalInt(ctx, s->value, nullptr, "seed", 0, int64_t(1) << 53).value_or(0));
  if (auto *s = given[Shuffle])
    cfg.shuffle = evalBool(ctx, s->value).value_or(true);

  const bool validateOk = checkTrainData(
      ctx, {given[DataKey], given[Validate], given[Test], given[SamplingKey]}, decl, model);
  if (auto *s = given[EarlyStopKey]) {
    const ast::Expr *monitor = nullptr;
    bool read = readEarlyStop(ctx, s->value, cfg.earlyStop, &monitor);
    bool validation = cfg.validateFraction > 0 || !cfg.validateData.empty();
    if (read && !validation && validateOk)
      ctx.error(s->key.loc, "early_stop needs validation data; set 'validate' to a fraction "
                            "or a data set");
    if (read && monitor && validateOk && cfg.earlyStop.monitor != "loss")
      checkMonitorValidated(ctx, *monitor, cfg.earlyStop.monitor);
  }
  checkTransfer(ctx,
                {given[Init], given[InitMap], given[Freeze], given[UnfreezeAfter], given[LrScale]});
  checkSchedule(ctx, given[ScheduleKey], given[ClipNorm],
                cfg.validateFraction > 0 || !cfg.validateData.empty() || !validateOk);
  checkDataCoverage(ctx);
}

} // namespace mtl::sema
