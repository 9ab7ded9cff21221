// Combine.cpp: values that combine other values: a + b, a - b, a * b,
// number * a, a / number, concat(a, b, ...), stack(a, b, ...),
// select(stack, i) and repeat(n, chain); the helpers every combination uses (Combining.h).
// Experts.cpp has the ones that weigh experts: mix and attend.
#include "sema/Combining.h"

#include "frontend/ExprText.h"
#include "sema/ConstEval.h"

#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <limits>

namespace mtl::sema {

int addValue(Context &ctx, Value v) {
  for (int a : v.args)
    v.perReader = v.perReader || ctx.model->values[size_t(a)].perReader;
  ctx.model->values.push_back(std::move(v));
  return static_cast<int>(ctx.model->values.size()) - 1;
}

Val combined(Context &ctx, const ast::Expr &e, Value::Kind kind, const std::vector<Val> &parts,
             Shape shape, double factor, bool sameMix) {
  Value v;
  v.kind = kind;
  v.loc = e.loc;
  for (const Val &p : parts)
    v.args.push_back(p.value);
  v.factor = factor;
  v.shape = shape;
  const Flow flow = Flow::of(DType::F32, std::move(shape));
  if ((kind == Value::Mix && !sameMix) || kind == Value::Select)
    return Val{addValue(ctx, std::move(v)), flow};
  auto [it, fresh] = ctx.valueMemo.insert({{kind, -1, -1, v.args, factor}, -1});
  if (fresh)
    it->second = addValue(ctx, std::move(v));
  return Val{it->second, flow};
}

/// A combination's operand as a value: f32 (ids must be embedded first).
Val operand(Context &ctx, const ast::Expr &e, const Owner &owner, const char *role,
            const char *what) {
  Val v = startChain(ctx, e, owner, role);
  if (v.flow.known && v.flow.dtype != DType::F32) {
    ctx.error(e.loc, fmt::format("{} takes f32 values, and {} is i32 ids; embed them first "
                                 "('{} -> embedding(VOCAB, DIM)')",
                                 what, describe(e), e.isNamed() ? e.text : "ids"));
    return {};
  }
  return v;
}

/// What gate telemetry calls a mix's argument: a name as written, what makes
/// layers (a chain, repeat, each_task) by the prefix its layers get (taken
/// before it is built), anything else as written.
std::string argName(const ast::Expr &e, const Owner &owner) {
  if (e.kind == ast::ExprKind::Chain ||
      (e.isCall() && (e.text == "repeat" || e.text == "each_task")))
    return owner.next();
  return exprText(e);
}

/// The positional arguments of concat/mix as values, from argument `from`
/// on, and if `names` is given what telemetry calls each; nullopt after an error.
std::optional<std::vector<Val>> valueArgs(Context &ctx, const ast::Expr &call, const Owner &owner,
                                          const char *role, size_t least, size_t from,
                                          std::vector<std::string> *names) {
  const std::string what = "'" + call.text + "'";
  if (call.args.size() < least) {
    ctx.error(call.loc, fmt::format("{} takes at least {} values, got {}", call.text, least,
                                    call.args.size()));
    return std::nullopt;
  }
  std::vector<Val> out;
  bool ok = true;
  for (size_t k = from; k < call.args.size(); ++k) {
    const ast::Arg &a = call.args[k];
    if (!a.name.text.empty() || a.rangeEnd) {
      ctx.error(a.loc,
                fmt::format("{} takes values by position, as in '{}(a, b)'", call.text, call.text));
      ok = false;
      continue;
    }
    if (names)
      names->push_back(argName(a.value, owner));
    out.push_back(operand(ctx, a.value, owner, role, what.c_str()));
    ok = ok && out.back().ok();
  }
  if (!ok)
    return std::nullopt;
  return out;
}

namespace {

/// Whether `e` names anything (a value); an expression of literals and a
/// block's parameters (`env`) is a number.
bool mentionsName(const ast::Expr &e, const Env *env) {
  if (e.isNamed())
    return !(env && e.isName() && env->find(e.text));
  for (const ast::Expr &o : e.operands)
    if (mentionsName(o, env))
      return true;
  return false;
}

Val binary(Context &ctx, const ast::Expr &e, const Owner &owner, const char *role) {
  const ast::Expr &lhs = e.operands[0], &rhs = e.operands[1];
  const bool lv = mentionsName(lhs, owner.env), rv = mentionsName(rhs, owner.env);
  const std::string op(1, e.op);
  if (lv && rv) {
    if (e.op == '/') {
      ctx.error(e.loc, "'/' divides a value by a number only; two values combine with "
                       "'+', '-' and '*'");
      return {};
    }
    Val a = operand(ctx, lhs, owner, role, ("'" + op + "'").c_str());
    Val b = operand(ctx, rhs, owner, role, ("'" + op + "'").c_str());
    if (!a.ok() || !b.ok())
      return {};
    if (a.flow.shape != b.flow.shape) {
      ctx.error(e.loc, fmt::format("'{}' combines values of the same shape, element by element; "
                                   "got {} and {}",
                                   op, formatShape(a.flow.shape), formatShape(b.flow.shape)));
      return {};
    }
    return combined(ctx, e,
                    e.op == '+'   ? Value::Add
                    : e.op == '-' ? Value::Sub
                                  : Value::Mul,
                    {a, b}, a.flow.shape);
  }
  // A value scaled by a number: number * value, value * number, value / number.
  const ast::Expr &valueSide = lv ? lhs : rhs, &numberSide = lv ? rhs : lhs;
  if (e.op == '+' || e.op == '-' || (e.op == '/' && !lv)) {
    ctx.error(e.loc, fmt::format("'{}' needs {}; a number scales a value with '*' (or '/' "
                                 "after the value), as in '0.5 * a'",
                                 op, e.op == '/' ? "a value before it" : "a value on each side"));
    return {};
  }
  auto number = evalNumber(ctx, numberSide, owner.env);
  Val a = operand(ctx, valueSide, owner, role, ("'" + op + "'").c_str());
  if (!number || !a.ok())
    return {};
  if (e.op == '/' && *number == 0) {
    ctx.error(numberSide.loc, "a value divided by zero");
    return {};
  }
  // The factor the model multiplies by must fit a float: 1e39, or / 1e-39.
  const double factor = e.op == '/' ? 1 / *number : *number;
  if (std::fabs(factor) > double(std::numeric_limits<float>::max())) {
    const std::string scaling =
        e.op == '/' ? fmt::format("dividing by {} scales by {}, which is", formatNumber(*number),
                                  fmt::format("{:.3g}", factor))
                    : fmt::format("scaling by {} is", fmt::format("{:.3g}", factor));
    ctx.error(numberSide.loc, fmt::format("{} beyond the range of the 32-bit floats the model "
                                          "computes in (at most 3.4e38 in magnitude)",
                                          scaling));
    return {};
  }
  return combined(ctx, e, Value::Scale, {a}, a.flow.shape, factor);
}

Val concat(Context &ctx, const ast::Expr &call, const Owner &owner, const char *role) {
  auto parts = valueArgs(ctx, call, owner, role, 2);
  if (!parts)
    return {};
  const Shape &first = (*parts)[0].flow.shape;
  Shape out = first;
  for (size_t k = 0; k < parts->size(); ++k) {
    const Shape &s = (*parts)[k].flow.shape;
    const bool sameLead =
        !s.empty() && s.size() == first.size() && std::equal(s.begin(), s.end() - 1, first.begin());
    if (first.empty() || !sameLead) {
      ctx.error(call.args[k].loc,
                fmt::format("concat joins values along their last dimension, so their other "
                            "dimensions must match; argument {} is {} and the first is {}",
                            k + 1, formatShape(s), formatShape(first)));
      return {};
    }
    if (k > 0)
      out.back() += s.back();
  }
  return combined(ctx, call, Value::Concat, *parts, out);
}

/// Values of one shape stacked along a new first dimension.
Val stack(Context &ctx, const ast::Expr &call, const Owner &owner, const char *role) {
  auto parts = valueArgs(ctx, call, owner, role, 2);
  if (!parts)
    return {};
  const Shape &first = (*parts)[0].flow.shape;
  for (size_t k = 1; k < parts->size(); ++k)
    if ((*parts)[k].flow.shape != first) {
      ctx.error(call.args[k].loc,
                fmt::format("stack's values must all have one shape; argument {} is {} and the "
                            "first is {}",
                            k + 1, formatShape((*parts)[k].flow.shape), formatShape(first)));
      return {};
    }
  Shape out{int64_t(parts->size())};
  out.insert(out.end(), first.begin(), first.end());
  return combined(ctx, call, Value::Stack, *parts, out);
}

/// `select(s, i)`: expert i of a stack s [k, ...], counted from 0.
Val select(Context &ctx, const ast::Expr &call, const Owner &owner, const char *role) {
  if (call.args.size() != 2 || !call.args[0].name.text.empty() || !call.args[1].name.text.empty() ||
      call.args[0].rangeEnd || call.args[1].rangeEnd) {
    ctx.error(call.loc, "select takes a stack and the index of one of its experts, by position, "
                        "as in 'select(experts, 0)'");
    return {};
  }
  Val s = operand(ctx, call.args[0].value, owner, role, "'select'");
  if (!s.ok())
    return {};
  const Shape &shape = s.flow.shape;
  if (shape.size() < 2) {
    ctx.error(call.args[0].loc,
              fmt::format("select picks an expert of a stack ([k, n], from stack or repeat); "
                          "{} is {}",
                          describe(call.args[0].value), formatShape(shape)));
    return {};
  }
  auto index = evalInt(ctx, call.args[1].value, owner.env, "select's index", 0, shape[0] - 1);
  if (!index)
    return {};
  Val out = combined(ctx, call, Value::Select, {s}, Shape(shape.begin() + 1, shape.end()));
  ctx.model->values[size_t(out.value)].index = *index;
  return out;
}

/// `repeat(n, x -> expert)`: n copies of a chain, each with layers of its
/// own, stacked: [n, shape]. The copies are named under one position of the
/// owner, as a ModuleList's ("<prefix>.<p>.<j>.<k>"), or take the owner's
/// positions when the repeat starts a head or shared value ("experts.<j>.<k>").
Val repeat(Context &ctx, const ast::Expr &call, const Owner &owner, const char *role) {
  constexpr int64_t kMaxCopies = 64;
  const bool shapeOk = call.args.size() == 2 && call.args[0].name.text.empty() &&
                       call.args[1].name.text.empty() && !call.args[0].rangeEnd &&
                       !call.args[1].rangeEnd;
  if (!shapeOk) {
    ctx.error(call.loc, "repeat takes a count and a chain by position, as in "
                        "'repeat(4, x -> dense(16) -> relu)'");
    return {};
  }
  auto n = evalInt(ctx, call.args[0].value, owner.env, "repeat's count", 1, kMaxCopies);
  const ast::Expr &chain = call.args[1].value;
  if (chain.kind != ast::ExprKind::Chain) {
    ctx.error(chain.loc,
              fmt::format("repeat copies the layers of a chain, and {} has none; write the "
                          "value and the layers to copy, as in 'repeat(4, x -> dense(16) -> "
                          "relu)'",
                          describe(chain)));
    return {};
  }
  if (!n)
    return {};
  const Owner mine = &call == owner.startRepeat ? owner : nestedOwner(owner);
  std::vector<Val> copies;
  for (int64_t k = 0; k < *n; ++k) {
    copies.push_back(operand(ctx, chain, mine, role, "'repeat'"));
    if (!copies.back().ok())
      return {};
  }
  Shape out{*n};
  out.insert(out.end(), copies[0].flow.shape.begin(), copies[0].flow.shape.end());
  return combined(ctx, call, Value::Stack, copies, out);
}

} // namespace

void combinedNames(const ast::Expr &e, std::vector<const ast::Expr *> &out) {
  if (e.kind == ast::ExprKind::Chain) {
    for (const ast::Expr &step : e.operands)
      combinedNames(step, out);
    return;
  }
  if (!isCombination(e)) {
    if (e.isNamed())
      out.push_back(&e);
    return;
  }
  for (const ast::Expr &o : e.operands)
    combinedNames(o, out);
  for (const ast::Arg &a : e.args)
    combinedNames(a.value, out);
}

bool isCombination(const ast::Expr &e) {
  return e.kind == ast::ExprKind::Binary || e.kind == ast::ExprKind::Neg ||
         (e.isCall() && (e.text == "concat" || e.text == "mix" || e.text == "stack" ||
                         e.text == "repeat" || e.text == "learned" || e.text == "attend" ||
                         e.text == "select" || e.text == "each_task"));
}

Val combineValues(Context &ctx, const ast::Expr &e, const Owner &owner, const char *role) {
  if (e.kind == ast::ExprKind::Binary)
    return binary(ctx, e, owner, role);
  if (e.kind == ast::ExprKind::Neg) {
    Val a = operand(ctx, e.operands[0], owner, role, "'-'");
    if (!a.ok())
      return {};
    return combined(ctx, e, Value::Scale, {a}, a.flow.shape, -1);
  }
  if (e.text == "concat")
    return concat(ctx, e, owner, role);
  if (e.text == "stack")
    return stack(ctx, e, owner, role);
  if (e.text == "repeat")
    return repeat(ctx, e, owner, role);
  if (e.text == "attend")
    return attend(ctx, e, owner, role);
  if (e.text == "select")
    return select(ctx, e, owner, role);
  if (e.text == "each_task")
    return eachTask(ctx, e, owner, role);
  if (e.text == "learned") {
    ctx.error(e.loc, "learned(...) is a gate of learned weights, used as mix's first "
                     "argument, as in 'mix(learned(0.9, 0.1), a, b)'");
    return {};
  }
  return mix(ctx, e, owner, role);
}

} // namespace mtl::sema
