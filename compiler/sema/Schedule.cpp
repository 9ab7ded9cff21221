// Schedule.cpp: the train block's optimisation settings: the learning-rate schedule and clipping.
#include "sema/Settings.h"

#include "sema/Args.h"
#include "sema/ConstEval.h"
#include "support/Suggest.h"

#include <fmt/format.h>

namespace mtl::sema {
namespace {

/// One argument of a schedule: its name, whether it is an integer, its range.
struct ScheduleArg {
  const char *name;
  bool integer;
  double lo, hi;
  bool openLo; ///< lo itself is outside the range
};

struct ScheduleForm {
  const char *name;
  std::vector<ScheduleArg> args;
};

} // namespace

void checkSchedule(Context &ctx, const ast::Setting *schedule, const ast::Setting *clipNorm,
                   bool validation) {
  TrainConfig &cfg = ctx.model->train;
  if (clipNorm)
    if (auto x = evalFloat(ctx, clipNorm->value, nullptr)) {
      if (!(*x > 0 && std::isfinite(*x)))
        ctx.error(clipNorm->value.loc,
                  fmt::format("clip_norm must be a positive number, got {}", formatNumber(*x)));
      else
        cfg.clipNorm = *x;
    }
  if (!schedule)
    return;
  const std::vector<ScheduleForm> forms = {
      {"constant", {}},
      {"cosine", {{"warmup", true, 0, 1e9, false}}},
      {"step", {{"every", true, 1, 1e9, false}, {"gamma", false, 0, 1, true}}},
      {"plateau", {{"patience", true, 0, 1e9, false}, {"factor", false, 0, 1, true}}}};
  const ast::Expr &e = schedule->value;
  const ScheduleForm *form = nullptr;
  std::vector<std::string> names;
  for (const ScheduleForm &f : forms) {
    names.push_back(f.name);
    if (e.isNamed() && e.text == f.name)
      form = &f;
  }
  if (!form) {
    std::string hint = e.isNamed() ? didYouMean(e.text, names) : "";
    ctx.error(e.loc,
              fmt::format("unknown schedule {}{}", e.isNamed() ? "'" + e.text + "'" : describe(e),
                          hint.empty() ? "; the schedules are " + quoteList(names, "and") : hint));
    return;
  }
  std::vector<ParamSpec> params;
  for (const ScheduleArg &a : form->args)
    params.push_back({a.name, false});
  BoundArgs bound = bindArgs(ctx, e, form->name, params);
  if (!bound.ok)
    return;
  std::vector<std::string> given;
  for (size_t i = 0; i < form->args.size(); ++i) {
    const ScheduleArg &a = form->args[i];
    const ast::Expr *v = bound.value(i);
    if (!v)
      continue;
    std::optional<double> x = a.integer ? [&]() -> std::optional<double> {
      auto n = evalInt(ctx, *v, nullptr, a.name, int64_t(a.lo), int64_t(a.hi));
      return n ? std::optional<double>(double(*n)) : std::nullopt;
    }()
        : evalNumber(ctx, *v, nullptr);
    if (!x)
      return;
    if (!a.integer && !((a.openLo ? *x > a.lo : *x >= a.lo) && *x <= a.hi)) {
      ctx.error(v->loc, fmt::format("{}'s {} must lie in ({}, {}], got {}", form->name, a.name,
                                    formatNumber(a.lo), formatNumber(a.hi), formatNumber(*x)));
      return;
    }
    if (std::string(a.name) == "warmup") {
      const auto [epochs, source] = runEpochs(ctx);
      if (*x >= double(epochs)) {
        ctx.error(v->loc, fmt::format("warmup = {} leaves no epoch after it in the run's {} "
                                      "epoch{} ({}); warm up for fewer epochs or train for more",
                                      formatNumber(*x), epochs, epochs == 1 ? "" : "s", source));
        return;
      }
    }
    given.push_back(fmt::format("{} = {}", a.name, formatNumber(*x)));
  }
  if (std::string(form->name) == "plateau" && !validation) {
    ctx.error(e.loc, "plateau follows the validation loss (or early_stop's monitor) and needs "
                     "validation data; set 'validate' to a fraction or a data set");
    return;
  }
  cfg.schedule = given.empty() ? std::string(form->name)
                               : fmt::format("{}({})", form->name, fmt::join(given, ", "));
}

} // namespace mtl::sema
