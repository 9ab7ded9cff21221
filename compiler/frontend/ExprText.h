// ExprText.h: canonical source text of literals, expressions and chains.
//
// Shared by the formatter (which must print text that parses back to the same
// AST) and the AST printer (which shows values the way a user would write them).
#pragma once

#include "frontend/Ast.h"

#include <string>
#include <string_view>

namespace mtl {

/// A Number literal that parses back to exactly `value` and still lexes as a
/// NUMBER (never as an INT): the shortest round-trip digits, written in fixed
/// notation for exponents -4..15 (`0.001`, `1.0`) and scientific otherwise
/// (`1e-5`, `2.5e20`).
std::string formatNumberLiteral(double value);

/// An Int literal's text (`64`); falls back to formatNumberLiteral for a value
/// that is not an integer a 64-bit int can hold, which the parser never makes.
std::string formatIntLiteral(double value);

/// `text` as a string literal: quoted, with `\`, `"`, newline and tab escaped
/// (the escapes the lexer understands).
std::string quoteString(std::string_view text);

/// An expression with the fewest parentheses that keep its meaning: unary
/// minus binds tightest, then `* /`, then `+ -`, all left-associative.
std::string exprText(const ast::Expr &expr);

/// One call argument: `64`, `lr = 0.001` or `0..64`.
std::string argText(const ast::Arg &arg);

/// `a -> b(1) -> c`.
std::string chainText(const ast::Chain &chain);

} // namespace mtl
