// ConstEval.cpp: evaluation of constant expressions, with one error per mistake.
#include "sema/ConstEval.h"

#include "support/Suggest.h"

#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace mtl::sema {

bool isWhole(double v) {
  return std::isfinite(v) && std::floor(v) == v && std::fabs(v) <= 9007199254740992.0;
}

bool isPositiveFloat(double v) { return v > 0 && std::isnormal(static_cast<float>(v)); }

std::string positiveFloatText() {
  return fmt::format("a positive float from {:.2g} to {:.2g}", std::numeric_limits<float>::min(),
                     std::numeric_limits<float>::max());
}

std::optional<double> evalNumber(Context &ctx, const ast::Expr &e, const Env *env) {
  switch (e.kind) {
  case ast::ExprKind::Number:
  case ast::ExprKind::Int:
    return e.number;
  case ast::ExprKind::Neg: {
    if (e.operands.size() != 1)
      return std::nullopt;
    auto v = evalNumber(ctx, e.operands[0], env);
    return v ? std::optional<double>(-*v) : std::nullopt;
  }
  case ast::ExprKind::Binary: {
    if (e.operands.size() != 2)
      return std::nullopt;
    // Evaluate both sides first so that an error on the right is found too.
    auto a = evalNumber(ctx, e.operands[0], env);
    auto b = evalNumber(ctx, e.operands[1], env);
    if (!a || !b)
      return std::nullopt;
    double r = 0;
    switch (e.op) {
    case '+':
      r = *a + *b;
      break;
    case '-':
      r = *a - *b;
      break;
    case '*':
      r = *a * *b;
      break;
    case '/':
      if (*b == 0) {
        ctx.error(e.operands[1].loc, "division by zero");
        return std::nullopt;
      }
      r = *a / *b;
      break;
    default:
      return std::nullopt;
    }
    if (!std::isfinite(r)) {
      ctx.error(e.loc, "arithmetic overflow: the result is not finite");
      return std::nullopt;
    }
    return r;
  }
  case ast::ExprKind::Name:
    if (env) {
      if (const std::optional<double> *v = env->find(e.text))
        return *v;
      std::vector<std::string> params;
      for (const auto &[n, v] : env->vars)
        params.push_back(n);
      ctx.error(e.loc, fmt::format("unknown parameter '{}' in block '{}'{}", e.text, env->block,
                                   didYouMean(e.text, params)));
      return std::nullopt;
    }
    ctx.error(e.loc, fmt::format("expected a number, got '{}'", e.text));
    return std::nullopt;
  default:
    ctx.error(e.loc, fmt::format("expected a number, got {}", describe(e)));
    return std::nullopt;
  }
}

std::optional<double> evalFloat(Context &ctx, const ast::Expr &e, const Env *env) {
  std::optional<double> v = evalNumber(ctx, e, env);
  if (v && std::fabs(*v) > double(std::numeric_limits<float>::max())) {
    ctx.error(e.loc, fmt::format("{} is beyond the range of the 32-bit floats the model computes "
                                 "in (at most 3.4e38 in magnitude)",
                                 formatNumber(*v)));
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> evalInt(Context &ctx, const ast::Expr &e, const Env *env,
                               const std::string &what, int64_t lo, int64_t hi) {
  auto v = evalNumber(ctx, e, env);
  if (!v)
    return std::nullopt;
  // Range first: a value too large to be a whole number exactly (beyond 2^53)
  // is out of every range, and saying so is the clearer message.
  if (std::isfinite(*v) && *v > static_cast<double>(hi)) {
    ctx.error(e.loc, fmt::format("{} must be at most {}, got {}", what, hi, formatNumber(*v)));
    return std::nullopt;
  }
  if (!isWhole(*v)) {
    ctx.error(e.loc, fmt::format("{} must be an integer, got {}", what, formatNumber(*v)));
    return std::nullopt;
  }
  if (*v < static_cast<double>(lo)) {
    ctx.error(e.loc, fmt::format("{} must be at least {}, got {}", what, lo, formatNumber(*v)));
    return std::nullopt;
  }
  return static_cast<int64_t>(*v);
}

std::optional<bool> evalBool(Context &ctx, const ast::Expr &e) {
  if (e.kind == ast::ExprKind::Bool)
    return e.boolean;
  ctx.error(e.loc, fmt::format("expected true or false, got {}", describe(e)));
  return std::nullopt;
}

std::optional<std::string> evalString(Context &ctx, const ast::Expr &e) {
  if (e.kind == ast::ExprKind::String)
    return e.text;
  ctx.error(e.loc, fmt::format("expected a string, got {}", describe(e)));
  return std::nullopt;
}

} // namespace mtl::sema
