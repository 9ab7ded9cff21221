// AstPrinter.cpp: the `mtlc emit ast` tree dump.
#include "frontend/AstPrinter.h"

#include "frontend/ExprText.h"

#include <fmt/format.h>

namespace mtl {
namespace {

class Printer {
public:
  explicit Printer(std::string &out) : out_(out) {}

  void file(const ast::File &f, const SourceManager &sources) {
    bool known = f.fileId >= 0 && f.fileId < sources.fileCount();
    out_ += known ? "File " + sources.name(f.fileId) + "\n" : "File\n";
    for (const ast::ImportDecl &imp : f.imports)
      line(1, "Import " + quoteString(imp.path), imp.loc);
    for (const ast::TopItem &item : f.items) {
      if (auto *b = std::get_if<ast::BlockDecl>(&item))
        block(1, *b);
      else
        model(1, std::get<ast::ModelDecl>(item));
    }
    for (const ast::Comment &c : f.comments) {
      std::string text;
      for (char ch : c.text)
        text += ch == '\n' ? std::string("\\n") : ch == '\r' ? std::string() : std::string(1, ch);
      line(1, "Comment " + text, c.loc);
    }
  }

private:
  void line(int depth, const std::string &text, const SourceLoc &loc) {
    out_.append(static_cast<size_t>(depth) * 2, ' ');
    out_ += text;
    if (loc.valid())
      out_ += fmt::format(" <{}:{}>", loc.line, loc.col);
    out_ += '\n';
  }

  // `prefix` names the role of the expression in its parent; `at` replaces
  // the expression's own location when the line stands for a wider node (an Arg).
  void expr(int depth, const std::string &prefix, const ast::Expr &e,
            const SourceLoc *at = nullptr) {
    std::string head;
    switch (e.kind) {
    case ast::ExprKind::Number:
      head = "Number " + formatNumberLiteral(e.number);
      break;
    case ast::ExprKind::Int:
      head = "Int " + formatIntLiteral(e.number);
      break;
    case ast::ExprKind::String:
      head = "String " + quoteString(e.text);
      break;
    case ast::ExprKind::Bool:
      head = e.boolean ? "Bool true" : "Bool false";
      break;
    case ast::ExprKind::Name:
      head = "Name " + e.text;
      break;
    case ast::ExprKind::Call:
      head = "Call " + e.text;
      break;
    case ast::ExprKind::List:
      head = "List";
      break;
    case ast::ExprKind::Chain:
      head = "Chain";
      break;
    case ast::ExprKind::Neg:
      head = "Neg";
      break;
    case ast::ExprKind::Binary:
      head = std::string("Binary ") + e.op;
      break;
    }
    line(depth, prefix + head, at ? *at : e.loc);
    for (const ast::Arg &a : e.args)
      arg(depth + 1, a);
    for (const ast::Expr &operand : e.operands)
      expr(depth + 1, "", operand);
  }

  void arg(int depth, const ast::Arg &a) {
    std::string prefix = a.name.text.empty() ? "Arg " : "Arg " + a.name.text + " = ";
    expr(depth, prefix, a.value, &a.loc);
    if (a.rangeEnd)
      expr(depth + 1, "RangeEnd ", *a.rangeEnd);
  }

  void chain(int depth, const ast::Chain &c) {
    line(depth, "Chain", c.loc);
    for (const ast::Expr &step : c.steps)
      expr(depth + 1, "", step);
  }

  void block(int depth, const ast::BlockDecl &b) {
    line(depth, "Block " + b.name.text + (b.hasParens && b.params.empty() ? "()" : ""), b.loc);
    for (const ast::Param &p : b.params) {
      line(depth + 1, "Param " + p.name.text, p.name.loc);
      if (p.defaultValue)
        expr(depth + 2, "Default ", *p.defaultValue);
    }
    chain(depth + 1, b.body);
  }

  void model(int depth, const ast::ModelDecl &m) {
    line(depth, "Model " + m.name.text, m.loc);
    for (const ast::ModelItem &item : m.items)
      modelItem(depth + 1, item);
  }

  void modelItem(int depth, const ast::ModelItem &item) {
    if (auto *in = std::get_if<ast::InputDecl>(&item)) {
      std::string text = "Input " + in->name.text + " : " + in->dtype.text;
      for (size_t i = 0; i < in->dims.size(); ++i)
        text +=
            (i ? ", " : "[") + std::to_string(in->dims[i]) + (i + 1 == in->dims.size() ? "]" : "");
      line(depth, text, in->loc);
    } else if (auto *d = std::get_if<ast::DataDecl>(&item)) {
      data(depth, *d);
    } else if (auto *b = std::get_if<ast::BlockDecl>(&item)) {
      block(depth, *b);
    } else if (auto *s = std::get_if<ast::SharedDecl>(&item)) {
      line(depth, "Shared " + s->name.text, s->loc);
      if (s->sharing)
        expr(depth + 1, "Sharing ", *s->sharing);
      chain(depth + 1, s->chain);
    } else if (auto *t = std::get_if<ast::TaskDecl>(&item)) {
      task(depth, *t);
    } else if (auto *bal = std::get_if<ast::BalanceDecl>(&item)) {
      line(depth, "Balance", bal->loc);
      expr(depth + 1, "", bal->method);
    } else if (auto *r = std::get_if<ast::RegularizeDecl>(&item)) {
      line(depth, "Regularize", r->loc);
      for (const ast::RegTerm &term : r->terms) {
        line(depth + 1, "Term", term.loc);
        expr(depth + 2, "", term.penalty);
        for (const ast::Ident &target : term.targets)
          line(depth + 2, "On " + target.text, target.loc);
      }
    } else if (auto *o = std::get_if<ast::OptimizerDecl>(&item)) {
      line(depth, "Optimizer", o->loc);
      expr(depth + 1, "", o->optimizer);
    } else if (auto *tr = std::get_if<ast::TrainDecl>(&item)) {
      line(depth, "Train", tr->loc);
      settings(depth + 1, tr->settings);
    } else if (auto *e = std::get_if<ast::ExperimentDecl>(&item)) {
      line(depth, "Experiment", e->loc);
      settings(depth + 1, e->settings);
      for (const ast::SearchDecl &s : e->searches) {
        line(depth + 1, "Search", s.loc);
        settings(depth + 2, s.settings);
      }
    }
  }

  void settings(int depth, const std::vector<ast::Setting> &list) {
    for (const ast::Setting &s : list) {
      line(depth, "Setting " + s.key.text, s.loc);
      expr(depth + 1, "", s.value);
    }
  }

  void data(int depth, const ast::DataDecl &d) {
    line(depth, "Data " + d.name.text, d.loc);
    expr(depth + 1, "Source ", d.source);
    for (const ast::Binding &b : d.bindings) {
      line(depth + 1, "Binding " + b.target.text, b.loc);
      expr(depth + 2, "Source ", b.source);
      for (const ast::Modifier &m : b.modifiers) {
        switch (m.kind) {
        case ast::Modifier::Standardize:
          line(depth + 2, "Modifier standardize", m.loc);
          break;
        case ast::Modifier::As:
          line(depth + 2, "Modifier as " + m.asName.text, m.loc);
          break;
        case ast::Modifier::Scale:
          line(depth + 2, "Modifier scale", m.loc);
          break;
        case ast::Modifier::In:
          line(depth + 2, "Modifier in", m.loc);
          break;
        case ast::Modifier::Unknown:
          line(depth + 2,
               "Modifier unknown " + m.word.text + (m.asName.text.empty() ? "" : " ") +
                   m.asName.text,
               m.loc);
          break;
        }
        for (const ast::Expr &v : m.values)
          expr(depth + 3, "", v);
      }
    }
  }

  void task(int depth, const ast::TaskDecl &t) {
    line(depth, "Task " + t.name.text, t.loc);
    expr(depth + 1, "Kind ", t.kind);
    for (const ast::TaskField &f : t.fields) {
      line(depth + 1, "Field " + f.key.text, f.loc);
      for (const ast::Chain &c : f.values)
        chain(depth + 2, c);
    }
  }

  std::string &out_;
};

} // namespace

std::string printAst(const ast::File &file, const SourceManager &sources) {
  std::string out;
  Printer(out).file(file, sources);
  return out;
}

} // namespace mtl
