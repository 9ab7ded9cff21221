// DataTargets.cpp: a data binding against its target: selection width and modifiers.
#include "sema/Data.h"

#include "sema/ConstEval.h"
#include "support/Suggest.h"

#include <fmt/format.h>

#include <algorithm>

namespace mtl::sema {
namespace {

const char *modifierText(ast::Modifier::Kind kind) {
  switch (kind) {
  case ast::Modifier::Standardize:
    return "'standardize'";
  case ast::Modifier::Scale:
    return "'scale(...)'";
  case ast::Modifier::As:
    return "'as class'";
  case ast::Modifier::In:
    return "'in [...]'";
  case ast::Modifier::Unknown:
    break;
  }
  return "?";
}

} // namespace

void checkBindingTarget(Context &ctx, const ast::Binding &ab, DataBinding &b,
                        std::optional<int64_t> count) {
  const Model &model = *ctx.model;
  std::optional<int64_t> width;
  std::string desc;
  bool f32Input = false, kindOk = false;
  TaskKind kind = TaskKind::Regress;
  if (!b.isTask) {
    const Input &in = model.inputs[b.index];
    if (ctx.inputFlows[b.index].known)
      width = elementCount(in.shape);
    f32Input = in.dtype == DType::F32;
    desc =
        fmt::format("input '{}' ({}{})", in.name, f32Input ? "f32" : "i32", formatShape(in.shape));
  } else {
    const Task &t = model.tasks[b.index];
    kindOk = ctx.tasks[b.index].kindOk;
    kind = t.kind;
    if (kindOk)
      width = kind == TaskKind::Binary || kind == TaskKind::Classify ? 1 : t.width;
    desc = fmt::format("task '{}' ({})", t.name, kindText(t));
  }
  // A class target converted with 'as class' or 'in [...]' reads one column;
  // the modifier's own check below says so more precisely.
  bool converted =
      b.isTask && kindOk && (kind == TaskKind::Classify || kind == TaskKind::Binary) &&
      std::any_of(ab.modifiers.begin(), ab.modifiers.end(), [](const ast::Modifier &m) {
        return m.kind == ast::Modifier::As || m.kind == ast::Modifier::In;
      });
  if (count && width && *count != *width && !converted)
    ctx.error(ab.source.loc, fmt::format("the selection gives {} value{} but {} needs {}", *count,
                                         *count == 1 ? "" : "s", desc, *width));

  const ast::Modifier *given[4] = {};
  for (const ast::Modifier &m : ab.modifiers) {
    if (m.kind == ast::Modifier::Unknown)
      continue; // reported with the binding, whatever its target
    const ast::Modifier *&slot = given[m.kind];
    if (slot) {
      std::string text = m.kind == ast::Modifier::As ? fmt::format("'as {}'", m.asName.text)
                                                     : modifierText(m.kind);
      ctx.error(m.loc, fmt::format("{} is given twice", text)).note(slot->loc, "first given here");
      continue;
    }
    slot = &m;
    if (m.kind == ast::Modifier::Standardize || m.kind == ast::Modifier::Scale) {
      bool allowed = b.isTask ? !kindOk || kind == TaskKind::Regress : f32Input;
      if (!allowed)
        ctx.error(m.loc, b.isTask ? fmt::format("{} applies to inputs and regression targets; "
                                                "'{}' is {}",
                                                modifierText(m.kind), b.target,
                                                kindText(model.tasks[b.index]))
                                  : fmt::format("{} does not apply to i32 input '{}': ids "
                                                "are used as they are",
                                                modifierText(m.kind), b.target));
      const ast::Modifier *other =
          given[m.kind == ast::Modifier::Scale ? ast::Modifier::Standardize : ast::Modifier::Scale];
      if (other)
        ctx.error(m.loc, "use either 'standardize' or 'scale(...)', not both")
            .note(other->loc, "the other one is here");
      if (m.kind == ast::Modifier::Standardize) {
        b.standardize = true;
      } else if (!m.values.empty()) {
        if (auto v = evalFloat(ctx, m.values[0], nullptr)) {
          if (*v == 0)
            ctx.error(m.values[0].loc, "scale must not be zero");
          else
            b.scale = *v;
        }
      }
      continue;
    }
    bool isAs = m.kind == ast::Modifier::As;
    if (isAs && m.asName.text == "category") {
      if (b.isTask)
        ctx.error(m.loc, fmt::format("'as category' applies to i32 inputs (ids for an embedding); "
                                     "task labels take 'as class'"));
      else if (f32Input)
        ctx.error(m.loc, fmt::format("'as category' applies to i32 inputs (ids for an embedding); "
                                     "'{}' is an f32 input",
                                     b.target));
      else
        b.asCategory = true;
      continue;
    }
    if (isAs && m.asName.text != "class") {
      std::string hint = didYouMean(m.asName.text, {"class", "category"});
      ctx.error(m.asName.loc,
                fmt::format("unknown conversion '{}'{}", m.asName.text,
                            hint.empty() ? "; the conversions are 'as class' (task labels) and "
                                           "'as category' (i32 inputs)"
                                         : hint));
      continue;
    }
    bool allowed =
        isAs ? b.isTask && (!kindOk || kind == TaskKind::Classify || kind == TaskKind::Binary)
             : b.isTask && (!kindOk || kind == TaskKind::Binary);
    if (!allowed)
      ctx.error(m.loc, fmt::format("{} applies to {}; '{}' is {}{}", modifierText(m.kind),
                                   isAs ? "classify and binary targets" : "binary targets",
                                   b.target, b.isTask ? kindText(model.tasks[b.index]) : "an input",
                                   isAs && !b.isTask && !f32Input
                                       ? "; i32 inputs read text values with 'as category'"
                                       : ""));
    else if (count && *count != 1)
      ctx.error(m.loc,
                fmt::format("{} needs exactly one column, got {}", modifierText(m.kind), *count));
    const ast::Modifier *other = given[isAs ? ast::Modifier::In : ast::Modifier::As];
    if (other)
      ctx.error(m.loc, "use either 'as class' or 'in [...]', not both")
          .note(other->loc, "the other one is here");
    if (isAs) {
      b.asClass = true;
      continue;
    }
    for (const ast::Expr &v : m.values)
      if (auto x = evalNumber(ctx, v, nullptr))
        b.inSet.push_back(*x);
  }
}

} // namespace mtl::sema
