// Combine.cpp: values that combine other values: a + b, a - b, a * b,
// number * a, a / number, concat(a, b, ...) and mix(gate, e1, e2, ...).
#include "sema/Values.h"

#include "frontend/ExprText.h"
#include "sema/ConstEval.h"

#include <fmt/format.h>

namespace mtl::sema {
namespace {

int addValue(Context &ctx, Value v) {
  ctx.model->values.push_back(std::move(v));
  return static_cast<int>(ctx.model->values.size()) - 1;
}

/// A new value of `kind` over `parts`, of shape `shape`.
Val combined(Context &ctx, const ast::Expr &e, Value::Kind kind, const std::vector<Val> &parts,
             Shape shape, double factor = 1) {
  Value v;
  v.kind = kind;
  v.loc = e.loc;
  for (const Val &p : parts)
    v.args.push_back(p.value);
  v.factor = factor;
  v.shape = shape;
  return Val{addValue(ctx, std::move(v)), Flow::of(DType::F32, std::move(shape))};
}

/// Whether `e` names anything (a value); an expression of literals is a number.
bool mentionsName(const ast::Expr &e) {
  if (e.isNamed())
    return true;
  for (const ast::Expr &o : e.operands)
    if (mentionsName(o))
      return true;
  return false;
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

Val binary(Context &ctx, const ast::Expr &e, const Owner &owner, const char *role) {
  const ast::Expr &lhs = e.operands[0], &rhs = e.operands[1];
  const bool lv = mentionsName(lhs), rv = mentionsName(rhs);
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
  auto factor = evalNumber(ctx, numberSide, nullptr);
  Val a = operand(ctx, valueSide, owner, role, ("'" + op + "'").c_str());
  if (!factor || !a.ok())
    return {};
  if (e.op == '/' && *factor == 0) {
    ctx.error(numberSide.loc, "a value divided by zero");
    return {};
  }
  return combined(ctx, e, Value::Scale, {a}, a.flow.shape, e.op == '/' ? 1 / *factor : *factor);
}

/// The positional arguments of concat/mix as values; nullopt after an error.
std::optional<std::vector<Val>> valueArgs(Context &ctx, const ast::Expr &call, const Owner &owner,
                                          const char *role, size_t least) {
  const std::string what = "'" + call.text + "'";
  if (call.args.size() < least) {
    ctx.error(call.loc, fmt::format("{} takes at least {} values, got {}", call.text, least,
                                    call.args.size()));
    return std::nullopt;
  }
  std::vector<Val> out;
  bool ok = true;
  for (const ast::Arg &a : call.args) {
    if (!a.name.text.empty() || a.rangeEnd) {
      ctx.error(a.loc,
                fmt::format("{} takes values by position, as in '{}(a, b)'", call.text, call.text));
      ok = false;
      continue;
    }
    out.push_back(operand(ctx, a.value, owner, role, what.c_str()));
    ok = ok && out.back().ok();
  }
  if (!ok)
    return std::nullopt;
  return out;
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

Val mix(Context &ctx, const ast::Expr &call, const Owner &owner, const char *role) {
  auto parts = valueArgs(ctx, call, owner, role, 3);
  if (!parts)
    return {};
  const size_t experts = parts->size() - 1;
  const Shape &gate = (*parts)[0].flow.shape, &expert = (*parts)[1].flow.shape;
  if (gate != Shape{int64_t(experts)}) {
    ctx.error(call.args[0].loc,
              fmt::format("mix's gate gives one weight per expert: {} experts need a gate of "
                          "shape [{}] (e.g. 'x -> dense({}) -> softmax'), got {}",
                          experts, experts, experts, formatShape(gate)));
    return {};
  }
  for (size_t k = 1; k < parts->size(); ++k) {
    const Shape &s = (*parts)[k].flow.shape;
    if (s.size() != 1 || s != expert) {
      ctx.error(call.args[k].loc,
                fmt::format("mix's experts must all be vectors of one shape; expert {} is {}{}", k,
                            formatShape(s),
                            s.size() != 1
                                ? " (flatten it first)"
                                : fmt::format(" and expert 1 is {}", formatShape(expert))));
      return {};
    }
  }
  Val out = combined(ctx, call, Value::Mix, *parts, expert);
  for (const ast::Arg &a : call.args)
    ctx.model->values[size_t(out.value)].argTexts.push_back(exprText(a.value));
  return out;
}

} // namespace

void combinedNames(const ast::Expr &e, std::vector<const ast::Expr *> &out) {
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
         (e.isCall() && (e.text == "concat" || e.text == "mix"));
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
  return e.text == "concat" ? concat(ctx, e, owner, role) : mix(ctx, e, owner, role);
}

} // namespace mtl::sema
