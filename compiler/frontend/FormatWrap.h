// FormatWrap.h: expressions broken over lines where one line would pass the column limit.
#pragma once

#include "frontend/Ast.h"

#include <string>

namespace mtl::format {

/// `chain` as exprText would print it when it fits in `limit` columns,
/// starting at column `column` with `reserve` characters still to follow it
/// on its last line; otherwise broken after the commas of the calls (and
/// lists) that do not fit, each further argument on a line of its own,
/// aligned under the first:
///
///     mix(each_task(in -> gate(task_experts + shared_experts)),
///         each_task(repeat(task_experts, in -> expert)))
///
/// Continuation lines carry their indentation (spaces from column 0). What
/// cannot be broken (a name, a binary operation) stays whole, past the limit.
std::string wrappedChain(const ast::Chain &chain, size_t column, size_t limit, size_t reserve = 0);
/// One expression, as wrappedChain lays out each step.
std::string wrappedExpr(const ast::Expr &expr, size_t column, size_t limit, size_t reserve = 0);

} // namespace mtl::format
