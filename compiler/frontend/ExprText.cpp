// ExprText.cpp: printing literals and expressions so that they parse back unchanged.
#include "frontend/ExprText.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace mtl {
namespace {

// Binding strength as the grammar defines it; operands that bind less tightly
// than their context need parentheses.
int precedence(const ast::Expr &e) {
  if (e.kind == ast::ExprKind::Chain)
    return 0;
  if (e.kind != ast::ExprKind::Binary)
    return 3;
  return e.op == '*' || e.op == '/' ? 2 : 1;
}

void appendExpr(std::string &out, const ast::Expr &e);
void appendOperand(std::string &out, const ast::Expr &e, bool parens);

// A chain's steps; a step that is a chain itself keeps its parentheses
// (`(x -> dense(4)) -> relu` takes one position for the inner chain).
void appendSteps(std::string &out, const std::vector<ast::Expr> &steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (i)
      out += " -> ";
    appendOperand(out, steps[i], steps[i].kind == ast::ExprKind::Chain);
  }
}

void appendOperand(std::string &out, const ast::Expr &e, bool parens) {
  if (parens)
    out += '(';
  appendExpr(out, e);
  if (parens)
    out += ')';
}

void appendArg(std::string &out, const ast::Arg &a) {
  if (!a.name.text.empty()) {
    out += a.name.text;
    out += " = ";
  }
  appendExpr(out, a.value);
  if (a.rangeEnd) {
    out += "..";
    appendExpr(out, *a.rangeEnd);
  }
}

void appendExpr(std::string &out, const ast::Expr &e) {
  switch (e.kind) {
  case ast::ExprKind::Number:
    out += formatNumberLiteral(e.number);
    return;
  case ast::ExprKind::Int:
    out += formatIntLiteral(e.number);
    return;
  case ast::ExprKind::String:
    out += quoteString(e.text);
    return;
  case ast::ExprKind::Bool:
    out += e.boolean ? "true" : "false";
    return;
  case ast::ExprKind::Name:
    out += e.text;
    return;
  case ast::ExprKind::Call:
    out += e.text;
    out += '(';
    for (size_t i = 0; i < e.args.size(); ++i) {
      if (i)
        out += ", ";
      appendArg(out, e.args[i]);
    }
    out += ')';
    return;
  case ast::ExprKind::List:
    out += '[';
    for (size_t i = 0; i < e.operands.size(); ++i) {
      if (i)
        out += ", ";
      appendExpr(out, e.operands[i]);
    }
    out += ']';
    return;
  case ast::ExprKind::Chain:
    appendSteps(out, e.operands);
    return;
  case ast::ExprKind::Neg:
    out += '-';
    if (!e.operands.empty())
      appendOperand(out, e.operands[0], precedence(e.operands[0]) < 3);
    return;
  case ast::ExprKind::Binary:
    if (e.operands.size() != 2)
      return;
    // Left-associative: an equal-precedence operand needs parentheses on the right only.
    appendOperand(out, e.operands[0], precedence(e.operands[0]) < precedence(e));
    out += ' ';
    out += e.op;
    out += ' ';
    appendOperand(out, e.operands[1], precedence(e.operands[1]) <= precedence(e));
    return;
  }
}

} // namespace

std::string formatNumberLiteral(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (ec != std::errc())
    return "0.0";
  std::string sci(buf, end);
  if (!std::isfinite(value))
    return sci;
  // `sci` is the shortest round-trip form, "-d.ddde±XX"; rebuild it from its
  // digits so that the exponent rule, not to_chars' tie-break, picks the notation.
  std::string sign, digits;
  size_t i = 0;
  if (sci[i] == '-') {
    sign = "-";
    ++i;
  }
  for (; i < sci.size() && sci[i] != 'e'; ++i)
    if (sci[i] != '.')
      digits += sci[i];
  int exponent = i + 1 < sci.size() ? std::atoi(sci.c_str() + i + 1) : 0;
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();

  if (exponent >= 16 || exponent < -4) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1)
      out += "." + digits.substr(1);
    return out + "e" + std::to_string(exponent);
  }
  if (exponent < 0)
    return sign + "0." + std::string(-exponent - 1, '0') + digits;
  size_t intDigits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= intDigits)
    return sign + digits + std::string(intDigits - digits.size(), '0') + ".0";
  return sign + digits.substr(0, intDigits) + "." + digits.substr(intDigits);
}

std::string formatIntLiteral(double value) {
  if (!std::isfinite(value) || std::trunc(value) != value || std::fabs(value) >= 9.2e18)
    return formatNumberLiteral(value);
  return std::to_string(static_cast<long long>(value));
}

std::string quoteString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
    case '\\':
      out += "\\\\";
      break;
    case '"':
      out += "\\\"";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      out += c;
    }
  }
  return out + "\"";
}

std::string exprText(const ast::Expr &expr) {
  std::string out;
  appendExpr(out, expr);
  return out;
}

std::string argText(const ast::Arg &arg) {
  std::string out;
  appendArg(out, arg);
  return out;
}

std::string chainText(const ast::Chain &chain) {
  std::string out;
  appendSteps(out, chain.steps);
  return out;
}

} // namespace mtl
