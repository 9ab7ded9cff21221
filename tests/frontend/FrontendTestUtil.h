// FrontendTestUtil.h: helpers for the frontend tests: parsing buffers, dumping ASTs without
// locations.
#pragma once

#include "frontend/Ast.h"
#include "frontend/Parser.h"

#include <charconv>
#include <cstdio>
#include <optional>
#include <string>

namespace mtl::test {

/// A buffer registered under a display name and parsed, with its diagnostics.
struct Parsed {
  SourceManager sources;
  DiagnosticEngine diags{sources};
  int id;
  std::optional<ast::File> file;

  explicit Parsed(std::string text, std::string name = "test.mtl",
                  SyntaxErrorPolicy policy = SyntaxErrorPolicy::NoAst)
      : id(sources.add(std::move(name), std::move(text))),
        file(parseFile(sources, id, diags, policy)) {}

  std::string errors() const { return diags.render(false); }
  const ast::ModelDecl &model(size_t i = 0) const {
    return std::get<ast::ModelDecl>(file->items.at(i));
  }
  template <typename T> const T &item(size_t i, size_t model = 0) const {
    return std::get<T>(this->model(model).items.at(i));
  }
};

/// An expression as an s-expression, to check tree shape: `(+ a (* b c))`.
inline std::string sexpr(const ast::Expr &e) {
  std::string out;
  switch (e.kind) {
  case ast::ExprKind::Number:
  case ast::ExprKind::Int: {
    char buf[64];
    auto end = std::to_chars(buf, buf + sizeof buf, e.number).ptr;
    return (e.kind == ast::ExprKind::Int ? "i" : "n") + std::string(buf, end);
  }
  case ast::ExprKind::String:
    return "\"" + e.text + "\"";
  case ast::ExprKind::Bool:
    return e.boolean ? "true" : "false";
  case ast::ExprKind::Name:
    return e.text;
  case ast::ExprKind::Call:
    out = "(call " + e.text;
    for (const ast::Arg &a : e.args) {
      out += " " + (a.name.text.empty() ? "" : a.name.text + "=") + sexpr(a.value);
      if (a.rangeEnd)
        out += ".." + sexpr(*a.rangeEnd);
    }
    return out + ")";
  case ast::ExprKind::List:
    out = "(list";
    break;
  case ast::ExprKind::Neg:
    out = "(neg";
    break;
  case ast::ExprKind::Chain:
    out = "(->";
    break;
  case ast::ExprKind::Binary:
    out = std::string("(") + e.op;
    break;
  }
  for (const ast::Expr &o : e.operands)
    out += " " + sexpr(o);
  return out + ")";
}

/// Every field of a file except locations and comments, exactly (numbers in
/// hexadecimal floating point), so that two ASTs compare equal as strings.
class AstDump {
public:
  static std::string of(const ast::File &f) {
    AstDump d;
    for (const ast::ImportDecl &i : f.imports)
      d.put("import", i.path);
    for (const ast::TopItem &item : f.items) {
      if (auto *b = std::get_if<ast::BlockDecl>(&item)) {
        d.block(*b);
      } else {
        const auto &m = std::get<ast::ModelDecl>(item);
        d.put("model", m.name.text);
        for (const ast::ModelItem &mi : m.items)
          d.modelItem(mi);
        d.out_ += "end\n";
      }
    }
    return d.out_;
  }

private:
  void put(const char *tag, const std::string &text) {
    out_ += tag;
    out_ += " [" + std::to_string(text.size()) + "]" + text + "\n";
  }
  void expr(const ast::Expr &e) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%a", e.number);
    out_ += "expr " + std::to_string(static_cast<int>(e.kind)) + " " + buf + " " +
            (e.boolean ? "T" : "F") + " " + (e.op ? std::string(1, e.op) : "_") + " ";
    put("text", e.text);
    for (const ast::Expr &o : e.operands) {
      out_ += "(\n";
      expr(o);
      out_ += ")\n";
    }
    for (const ast::Arg &a : e.args) {
      put("arg", a.name.text);
      expr(a.value);
      if (a.rangeEnd) {
        out_ += "..\n";
        expr(*a.rangeEnd);
      }
      out_ += "endarg\n";
    }
    out_ += "endexpr\n";
  }
  void chain(const ast::Chain &c) {
    out_ += "chain\n";
    for (const ast::Expr &e : c.steps)
      expr(e);
    out_ += "endchain\n";
  }
  void block(const ast::BlockDecl &b) {
    put("block", b.name.text);
    out_ += b.hasParens ? "parens\n" : "noparens\n";
    for (const ast::Param &p : b.params) {
      put("param", p.name.text);
      if (p.defaultValue)
        expr(*p.defaultValue);
    }
    chain(b.body);
  }
  void modelItem(const ast::ModelItem &item) {
    out_ += "item " + std::to_string(item.index()) + "\n";
    if (auto *in = std::get_if<ast::InputDecl>(&item)) {
      put("input", in->name.text);
      put("dtype", in->dtype.text);
      for (int64_t d : in->dims)
        out_ += "dim " + std::to_string(d) + "\n";
    } else if (auto *d = std::get_if<ast::DataDecl>(&item)) {
      put("data", d->name.text);
      expr(d->source);
      for (const ast::Binding &b : d->bindings) {
        put("binding", b.target.text);
        expr(b.source);
        for (const ast::Modifier &m : b.modifiers) {
          out_ += "modifier " + std::to_string(m.kind) + "\n";
          put("as", m.asName.text);
          put("word", m.word.text);
          out_ += m.open ? std::string("open ") + m.open + "\n" : "";
          for (const ast::Expr &v : m.values)
            expr(v);
        }
      }
    } else if (auto *b = std::get_if<ast::BlockDecl>(&item)) {
      block(*b);
    } else if (auto *s = std::get_if<ast::SharedDecl>(&item)) {
      put("shared", s->name.text);
      if (s->sharing)
        expr(*s->sharing);
      chain(s->chain);
    } else if (auto *t = std::get_if<ast::TaskDecl>(&item)) {
      put("task", t->name.text);
      expr(t->kind);
      for (const ast::TaskField &f : t->fields) {
        put("field", f.key.text);
        for (const ast::Chain &c : f.values)
          chain(c);
      }
    } else if (auto *bal = std::get_if<ast::BalanceDecl>(&item)) {
      expr(bal->method);
    } else if (auto *r = std::get_if<ast::RegularizeDecl>(&item)) {
      for (const ast::RegTerm &term : r->terms) {
        out_ += "term\n";
        expr(term.penalty);
        for (const ast::Ident &target : term.targets)
          put("on", target.text);
      }
    } else if (auto *o = std::get_if<ast::OptimizerDecl>(&item)) {
      expr(o->optimizer);
    } else if (auto *tr = std::get_if<ast::TrainDecl>(&item)) {
      for (const ast::Setting &s : tr->settings) {
        put("setting", s.key.text);
        expr(s.value);
      }
    }
  }

  std::string out_;
};

} // namespace mtl::test
