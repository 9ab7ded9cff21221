// Settings.cpp: balance method, regularization terms and the optimizer.
#include "sema/Settings.h"

#include "sema/Args.h"
#include "sema/ConstEval.h"
#include "support/Suggest.h"

#include <algorithm>
#include <fmt/format.h>
#include <string_view>

namespace mtl::sema {
namespace {

// The callee name of `e` if it is one of `names`; reports otherwise.
std::optional<std::string> pick(Context &ctx, const ast::Expr &e, const char *what,
                                const std::vector<std::string> &names) {
  if (!e.isNamed()) {
    const bool vowel = std::string_view("aeiou").find(what[0]) != std::string_view::npos;
    ctx.error(e.loc, fmt::format("expected {} {}, got {}", vowel ? "an" : "a", what, describe(e)));
    return std::nullopt;
  }
  if (std::find(names.begin(), names.end(), e.text) != names.end())
    return e.text;
  std::string hint = didYouMean(e.text, names);
  ctx.error(nameLoc(e), fmt::format("unknown {} '{}'{}", what, e.text,
                                    hint.empty() ? "; use " + quoteList(names) : hint));
  return std::nullopt;
}

struct BalanceMethod {
  const char *name;
  BalanceKind kind;
  const char *arg; ///< its one argument; null: none
  double defaultArg;
};

// The runtime parses the same names (runtime/src/balance/Method.cpp); a
// codegen test checks that every text written here parses there.
constexpr BalanceMethod kBalanceMethods[] = {
    {"static", BalanceKind::Static, nullptr, 0},
    {"dwa", BalanceKind::Dwa, "temperature", 2.0},
    {"rlw", BalanceKind::Rlw, nullptr, 0},
    {"uncertainty", BalanceKind::Uncertainty, nullptr, 0},
    {"famo", BalanceKind::Famo, nullptr, 0},
    {"gradnorm", BalanceKind::GradNorm, "alpha", 1.5},
    {"pcgrad", BalanceKind::PcGrad, nullptr, 0},
    {"mgda", BalanceKind::Mgda, nullptr, 0},
    {"cagrad", BalanceKind::CaGrad, "c", 0.5},
    {"imtl", BalanceKind::Imtl, nullptr, 0},
    {"aligned_mtl", BalanceKind::AlignedMtl, nullptr, 0},
    {"nash_mtl", BalanceKind::NashMtl, nullptr, 0},
};
// Whether a module with parameters lies on the way to two tasks' heads: the
// parameters whose gradient a method on the tasks' gradients combines
// (lowering's sharedParams).
bool tasksShareParameters(const Model &m) {
  std::vector<int> readers(m.modules.size(), 0);
  for (const Task &t : m.tasks) {
    std::vector<bool> seenValue(m.values.size(), false), seenModule(m.modules.size(), false);
    std::vector<int> todo{t.head};
    while (!todo.empty()) {
      int v = todo.back();
      todo.pop_back();
      if (v < 0 || seenValue[size_t(v)])
        continue;
      seenValue[size_t(v)] = true;
      const Value &value = m.values[size_t(v)];
      if (int k = value.module; k >= 0 && !seenModule[size_t(k)]) {
        seenModule[size_t(k)] = true;
        if (m.modules[size_t(k)].paramCount() > 0 && ++readers[size_t(k)] == 2)
          return true;
      }
      todo.push_back(value.arg);
      todo.insert(todo.end(), value.args.begin(), value.args.end());
    }
  }
  return false;
}

void checkBalance(Context &ctx, const ast::BalanceDecl *d) {
  if (!d)
    return;
  if (std::optional<Balance> balance = readBalance(ctx, d->method)) {
    ctx.model->balance = *balance;
    ctx.model->balance.loc = d->loc;
  }
}

void checkTerm(Context &ctx, const ast::RegTerm &term) {
  Regularizer r;
  r.loc = term.loc;
  bool ok = true;
  if (auto name = pick(ctx, term.penalty, "regularizer", {"l1", "l2"})) {
    r.kind = *name == "l1" ? Regularizer::L1 : Regularizer::L2;
    BoundArgs b = bindArgs(ctx, term.penalty, *name, {{"lambda", true}});
    ok = b.ok;
    if (const ast::Expr *v = b.value(0)) {
      auto lambda = evalFloat(ctx, *v, nullptr);
      if (lambda && *lambda < 0)
        ctx.error(v->loc, fmt::format("regularization strength must be finite and "
                                      "non-negative, got {}",
                                      formatNumber(*lambda)));
      ok = ok && lambda && *lambda >= 0;
      r.lambda = lambda.value_or(0);
    }
  } else {
    ok = false;
  }
  for (const ast::Ident &t : term.targets) {
    const Symbol *sym = ctx.findSymbol(t.text);
    if (!sym) {
      std::vector<std::string> names = ctx.symbolNames(Symbol::Shared);
      for (const std::string &n : ctx.symbolNames(Symbol::Task))
        names.push_back(n);
      ctx.error(t.loc, fmt::format("unknown shared block or task '{}'{}", t.text,
                                   didYouMean(t.text, names)));
      ok = false;
      continue;
    }
    if (sym->kind == Symbol::Input || sym->kind == Symbol::Block) {
      ctx.error(t.loc, fmt::format("'{}' is {}; regularize names shared blocks and tasks", t.text,
                                   sym->kind == Symbol::Input ? "an input" : "a block"));
      ok = false;
      continue;
    }
    const std::vector<int> *mods = nullptr;
    if (sym->kind == Symbol::Task) {
      mods = &ctx.tasks[sym->index].modules;
    } else {
      const SharedInfo &info = ctx.shared[sym->index];
      if (!info.used) // reported as never used; it has no parameters in the model
        continue;
      mods = &info.modules;
    }
    bool any = false;
    for (int m : *mods)
      any = any || ctx.model->modules[m].paramCount() > 0;
    if (!any)
      ctx.warning(t.loc, fmt::format("'{}' has no parameters of its own to regularize", t.text));
    r.modules.insert(r.modules.end(), mods->begin(), mods->end());
  }
  std::sort(r.modules.begin(), r.modules.end());
  r.modules.erase(std::unique(r.modules.begin(), r.modules.end()), r.modules.end());
  // An empty list means "every parameter": a term whose targets own nothing is dropped.
  if (ok && (term.targets.empty() || !r.modules.empty()))
    ctx.model->regularizers.push_back(r);
}

void checkOptimizer(Context &ctx, const ast::OptimizerDecl *d) {
  if (!d)
    return;
  Optimizer &opt = ctx.model->optimizer;
  opt.loc = d->loc;
  const ast::Expr &e = d->optimizer;
  auto name = pick(ctx, e, "optimizer", {"sgd", "adam", "adamw"});
  if (!name)
    return;
  std::vector<ParamSpec> params;
  if (*name == "sgd") {
    opt.kind = OptimizerKind::Sgd;
    params = {{"lr", true}, {"momentum", false}};
  } else {
    opt.kind = *name == "adam" ? OptimizerKind::Adam : OptimizerKind::AdamW;
    params = {{"lr", false}, {"beta1", false}, {"beta2", false}, {"eps", false}};
    if (opt.kind == OptimizerKind::AdamW) {
      params.push_back({"weight_decay", false});
      opt.weightDecay = 0.01;
    }
  }
  BoundArgs b = bindArgs(ctx, e, *name, params);
  for (size_t i = 0; i < params.size(); ++i) {
    const ast::Expr *v = b.value(i);
    if (!v)
      continue;
    auto x = evalFloat(ctx, *v, nullptr);
    if (!x)
      continue;
    const std::string &p = params[i].name;
    bool unit = p == "momentum" || p == "beta1" || p == "beta2";
    bool positive = p == "lr" || p == "eps";
    if (unit && !(*x >= 0 && *x < 1))
      ctx.error(v->loc, fmt::format("{} must be in [0, 1), got {}", p, formatNumber(*x)));
    else if (positive && !(*x > 0))
      ctx.error(v->loc, fmt::format("{} must be positive, got {}", p, formatNumber(*x)));
    else if (positive && !isPositiveFloat(*x))
      ctx.error(v->loc,
                fmt::format("{} must be {}, got {}", p, positiveFloatText(), formatNumber(*x)));
    else if (p == "weight_decay" && *x < 0)
      ctx.error(v->loc, fmt::format("weight_decay must be non-negative, got {}", formatNumber(*x)));
    else
      (p == "lr"         ? opt.lr
       : p == "momentum" ? opt.momentum
       : p == "beta1"    ? opt.beta1
       : p == "beta2"    ? opt.beta2
       : p == "eps"      ? opt.eps
                         : opt.weightDecay) = *x;
  }
}

} // namespace

std::optional<Balance> readBalance(Context &ctx, const ast::Expr &e) {
  std::vector<std::string> names;
  for (const BalanceMethod &m : kBalanceMethods)
    names.push_back(m.name);
  auto name = pick(ctx, e, "balance method", names);
  if (!name)
    return std::nullopt;
  const BalanceMethod *method = nullptr;
  for (const BalanceMethod &m : kBalanceMethods)
    if (*name == m.name)
      method = &m;
  const Model &m = *ctx.model;
  const bool headsBuilt =
      std::all_of(m.tasks.begin(), m.tasks.end(), [](const Task &t) { return t.head >= 0; });
  if (Balance{method->kind}.combinesGradients() && !m.tasks.empty() && headsBuilt &&
      (m.tasks.size() < 2 || !tasksShareParameters(m))) {
    ctx.error(
        e.loc,
        fmt::format("balance '{}' combines the tasks' gradients on the parameters they "
                    "share, and model '{}' has {}; balance it on the losses (static, "
                    "dwa, rlw, uncertainty or famo)",
                    method->kind == BalanceKind::Mgda && e.isCall() && !e.args.empty()
                        ? std::string("mgda(rep)")
                        : *name,
                    m.name,
                    m.tasks.size() < 2 ? "one task" : "no parameter that two tasks' heads use"));
    return std::nullopt;
  }
  Balance balance;
  if (method->kind == BalanceKind::Mgda && e.isCall() && !e.args.empty()) {
    // mgda(rep): MGDA-UB on the shared representation; a word, not a number.
    const ast::Arg &a = e.args[0];
    if (e.args.size() > 1 || !a.name.text.empty() || !a.value.isName() || a.value.text != "rep") {
      ctx.error(a.loc, fmt::format("mgda takes no argument (the shared parameters' gradients) "
                                   "or `rep` (the shared representation's), got {}",
                                   e.args.size() > 1 ? "several" : describe(a.value)));
      return std::nullopt;
    }
    balance.kind = BalanceKind::MgdaRep;
    balance.text = "mgda(rep)";
    return balance;
  }
  std::vector<ParamSpec> params;
  if (method->arg)
    params.push_back({method->arg, false});
  BoundArgs b = bindArgs(ctx, e, *name, params);
  double arg = method->defaultArg;
  if (const ast::Expr *v = method->arg ? b.value(0) : nullptr) {
    auto x = evalFloat(ctx, *v, nullptr);
    if (!x)
      return std::nullopt;
    // cagrad(c = 0) is the average gradient, gradnorm(alpha = 0) equal norms;
    // a denormal is 0 while training (DWA's temperature fell back to 2).
    bool zeroOk = method->kind == BalanceKind::CaGrad || method->kind == BalanceKind::GradNorm;
    if (!(zeroOk && *x == 0) && !isPositiveFloat(*x)) {
      ctx.error(v->loc, fmt::format("{} must be {}{}, got {}", method->arg, zeroOk ? "0 or " : "",
                                    positiveFloatText(), formatNumber(*x)));
      return std::nullopt;
    }
    arg = *x;
  }
  if (!b.ok)
    return std::nullopt;
  balance.kind = method->kind;
  balance.param = arg;
  balance.text = method->arg ? fmt::format("{}({} = {})", method->name, method->arg, arg)
                             : std::string(method->name);
  return balance;
}

void checkSettings(Context &ctx, const ModelDecls &decls) {
  checkBalance(ctx, decls.balance);
  for (const ast::RegularizeDecl *d : decls.regularize)
    for (const ast::RegTerm &t : d->terms)
      checkTerm(ctx, t);
  checkOptimizer(ctx, decls.optimizer);
}

} // namespace mtl::sema
