// Tasks.cpp: task kinds, fields, heads, loss/metric agreement with the kind, weights.
#include "sema/Tasks.h"

#include "sema/Args.h"
#include "sema/ConstEval.h"
#include "sema/Values.h"
#include "support/Suggest.h"

#include <algorithm>
#include <fmt/format.h>

namespace mtl::sema {
namespace {

enum Field { Head, LossField, Weight, Metrics, Auxiliary, Classes, FieldCount };
const std::vector<std::string> kFieldNames = {"head",    "loss",      "weight",
                                              "metrics", "auxiliary", "classes"};

const std::vector<Loss> kLosses = {Loss::Mse, Loss::Mae, Loss::Huber, Loss::Bce,
                                   Loss::CrossEntropy};
const std::vector<Metric> kMetrics = {Metric::Accuracy, Metric::Precision, Metric::Recall,
                                      Metric::F1,       Metric::MacroF1,   Metric::Auc,
                                      Metric::Mse,      Metric::Mae,       Metric::R2};

std::vector<Loss> lossesOf(TaskKind kind) {
  if (kind == TaskKind::Regress)
    return {Loss::Mse, Loss::Mae, Loss::Huber};
  if (kind == TaskKind::Classify)
    return {Loss::CrossEntropy};
  return {Loss::Bce};
}

/// The metrics of a kind, its default first.
std::vector<Metric> metricsOf(TaskKind kind) {
  switch (kind) {
  case TaskKind::Regress:
    return {Metric::Mse, Metric::Mae, Metric::R2};
  case TaskKind::Classify:
    return {Metric::Accuracy, Metric::MacroF1};
  default:
    return {Metric::Accuracy, Metric::Precision, Metric::Recall, Metric::F1, Metric::Auc};
  }
}

template <class T> bool contains(const std::vector<T> &v, T x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// "a binary or multilabel task": the kinds that accept something.
std::string kindsPhrase(bool regress, bool binary, bool classify, bool multilabel) {
  std::vector<std::string> k;
  if (regress)
    k.push_back("regression");
  if (binary)
    k.push_back("binary");
  if (multilabel)
    k.push_back("multilabel");
  if (classify)
    k.push_back("classify");
  std::string out = "a ";
  for (size_t i = 0; i < k.size(); ++i)
    out += (i == 0 ? "" : i + 1 == k.size() ? " or " : ", ") + k[i];
  return out + " task";
}

template <class T, class NameFn> std::string namesOf(const std::vector<T> &items, NameFn name) {
  std::vector<std::string> v;
  for (T x : items)
    v.push_back(name(x));
  return quoteList(v);
}

bool readKind(Context &ctx, const ast::Expr &e, Task &task) {
  static const std::vector<std::string> kinds = {"regress", "binary", "classify", "multilabel"};
  if (!e.isNamed()) {
    ctx.error(e.loc, fmt::format("expected a task kind (regress, binary, classify(k) or "
                                 "multilabel(k)), got {}",
                                 describe(e)));
    return false;
  }
  if (std::find(kinds.begin(), kinds.end(), e.text) == kinds.end()) {
    std::string hint = didYouMean(e.text, kinds);
    ctx.error(nameLoc(e), fmt::format("unknown task kind '{}'{}", e.text,
                                      hint.empty() ? "; use regress, binary, classify(k) or "
                                                     "multilabel(k)"
                                                   : hint));
    return false;
  }
  if (e.text == "binary") {
    task.kind = TaskKind::Binary;
    return bindArgs(ctx, e, "binary", {}).ok;
  }
  bool regress = e.text == "regress";
  BoundArgs b = bindArgs(ctx, e, e.text, {{regress ? "n" : "k", !regress}});
  std::optional<int64_t> n = 1;
  if (const ast::Expr *v = b.value(0))
    n = evalInt(ctx, *v, nullptr,
                regress                ? "the number of outputs"
                : e.text == "classify" ? "the number of classes"
                                       : "the number of labels",
                e.text == "classify" ? 2 : 1, kMaxDim);
  if (!b.ok || !n)
    return false;
  task.kind = regress                ? TaskKind::Regress
              : e.text == "classify" ? TaskKind::Classify
                                     : TaskKind::Multilabel;
  task.width = *n;
  task.classes = task.kind == TaskKind::Classify ? *n : 0;
  return true;
}

// The one value of a `key = value` field, or null (reported) if it is not one.
const ast::Expr *singleValue(Context &ctx, const ast::TaskField &f) {
  if (f.values.empty()) {
    ctx.error(f.key.loc, fmt::format("'{}' needs a value: {} = ...", f.key.text, f.key.text));
    return nullptr;
  }
  if (f.values.size() > 1)
    ctx.error(f.values[1].loc,
              fmt::format("'{}' takes one value, got {}", f.key.text, f.values.size()));
  const ast::Chain &c = f.values[0];
  if (c.steps.size() != 1) {
    ctx.error(c.steps.size() > 1 ? c.steps[1].loc : f.key.loc,
              fmt::format("'{}' takes a single value, not a chain", f.key.text));
    return nullptr;
  }
  return &c.steps[0];
}

/// `classes = [Adelie, "Gentoo", 3]`: the task's class names in id order,
/// which fix how every data file's labels are numbered.
void readClasses(Context &ctx, const ast::TaskField &f, Task &task, bool kindOk) {
  const ast::Expr *e = singleValue(ctx, f);
  if (!e)
    return;
  if (e->kind != ast::ExprKind::List) {
    ctx.error(e->loc, fmt::format("'classes' takes a list of class names, such as classes = "
                                  "[\"no\", \"yes\"]; got {}",
                                  describe(*e)));
    return;
  }
  std::vector<std::string> names;
  for (const ast::Expr &x : e->operands) {
    // -1 as a class name: labels such as -1/1 are common for binary data.
    bool negInt = x.kind == ast::ExprKind::Neg && x.operands.size() == 1 &&
                  x.operands[0].kind == ast::ExprKind::Int;
    std::string name = x.kind == ast::ExprKind::Int ? fmt::format("{}", int64_t(x.number))
                       : negInt ? fmt::format("-{}", int64_t(x.operands[0].number))
                       : x.kind == ast::ExprKind::String || x.isName() ? x.text
                                                                       : std::string();
    if (name.empty()) {
      ctx.error(x.loc, fmt::format("a class name is a name, a non-empty string or an integer; "
                                   "got {}",
                                   describe(x)));
      return;
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      ctx.error(x.loc, fmt::format("class '{}' is listed twice", name));
      return;
    }
    names.push_back(std::move(name));
  }
  if (!kindOk)
    return;
  if (task.kind == TaskKind::Classify && int64_t(names.size()) != task.classes)
    ctx.error(e->loc,
              fmt::format("task '{}' is classify({}), but 'classes' lists {} name{}", task.name,
                          task.classes, names.size(), names.size() == 1 ? "" : "s"));
  else if (task.kind == TaskKind::Binary && names.size() != 2)
    ctx.error(e->loc, fmt::format("a binary task has two classes, the one for 0 and the one for "
                                  "1; 'classes' lists {}",
                                  names.size()));
  else if (task.kind != TaskKind::Classify && task.kind != TaskKind::Binary)
    ctx.error(f.key.loc, fmt::format("'classes' suits classify and binary tasks; task '{}' is {}",
                                     task.name, taskKindText(task)));
  else
    task.classNames = std::move(names);
}

bool readLoss(Context &ctx, const ast::Expr &e, Task &task, bool kindOk) {
  unsigned before = ctx.errorsSeen;
  std::vector<std::string> names;
  for (Loss l : kLosses)
    names.push_back(lossName(l));
  auto it = e.isNamed() ? std::find(names.begin(), names.end(), e.text) : names.end();
  if (it == names.end()) {
    if (e.isNamed())
      ctx.error(nameLoc(e), fmt::format("unknown loss '{}'{}", e.text, didYouMean(e.text, names)));
    else
      ctx.error(e.loc, fmt::format("expected a loss, got {}", describe(e)));
    return false;
  }
  Loss loss = kLosses[it - names.begin()];
  if (loss == Loss::Huber) {
    BoundArgs b = bindArgs(ctx, e, "huber", {{"delta", false}});
    if (const ast::Expr *v = b.value(0))
      if (auto d = evalFloat(ctx, *v, nullptr)) {
        if (isPositiveFloat(*d))
          task.huberDelta = *d;
        else
          ctx.error(v->loc, fmt::format("huber delta must be {}, got {}", positiveFloatText(),
                                        formatNumber(*d)));
      }
  } else {
    bindArgs(ctx, e, e.text, {});
  }
  if (!kindOk || contains(lossesOf(task.kind), loss)) {
    task.loss = loss;
    return ctx.errorsSeen == before;
  }
  std::string needs = loss == Loss::Bce            ? kindsPhrase(false, true, false, true)
                      : loss == Loss::CrossEntropy ? kindsPhrase(false, false, true, false)
                                                   : kindsPhrase(true, false, false, false);
  ctx.error(nameLoc(e),
            fmt::format("loss '{}' needs {}; '{}' is {}; use {}", e.text, needs, task.name,
                        kindText(task), namesOf(lossesOf(task.kind), lossName)));
  return false;
}

bool readMetrics(Context &ctx, const ast::TaskField &f, Task &task, bool kindOk) {
  unsigned before = ctx.errorsSeen;
  std::vector<std::string> names;
  for (Metric m : kMetrics)
    names.push_back(metricName(m));
  std::vector<Metric> chosen;
  for (const ast::Chain &c : f.values) {
    if (c.steps.size() != 1) {
      ctx.error(c.steps.size() > 1 ? c.steps[1].loc : c.loc,
                "a metric is a single name, not a chain");
      continue;
    }
    const ast::Expr &e = c.steps[0];
    auto it = e.isNamed() ? std::find(names.begin(), names.end(), e.text) : names.end();
    if (it == names.end()) {
      if (e.isNamed())
        ctx.error(nameLoc(e),
                  fmt::format("unknown metric '{}'{}", e.text, didYouMean(e.text, names)));
      else
        ctx.error(e.loc, fmt::format("expected a metric, got {}", describe(e)));
      continue;
    }
    bindArgs(ctx, e, e.text, {});
    Metric m = kMetrics[it - names.begin()];
    if (kindOk && !contains(metricsOf(task.kind), m)) {
      std::string needs = kindsPhrase(
          contains(metricsOf(TaskKind::Regress), m), contains(metricsOf(TaskKind::Binary), m),
          contains(metricsOf(TaskKind::Classify), m), contains(metricsOf(TaskKind::Multilabel), m));
      ctx.error(nameLoc(e),
                fmt::format("metric '{}' needs {}; '{}' is {}; use {}", e.text, needs, task.name,
                            kindText(task), namesOf(metricsOf(task.kind), metricName)));
      continue;
    }
    if (contains(chosen, m)) {
      ctx.warning(nameLoc(e), fmt::format("metric '{}' is listed twice", e.text));
      continue;
    }
    chosen.push_back(m);
  }
  if (!chosen.empty()) // else the kind's default stays
    task.metrics = chosen;
  return ctx.errorsSeen == before;
}

void checkHead(Context &ctx, int index, const ast::Chain &chain) {
  TaskInfo &info = ctx.tasks[index];
  Task &task = ctx.model->tasks[index];
  Owner owner;
  owner.name = task.name;
  owner.loc = info.decl->loc;
  owner.modules = &info.modules;
  owner.task = owner.reader = index;
  owner.what = fmt::format("task '{}'", task.name);
  owner.startRepeat = &chain.steps.front();
  Val start = startChain(ctx, chain.steps.front(), owner, "a head");
  Val out = continueChain(ctx, chain.steps, 1, start, owner, nullptr);
  task.head = out.value;
  if (!out.flow.known || !info.kindOk)
    return;
  SourceLoc at = chain.steps.back().loc;
  if (out.flow.dtype == DType::I32) {
    ctx.error(at, fmt::format("the head of task '{}' produces i32 ids; pass them through "
                              "'embedding' and layers that end in width {}",
                              task.name, task.width));
  } else if (out.flow.shape != Shape{task.width}) {
    ctx.error(at, fmt::format("task '{}' is {} but its head produces {}; the head must end "
                              "in width {}",
                              task.name, kindText(task), formatShape(out.flow.shape), task.width))
        .note(info.decl->kind.loc,
              fmt::format("'{}' is declared {} here", task.name, kindText(task)));
  } else if (info.lossOk && (task.loss == Loss::Bce || task.loss == Loss::CrossEntropy) &&
             ctx.model->values[out.value].kind == Value::Apply) {
    const Module &m = ctx.model->modules[ctx.model->values[out.value].module];
    const Layer &last = m.layers.back();
    if (last.kind == LayerKind::Softmax || last.kind == LayerKind::Sigmoid)
      ctx.warning(last.useLoc,
                  fmt::format("the head of task '{}' ends in '{}', but loss '{}' expects "
                              "logits and applies {} itself; remove the '{}'",
                              task.name, layerName(last.kind), lossName(task.loss),
                              task.loss == Loss::Bce ? "the sigmoid" : "softmax",
                              layerName(last.kind)));
  }
}

void checkTask(Context &ctx, int index) {
  TaskInfo &info = ctx.tasks[index];
  const ast::TaskDecl &d = *info.decl;
  Task &task = ctx.model->tasks[index];
  info.kindOk = readKind(ctx, d.kind, task);
  const ast::TaskField *fields[FieldCount] = {};
  for (const ast::TaskField &f : d.fields) {
    auto it = std::find(kFieldNames.begin(), kFieldNames.end(), f.key.text);
    if (it == kFieldNames.end()) {
      ctx.error(f.key.loc, fmt::format("unknown task field '{}'{}", f.key.text,
                                       didYouMean(f.key.text, kFieldNames)));
      continue;
    }
    const ast::TaskField *&slot = fields[it - kFieldNames.begin()];
    if (slot) {
      ctx.error(f.key.loc, fmt::format("duplicate field '{}' in task '{}'", f.key.text, task.name))
          .note(slot->key.loc, "previous definition is here");
      continue;
    }
    slot = &f;
  }
  task.loss = lossesOf(task.kind).front();
  task.metrics = {metricsOf(task.kind).front()};
  if (const ast::TaskField *f = fields[LossField]) {
    info.lossOk = false;
    if (const ast::Expr *e = singleValue(ctx, *f))
      info.lossOk = readLoss(ctx, *e, task, info.kindOk);
  }
  if (const ast::TaskField *f = fields[Weight])
    if (const ast::Expr *e = singleValue(ctx, *f))
      if (auto w = evalFloat(ctx, *e, nullptr)) {
        if (*w < 0)
          ctx.error(e->loc, fmt::format("weight must be finite and non-negative, got {}",
                                        formatNumber(*w)));
        else
          task.weight = *w;
      }
  if (const ast::TaskField *f = fields[Metrics]) {
    if (f->values.empty())
      ctx.error(f->key.loc, "'metrics' needs a value: metrics = NAME, NAME...");
    info.metricsOk = !f->values.empty() && readMetrics(ctx, *f, task, info.kindOk);
  }
  if (const ast::TaskField *f = fields[Auxiliary]) {
    task.auxiliary = true;
    if (!f->values.empty())
      if (const ast::Expr *e = singleValue(ctx, *f))
        if (auto b = evalBool(ctx, *e))
          task.auxiliary = *b;
  }
  if (const ast::TaskField *f = fields[Classes])
    readClasses(ctx, *f, task, info.kindOk);
  const ast::TaskField *head = fields[Head];
  if (!head) {
    ctx.error(d.name.loc,
              fmt::format("task '{}' has no head; add 'head = INPUT -> ...'", task.name));
  } else if (head->values.empty() || head->values[0].steps.empty()) {
    ctx.error(head->key.loc, "'head' needs a value: head = INPUT -> ...");
  } else {
    if (head->values.size() > 1)
      ctx.error(head->values[1].loc,
                fmt::format("a task has one head, got {} chains", head->values.size()));
    checkHead(ctx, index, head->values[0]);
  }
}

} // namespace

void checkTasks(Context &ctx) {
  Model &model = *ctx.model;
  // All tasks exist before any head is built: soft copies are named after them.
  for (const TaskInfo &info : ctx.tasks) {
    Task t;
    t.name = info.decl->name.text;
    t.loc = info.decl->loc;
    model.tasks.push_back(t);
  }
  for (size_t i = 0; i < ctx.tasks.size(); ++i)
    checkTask(ctx, static_cast<int>(i));
}

} // namespace mtl::sema
