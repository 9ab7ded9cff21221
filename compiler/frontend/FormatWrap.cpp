// FormatWrap.cpp: breaking long expressions after the commas of their calls.
#include "frontend/FormatWrap.h"

#include "frontend/ExprText.h"

namespace mtl::format {
namespace {

class Wrapper {
public:
  explicit Wrapper(size_t limit) : limit_(limit) {}

  // The steps of a chain, joined by " -> ", from `column` (a step that is a
  // chain itself in parentheses). A step breaks where what must follow it
  // on its line would pass the limit: the next step up to where that one
  // can break (its name and parenthesis), or all of it when it cannot.
  std::string steps(const std::vector<ast::Expr> &steps, size_t column, size_t reserve) const {
    std::vector<size_t> after(steps.size(), reserve);
    for (size_t i = steps.size(); i-- > 1;)
      after[i - 1] =
          4 + (breaks(steps[i]) ? steps[i].text.size() + 1 : exprText(steps[i]).size() + after[i]);
    std::string out;
    for (size_t i = 0; i < steps.size(); ++i) {
      if (i)
        out += " -> ";
      if (steps[i].kind == ast::ExprKind::Chain) {
        std::string inner =
            this->steps(steps[i].operands, lastColumn(out, column) + 1, after[i] + 1);
        out += '(';
        out += inner;
        out += ')';
      } else {
        out += expr(steps[i], lastColumn(out, column), after[i]);
      }
    }
    return out;
  }

  std::string expr(const ast::Expr &e, size_t column, size_t reserve) const;

private:
  // Whether expr() can break `e`: a call or list with something in it.
  static bool breaks(const ast::Expr &e) {
    return (e.kind == ast::ExprKind::Call && !e.args.empty()) ||
           (e.kind == ast::ExprKind::List && !e.operands.empty());
  }

  // The column after `text`, which started at `column`.
  static size_t lastColumn(const std::string &text, size_t column) {
    size_t newline = text.rfind('\n');
    return newline == std::string::npos ? column + text.size() : text.size() - newline - 1;
  }

  // A call argument: a range stays whole, a named one breaks after "name = ".
  std::string arg(const ast::Arg &a, size_t column, size_t reserve) const {
    if (a.rangeEnd)
      return argText(a);
    std::string name = a.name.text.empty() ? "" : a.name.text + " = ";
    return name + expr(a.value, column + name.size(), reserve);
  }

  size_t limit_;
};

std::string Wrapper::expr(const ast::Expr &e, size_t column, size_t reserve) const {
  const std::string one = exprText(e);
  if (column + one.size() + reserve <= limit_)
    return one;
  if (e.kind == ast::ExprKind::Chain)
    return steps(e.operands, column, reserve);
  if (e.kind == ast::ExprKind::Call && !e.args.empty()) {
    std::string out = e.text + "(";
    const size_t at = column + out.size();
    for (size_t i = 0; i < e.args.size(); ++i) {
      const bool last = i + 1 == e.args.size();
      out += arg(e.args[i], at, last ? reserve + 1 : 1);
      out += last ? ")" : ",\n" + std::string(at, ' ');
    }
    return out;
  }
  if (e.kind == ast::ExprKind::List && !e.operands.empty()) {
    std::string out = "[";
    const size_t at = column + 1;
    for (size_t i = 0; i < e.operands.size(); ++i) {
      const bool last = i + 1 == e.operands.size();
      out += expr(e.operands[i], at, last ? reserve + 1 : 1);
      out += last ? "]" : ",\n" + std::string(at, ' ');
    }
    return out;
  }
  return one;
}

} // namespace

std::string wrappedChain(const ast::Chain &chain, size_t column, size_t limit, size_t reserve) {
  return Wrapper(limit).steps(chain.steps, column, reserve);
}

std::string wrappedExpr(const ast::Expr &expr, size_t column, size_t limit, size_t reserve) {
  return Wrapper(limit).expr(expr, column, reserve);
}

} // namespace mtl::format
