// ConstEval.h: compile-time values: arithmetic on numbers and block parameters, booleans, strings.
#pragma once

#include "sema/SemaContext.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mtl::sema {

/// Evaluates `+ - * /` over number literals and the parameters in `env`
/// (null outside blocks). Reports what is not a number, unknown parameters,
/// division by zero and results that are not finite. Returns nullopt after
/// an error, and also, silently, when a parameter's value is not known.
std::optional<double> evalNumber(Context &ctx, const ast::Expr &e, const Env *env);

/// evalNumber for a value the generated code holds as a 32-bit float (a
/// learning rate, a weight, a scale): also reports a magnitude beyond
/// float's range, 3.4e38, which would become infinite there.
std::optional<double> evalFloat(Context &ctx, const ast::Expr &e, const Env *env);

/// evalNumber, then requires an integer in [lo, hi]: "`what` must be an
/// integer, got 2.5", "`what` must be at least 1, got 0".
std::optional<int64_t> evalInt(Context &ctx, const ast::Expr &e, const Env *env,
                               const std::string &what, int64_t lo, int64_t hi);

/// `true` or `false`; anything else is reported.
std::optional<bool> evalBool(Context &ctx, const ast::Expr &e);

/// A string literal; anything else is reported.
std::optional<std::string> evalString(Context &ctx, const ast::Expr &e);

/// True if `v` is a whole number that a double holds exactly.
bool isWhole(double v);

/// True if `v` is positive and a normal float, as the model computes with it
/// (a smaller one is 0 as a float, or a denormal that training flushes to 0).
bool isPositiveFloat(double v);
/// What isPositiveFloat accepts, for messages: "a positive float from 1.2e-38 to 3.4e+38".
std::string positiveFloatText();

} // namespace mtl::sema
