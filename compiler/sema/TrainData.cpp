// TrainData.cpp: the data sets a model trains, validates and tests on, how batches sample several,
// and what each must bind.
#include "sema/Settings.h"

#include "sema/Args.h"
#include "sema/ConstEval.h"
#include "support/Suggest.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <set>

namespace mtl::sema {
namespace {

std::vector<std::string> dataSetNames(const Context &ctx) {
  std::vector<std::string> names;
  for (const auto &[name, index] : ctx.dataNames)
    names.push_back(name);
  return names;
}

/// A data set named by `e` (a name or a string); -1 after reporting.
int dataSet(Context &ctx, const ast::Expr &e) {
  if (e.kind != ast::ExprKind::Name && e.kind != ast::ExprKind::String) {
    ctx.error(e.loc, fmt::format("expected the name of a data set, got {}", describe(e)));
    return -1;
  }
  auto it = ctx.dataNames.find(e.text);
  if (it != ctx.dataNames.end())
    return it->second;
  ctx.error(e.loc,
            fmt::format("unknown data set '{}'{}", e.text, didYouMean(e.text, dataSetNames(ctx))));
  return -1;
}

/// `NAME` or `[NAME, ...]`: data sets, each listed once; empty after an error.
std::vector<int> dataSets(Context &ctx, const ast::Expr &e, const std::string &key) {
  const std::vector<const ast::Expr *> items = listElements(e);
  if (items.empty()) {
    ctx.error(e.loc, fmt::format("{} = [] names no data set", key));
    return {};
  }
  std::vector<int> out;
  bool ok = true;
  for (const ast::Expr *x : items) {
    const int index = dataSet(ctx, *x);
    if (index >= 0 && std::find(out.begin(), out.end(), index) != out.end()) {
      ctx.error(x->loc, fmt::format("data set '{}' is listed twice", x->text));
      ok = false;
    }
    ok = ok && index >= 0;
    out.push_back(index);
  }
  return ok ? out : std::vector<int>{};
}

/// `validate = ...` or `test = ...`: data sets, or a fraction of the
/// training data held out.
void heldOut(Context &ctx, const ast::Setting &s, const std::vector<int> &trainData,
             std::vector<int> &data, double &fraction) {
  const ast::Expr &v = s.value;
  const std::string &key = s.key.text;
  if (v.kind == ast::ExprKind::Name || v.kind == ast::ExprKind::String ||
      v.kind == ast::ExprKind::List) {
    data = dataSets(ctx, v, key);
    for (int d : data)
      if (std::find(trainData.begin(), trainData.end(), d) != trainData.end()) {
        const std::string &name = ctx.model->data[size_t(d)].name;
        ctx.error(v.loc, fmt::format("{} names the training data set '{}'; hold out a fraction of "
                                     "it instead, such as {} = 0.2",
                                     key, name, key));
        data.clear();
        return;
      }
  } else if (auto x = evalNumber(ctx, v, nullptr)) {
    if (*x >= 0 && *x < 1)
      fraction = *x;
    else
      ctx.error(v.loc, fmt::format("{} must be a fraction in [0, 1) or a data set, got {}", key,
                                   formatNumber(*x)));
  }
}

/// `sampling = round_robin | proportional | temperature(T)`: its canonical text, or "" after an
/// error.
std::string readSampling(Context &ctx, const ast::Expr &e) {
  const std::vector<std::string> names = {"round_robin", "proportional", "temperature"};
  if (e.isName() && (e.text == "round_robin" || e.text == "proportional"))
    return e.text;
  if (e.isNamed() && e.text == "temperature") {
    BoundArgs b = bindArgs(ctx, e, "temperature", {{"t", true}});
    const ast::Expr *v = b.value(0);
    if (!v)
      return "";
    auto t = evalNumber(ctx, *v, nullptr);
    if (!t)
      return "";
    if (!(*t > 0 && std::isfinite(*t))) {
      ctx.error(v->loc, fmt::format("the temperature must be a finite number > 0, got {}",
                                    formatNumber(*t)));
      return "";
    }
    return fmt::format("temperature({})", formatNumber(*t));
  }
  const std::string hint = e.isNamed() ? didYouMean(e.text, names) : "";
  ctx.error(e.loc,
            fmt::format("unknown sampling {}{}", e.isNamed() ? "'" + e.text + "'" : describe(e),
                        hint.empty() ? "; use round_robin, proportional or temperature(T)" : hint));
  return "";
}

/// The inputs that value `v` reads, through its modules and combinations.
void inputsRead(const Model &m, int v, std::set<int> &seen, std::set<int> &inputs) {
  if (v < 0 || !seen.insert(v).second)
    return;
  const Value &value = m.values[size_t(v)];
  if (value.kind == Value::InputRef)
    inputs.insert(value.input);
  else if (value.kind == Value::Apply)
    inputsRead(m, value.arg, seen, inputs);
  for (int a : value.args)
    inputsRead(m, a, seen, inputs);
}

/// Every input that a task bound in data set `index` reads is bound there too.
void checkTaskInputs(Context &ctx, int index) {
  const DataInfo &info = ctx.data[size_t(index)];
  if (info.synthetic || info.unresolved || info.badSource)
    return; // synthetic data makes everything; an unknown target or source was reported
  const Model &m = *ctx.model;
  std::set<int> reported;
  for (int t : info.tasks) {
    std::set<int> seen, inputs;
    inputsRead(m, m.tasks[size_t(t)].head, seen, inputs);
    for (int i : inputs)
      if (!info.inputs.count(i) && reported.insert(i).second)
        ctx.error(info.decl->name.loc,
                  fmt::format("data set '{}' does not bind input '{}', which task '{}' reads",
                              info.decl->name.text, m.inputs[size_t(i)].name,
                              m.tasks[size_t(t)].name))
            .note(m.inputs[size_t(i)].loc,
                  fmt::format("'{}' is declared here", m.inputs[size_t(i)].name));
  }
}

/// The one data set a model trains on binds every input and task.
void checkCovers(Context &ctx, int index) {
  const DataInfo &info = ctx.data[size_t(index)];
  if (info.synthetic || info.unresolved || info.badSource)
    return;
  const std::string &name = info.decl->name.text;
  for (const auto &[n, sym] : ctx.names) {
    bool isInput = sym.kind == Symbol::Input, isTask = sym.kind == Symbol::Task;
    if ((isInput && !info.inputs.count(sym.index)) || (isTask && !info.tasks.count(sym.index)))
      ctx.error(info.decl->name.loc, fmt::format("data set '{}' does not bind {} '{}'", name,
                                                 isInput ? "input" : "task", n))
          .note(sym.loc, fmt::format("'{}' is declared here", n));
  }
}

/// Several training data sets: every task is bound in one, each binds a
/// task, and one at most reads an input 'as category'.
void checkSeveral(Context &ctx, const std::vector<int> &train) {
  const Model &m = *ctx.model;
  std::vector<std::string> names;
  for (int d : train) {
    const DataInfo &info = ctx.data[size_t(d)];
    names.push_back(m.data[size_t(d)].name);
    if (info.unresolved || info.badSource)
      return;
    if (!info.synthetic && info.tasks.empty())
      ctx.error(info.decl->name.loc,
                fmt::format("data set '{}' binds no task, so training on it would train nothing; "
                            "bind a task's labels in it, or leave it out of 'data'",
                            info.decl->name.text));
  }
  for (size_t t = 0; t < m.tasks.size(); ++t) {
    bool bound = std::any_of(train.begin(), train.end(), [&](int d) {
      return ctx.data[size_t(d)].synthetic || ctx.data[size_t(d)].tasks.count(int(t));
    });
    if (!bound)
      ctx.error(m.train.dataLoc,
                fmt::format("task '{}' is bound in none of the training data sets ({}); bind its "
                            "labels in the one that has them ({} = column(...))",
                            m.tasks[t].name, quoteList(names, "and"), m.tasks[t].name))
          .note(m.tasks[t].loc, fmt::format("'{}' is declared here", m.tasks[t].name));
  }
  std::vector<int> categoryOwner(m.inputs.size(), -1);
  for (int d : train)
    for (const DataBinding &b : m.data[size_t(d)].bindings) {
      if (b.isTask || !b.asCategory)
        continue;
      int &owner = categoryOwner[size_t(b.index)];
      if (owner >= 0)
        ctx.error(b.loc, fmt::format("input '{}' is read 'as category' in training data sets '{}' "
                                     "and '{}'; its vocabulary comes from one data set, so read it "
                                     "as category in one of them only",
                                     m.inputs[size_t(b.index)].name, m.data[size_t(owner)].name,
                                     m.data[size_t(d)].name));
      else
        owner = d;
    }
}

/// Validation or test data sets (`what`: "validate", "test") that label no
/// task would score every task on no rows: a loss of 0, the same each epoch.
void checkLabelsSomething(Context &ctx, const ast::Setting &s, const std::vector<int> &sets,
                          const char *what) {
  for (int d : sets) {
    const DataInfo &info = ctx.data[size_t(d)];
    if (info.synthetic || info.unresolved || info.badSource || !info.tasks.empty())
      continue;
    const Model &m = *ctx.model;
    SourceLoc at = s.value.loc; // the name in a list, if it is one
    for (const ast::Expr *e : listElements(s.value))
      if (e->isName() && e->text == info.decl->name.text)
        at = e->loc;
    ctx.error(at, fmt::format(
                      "data set '{}' binds no task, so it has nothing to {}: every task's "
                      "loss on it would be 0; bind a task's labels in it ({} = column(...)), "
                      "or {} on another data set",
                      info.decl->name.text, what, m.tasks.empty() ? "TASK" : m.tasks[0].name, what))
        .note(info.decl->name.loc, fmt::format("'{}' is declared here", info.decl->name.text));
  }
}

} // namespace

bool checkTrainData(Context &ctx, const DataSettings &given, const ast::TrainDecl *decl,
                    const ast::ModelDecl &model) {
  TrainConfig &cfg = ctx.model->train;
  cfg.dataLoc = decl ? decl->loc : model.name.loc;
  if (auto *s = given.data) {
    cfg.dataLoc = s->value.loc;
    cfg.trainData = dataSets(ctx, s->value, "data");
  } else if (ctx.dataNames.count("train")) {
    cfg.trainData = {ctx.dataNames.at("train")};
  } else if (ctx.dataNames.size() == 1) {
    cfg.trainData = {ctx.dataNames.begin()->second};
  } else if (ctx.dataNames.size() > 1) {
    ctx.error(decl ? decl->loc : model.name.loc,
              fmt::format("the model has {} data sets and none is named 'train'; choose the one "
                          "to train on with 'train {{ data = NAME }}' (or several: data = [A, B])",
                          ctx.dataNames.size()));
  }
  bool validateOk = true; // no validate, or one without errors
  if (auto *s = given.validate) {
    unsigned before = ctx.errorsSeen;
    heldOut(ctx, *s, cfg.trainData, cfg.validateData, cfg.validateFraction);
    checkLabelsSomething(ctx, *s, cfg.validateData, "validate");
    validateOk = ctx.errorsSeen == before;
  }
  if (auto *s = given.test) {
    heldOut(ctx, *s, cfg.trainData, cfg.testData, cfg.testFraction);
    checkLabelsSomething(ctx, *s, cfg.testData, "test");
  }
  if (cfg.testFraction > 0 && cfg.validateFraction + cfg.testFraction >= 1)
    ctx.error(given.test->value.loc,
              fmt::format("validate ({}) and test ({}) hold out all of the training data; "
                          "together they must stay below 1",
                          formatNumber(cfg.validateFraction), formatNumber(cfg.testFraction)));
  if (auto *s = given.sampling) {
    const std::string text = readSampling(ctx, s->value);
    if (!text.empty())
      cfg.sampling = text;
    if (!text.empty() && cfg.trainData.size() == 1)
      ctx.warning(s->key.loc, fmt::format("sampling has no effect: the model trains on one data "
                                          "set ('{}'); it decides how batches draw from several "
                                          "(data = [A, B])",
                                          ctx.model->data[size_t(cfg.trainData[0])].name));
  }
  return validateOk;
}

/// A batch draws from one training data set: a method that combines the
/// gradients of the tasks a batch labels has nothing to combine when each
/// data set labels one task, and gradnorm compares the rates of all tasks
/// on the batches that label them all.
void warnBalanceOverData(Context &ctx, const std::vector<int> &train) {
  const Model &m = *ctx.model;
  const Balance &b = m.balance;
  if (!b.combinesGradients() || !b.loc.valid())
    return;
  size_t most = 0; // tasks the most generous data set labels
  for (int d : train) {
    const DataInfo &info = ctx.data[size_t(d)];
    if (info.unresolved || info.badSource)
      return;
    most = std::max(most, info.synthetic ? m.tasks.size() : info.tasks.size());
  }
  if (b.kind == BalanceKind::GradNorm && most < m.tasks.size())
    ctx.warning(b.loc, fmt::format("balance '{}' moves its weights on batches that label every "
                                   "task, and no training data set labels all {} (a batch draws "
                                   "from one data set): the weights stay 1, as static's",
                                   b.text, m.tasks.size()));
  else if (b.kind != BalanceKind::GradNorm && most < 2)
    ctx.warning(b.loc, fmt::format("balance '{}' combines the gradients of the tasks a batch "
                                   "labels, and each training data set labels one task (a batch "
                                   "draws from one data set): it trains as static does; a "
                                   "loss-based method (dwa, uncertainty, famo) balances tasks "
                                   "with data of their own",
                                   b.text));
}

void checkDataCoverage(Context &ctx) {
  const TrainConfig &cfg = ctx.model->train;
  if (cfg.trainData.size() == 1)
    checkCovers(ctx, cfg.trainData[0]); // every input and task
  if (cfg.trainData.size() > 1) {
    checkSeveral(ctx, cfg.trainData);
    warnBalanceOverData(ctx, cfg.trainData);
  }
  // Every other data set (validation and test data, those only `eval --data`
  // or `predict --like` read) binds what its tasks read.
  for (int d = 0; d < int(ctx.data.size()); ++d)
    if (cfg.trainData.size() != 1 || d != cfg.trainData[0])
      checkTaskInputs(ctx, d);
}

} // namespace mtl::sema
