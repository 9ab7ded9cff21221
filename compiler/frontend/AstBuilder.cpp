// AstBuilder.cpp: parse tree → AST, with a source location on every node.
#include "frontend/AstBuilder.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace mtl {
namespace {

using P = mtlgen::MtlParser;

class Builder {
public:
  Builder(int fileId, DiagnosticEngine &diags, const Losses &losses, SkippedParts &skipped)
      : fileId_(fileId), diags_(diags), losses_(losses), skipped_(skipped) {}

  SourceLoc loc(antlr4::Token *t) const {
    if (!t)
      return {};
    int len = static_cast<int>(t->getStopIndex() - t->getStartIndex() + 1);
    return {fileId_, static_cast<int>(t->getLine()),
            static_cast<int>(t->getCharPositionInLine()) + 1, std::max(len, 1)};
  }

  // A context's range: from its first token to the end of its last one when
  // both are on one line, else just the first token.
  SourceLoc loc(antlr4::ParserRuleContext *ctx) const {
    SourceLoc start = loc(ctx->getStart());
    antlr4::Token *stop = ctx->getStop();
    if (!stop || stop->getTokenIndex() < ctx->getStart()->getTokenIndex())
      return start;
    return start.to(loc(stop));
  }

  ast::Ident ident(P::NameContext *ctx) const { return {ctx->getText(), loc(ctx)}; }

  ast::File file(P::FileContext *ctx) {
    ast::File f;
    f.fileId = fileId_;
    for (auto *imp : ctx->importDecl()) {
      std::string path = unquote(imp->STRING()->getSymbol());
      if (!std::exchange(badLiteral_, false))
        f.imports.push_back({std::move(path), loc(imp)});
    }
    for (auto *top : ctx->topDecl()) {
      std::vector<std::string> declares = {
          top->blockDecl() && top->blockDecl()->name() ? top->blockDecl()->name()->getText() : ""};
      if (leftOut(top, declares))
        continue;
      badLiteral_ = false;
      ast::TopItem item = top->blockDecl() ? ast::TopItem(block(top->blockDecl()))
                                           : ast::TopItem(model(top->modelDecl()));
      if (badLiteral_)
        leaveOut(top, std::move(declares));
      else
        f.items.push_back(std::move(item));
    }
    return f;
  }

private:
  // Whether `unit` is damaged and so left out.
  bool leftOut(antlr4::ParserRuleContext *unit, std::vector<std::string> declares) {
    if (!losses_.units.count(unit))
      return false;
    leaveOut(unit, std::move(declares));
    return true;
  }

  // Records what a unit left out (damaged, or with a literal reported
  // wrong, such as an integer too large) covered and the names it may
  // declare, as far as it got: later stages say nothing about it.
  void leaveOut(antlr4::ParserRuleContext *unit, std::vector<std::string> declares) {
    skipped(unit);
    for (std::string &name : declares)
      skipped_.names.push_back(std::move(name));
  }

  void skipped(antlr4::ParserRuleContext *ctx) {
    antlr4::Token *stop = ctx->getStop();
    bool ends = stop && stop->getTokenIndex() >= ctx->getStart()->getTokenIndex();
    skipped_.ranges.emplace_back(loc(ctx->getStart()), loc(ends ? stop : ctx->getStart()));
    lostInModel_ = true;
  }

  static std::vector<std::string> declaredNames(P::ModelItemContext *ctx) {
    auto text = [](antlr4::tree::ParseTree *t) { return t ? t->getText() : std::string(); };
    if (auto *c = ctx->inputDecl())
      return {c->name().empty() ? "" : c->name(0)->getText()};
    if (auto *c = ctx->dataDecl())
      return {text(c->name())};
    if (auto *c = ctx->blockDecl())
      return {text(c->name())};
    // In `shared trunk x -> dense(8)` (no '='), `trunk` reads as the sharing.
    if (auto *c = ctx->sharedDecl())
      return {text(c->name()), text(c->sharing)};
    if (auto *c = ctx->taskDecl())
      return {text(c->name())};
    return {};
  }

  ast::ModelDecl model(P::ModelDeclContext *ctx) {
    ast::ModelDecl m;
    m.name = ident(ctx->name());
    m.loc = loc(ctx->getStart()).to(m.name.loc);
    m.closeLoc = loc(ctx->getStop());
    lostInModel_ = losses_.containers.count(ctx) > 0;
    for (auto *item : ctx->modelItem()) {
      if (leftOut(item, declaredNames(item)))
        continue;
      ast::ModelItem built = modelItem(item);
      if (std::exchange(badLiteral_, false))
        leaveOut(item, declaredNames(item));
      else
        m.items.push_back(std::move(built));
    }
    // "model 'm' has no task" may be about a task that was left out.
    if (lostInModel_)
      skipped_.ranges.emplace_back(m.name.loc, m.name.loc);
    return m;
  }

  ast::ModelItem modelItem(P::ModelItemContext *ctx) {
    if (auto *c = ctx->inputDecl())
      return input(c);
    if (auto *c = ctx->dataDecl())
      return data(c);
    if (auto *c = ctx->blockDecl())
      return block(c);
    if (auto *c = ctx->sharedDecl())
      return shared(c);
    if (auto *c = ctx->taskDecl())
      return task(c);
    if (auto *c = ctx->balanceDecl())
      return ast::BalanceDecl{expr(c->expr()), loc(c)};
    if (auto *c = ctx->regularizeDecl()) {
      ast::RegularizeDecl r{{}, loc(c->getStart())};
      for (auto *t : c->regTerm()) {
        ast::RegTerm term{expr(t->expr()), {}, loc(t)};
        for (auto *n : t->name())
          term.targets.push_back(ident(n));
        r.terms.push_back(std::move(term));
      }
      return r;
    }
    if (auto *c = ctx->optimizerDecl())
      return ast::OptimizerDecl{expr(c->expr()), loc(c)};
    if (auto *c = ctx->experimentDecl()) {
      ast::ExperimentDecl e{settings(c, c->setting()), {}, loc(c->getStart())};
      for (auto *s : c->searchDecl())
        e.searches.push_back({settings(s, s->setting()), loc(s->getStart())});
      return e;
    }
    auto *c = ctx->trainDecl();
    return ast::TrainDecl{settings(c, c->setting()), loc(c->getStart())};
  }

  // The `key = value` settings of a braced item, less those recovery left out.
  std::vector<ast::Setting> settings(antlr4::ParserRuleContext *container,
                                     const std::vector<P::SettingContext *> &items) {
    lostBetweenUnits(container);
    std::vector<ast::Setting> out;
    for (auto *s : items)
      if (!leftOutOf(container, s))
        out.push_back({ident(s->name()), expr(s->expr()), loc(s)});
    return out;
  }

  ast::InputDecl input(P::InputDeclContext *ctx) {
    ast::InputDecl in;
    in.name = ident(ctx->name(0));
    in.dtype = ident(ctx->dtype);
    in.loc = loc(ctx);
    if (auto *s = ctx->shape()) {
      in.shapeLoc = loc(s);
      for (auto *tok : s->INT())
        in.dims.push_back(integer(tok->getSymbol()));
    }
    return in;
  }

  ast::DataDecl data(P::DataDeclContext *ctx) {
    ast::DataDecl d;
    d.name = ident(ctx->name());
    d.source = expr(ctx->expr());
    d.loc = loc(ctx->getStart()).to(d.source.loc);
    lostBetweenUnits(ctx);
    for (auto *b : ctx->binding()) {
      if (leftOutOf(ctx, b))
        continue;
      ast::Binding bind{ident(b->name()), expr(b->expr()), {}, loc(b)};
      for (auto *m : b->modifier())
        bind.modifiers.push_back(modifier(m));
      d.bindings.push_back(std::move(bind));
    }
    return d;
  }

  ast::Modifier modifier(P::ModifierContext *ctx) {
    ast::Modifier m;
    m.loc = loc(ctx);
    if (auto *as = dynamic_cast<P::AsModContext *>(ctx)) {
      m.kind = ast::Modifier::As;
      m.asName = ident(as->name());
    } else if (auto *sc = dynamic_cast<P::ScaleModContext *>(ctx)) {
      m.kind = ast::Modifier::Scale;
      m.values.push_back(expr(sc->expr()));
    } else if (auto *in = dynamic_cast<P::InModContext *>(ctx)) {
      m.kind = ast::Modifier::In;
      for (auto *e : in->expr())
        m.values.push_back(expr(e));
    } else if (auto *other = dynamic_cast<P::OtherModContext *>(ctx)) {
      m.kind = ast::Modifier::Unknown;
      m.word = {other->word->getText(), loc(other->word)};
      if (other->after)
        m.asName = {other->after->getText(), loc(other->after)};
      if (other->open)
        m.open = other->open->getText()[0];
      if (auto *list = other->exprList())
        for (auto *e : list->expr())
          m.values.push_back(expr(e));
    } else {
      m.kind = ast::Modifier::Standardize;
    }
    return m;
  }

  ast::BlockDecl block(P::BlockDeclContext *ctx) {
    ast::BlockDecl b;
    b.name = ident(ctx->name());
    b.loc = loc(ctx->getStart()).to(b.name.loc);
    b.hasParens = ctx->children.size() > 2 && ctx->children[2]->getText() == "(";
    for (auto *p : ctx->param()) {
      ast::Param param{ident(p->name()), std::nullopt};
      if (p->expr())
        param.defaultValue = expr(p->expr());
      b.params.push_back(std::move(param));
    }
    b.body = chain(ctx->chain());
    return b;
  }

  ast::SharedDecl shared(P::SharedDeclContext *ctx) {
    ast::SharedDecl s;
    s.name = ident(ctx->name());
    s.loc = loc(ctx->getStart()).to(s.name.loc);
    if (ctx->sharing)
      s.sharing = expr(ctx->sharing);
    s.chain = chain(ctx->chain());
    return s;
  }

  ast::TaskDecl task(P::TaskDeclContext *ctx) {
    ast::TaskDecl t;
    t.name = ident(ctx->name());
    t.kind = expr(ctx->kind);
    t.loc = loc(ctx->getStart()).to(t.kind.loc);
    lostBetweenUnits(ctx);
    for (auto *f : ctx->taskField()) {
      if (leftOutOf(ctx, f))
        continue;
      ast::TaskField field{ident(f->name()), {}, loc(f)};
      for (auto *c : f->chain())
        field.values.push_back(chain(c));
      t.fields.push_back(std::move(field));
    }
    return t;
  }

  ast::Chain chain(P::ChainContext *ctx) {
    ast::Chain c;
    c.loc = loc(ctx);
    for (auto *e : ctx->expr())
      c.steps.push_back(expr(e));
    return c;
  }

  ast::Expr expr(P::ExprContext *ctx) {
    ast::Expr e;
    e.loc = loc(ctx);
    if (auto *neg = dynamic_cast<P::NegExprContext *>(ctx)) {
      e.kind = ast::ExprKind::Neg;
      e.operands.push_back(expr(neg->expr()));
    } else if (auto *mul = dynamic_cast<P::MulExprContext *>(ctx)) {
      e.kind = ast::ExprKind::Binary;
      e.op = mul->op->getText()[0];
      e.operands.push_back(expr(mul->expr(0)));
      e.operands.push_back(expr(mul->expr(1)));
    } else if (auto *add = dynamic_cast<P::AddExprContext *>(ctx)) {
      e.kind = ast::ExprKind::Binary;
      e.op = add->op->getText()[0];
      e.operands.push_back(expr(add->expr(0)));
      e.operands.push_back(expr(add->expr(1)));
    } else {
      auto *prim = static_cast<P::PrimaryExprContext *>(ctx);
      return primary(prim->primary());
    }
    return e;
  }

  ast::Expr primary(P::PrimaryContext *ctx) {
    ast::Expr e;
    e.loc = loc(ctx);
    if (auto *n = dynamic_cast<P::NumberLitContext *>(ctx)) {
      e.kind = ast::ExprKind::Number;
      e.number = number(n->NUMBER()->getSymbol());
    } else if (auto *i = dynamic_cast<P::IntLitContext *>(ctx)) {
      e.kind = ast::ExprKind::Int;
      e.number = static_cast<double>(integer(i->INT()->getSymbol()));
    } else if (auto *s = dynamic_cast<P::StringLitContext *>(ctx)) {
      e.kind = ast::ExprKind::String;
      e.text = unquote(s->STRING()->getSymbol());
    } else if (dynamic_cast<P::BoolLitContext *>(ctx)) {
      e.kind = ast::ExprKind::Bool;
      e.boolean = ctx->getText() == "true";
    } else if (auto *nc = dynamic_cast<P::NameOrCallContext *>(ctx)) {
      e.text = nc->qualName()->getText();
      bool call = nc->children.size() > 1;
      e.kind = call ? ast::ExprKind::Call : ast::ExprKind::Name;
      if (call)
        e.loc = loc(ctx->getStart()).to(loc(ctx->getStop()));
      else
        e.loc = loc(nc->qualName());
      for (auto *a : nc->arg())
        e.args.push_back(arg(a));
    } else if (auto *l = dynamic_cast<P::ListLitContext *>(ctx)) {
      e.kind = ast::ExprKind::List;
      for (auto *x : l->expr())
        e.operands.push_back(expr(x));
    } else {
      auto *p = static_cast<P::ParenExprContext *>(ctx);
      ast::Expr inner = chainExpr(p->chain());
      inner.loc = e.loc;
      return inner;
    }
    return e;
  }

  ast::Arg arg(P::ArgContext *ctx) {
    ast::Arg a;
    a.loc = loc(ctx);
    if (ctx->name())
      a.name = ident(ctx->name());
    a.value = chainExpr(ctx->chain());
    if (ctx->expr())
      a.rangeEnd = expr(ctx->expr());
    return a;
  }

  /// A chain where an expression stands: its only step, or a Chain of its steps.
  ast::Expr chainExpr(P::ChainContext *ctx) {
    ast::Chain c = chain(ctx);
    if (c.steps.size() == 1)
      return std::move(c.steps[0]);
    ast::Expr e;
    e.kind = ast::ExprKind::Chain;
    e.loc = c.loc;
    e.operands = std::move(c.steps);
    return e;
  }

  int64_t integer(antlr4::Token *tok) {
    std::string text = tok->getText();
    int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v > (int64_t(1) << 53)) {
      diags_.error(loc(tok), fmt::format("integer '{}' is too large; the limit is 2^53", text));
      badLiteral_ = true;
      return 0;
    }
    return v;
  }

  double number(antlr4::Token *tok) {
    std::string text = tok->getText();
    char *end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (!std::isfinite(v)) {
      diags_.error(loc(tok),
                   fmt::format("number '{}' is too large (the largest is about 1.8e308)", text));
      badLiteral_ = true;
      return 0;
    }
    return v;
  }

  std::string unquote(antlr4::Token *tok) {
    std::string raw = tok->getText();
    std::string out;
    for (size_t i = 1; i + 1 < raw.size(); ++i) {
      if (raw[i] != '\\') {
        out.push_back(raw[i]);
        continue;
      }
      char c = raw[++i];
      switch (c) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '"':
        out.push_back('"');
        break;
      default: {
        SourceLoc where = loc(tok);
        // Columns count characters, not bytes: skip UTF-8 continuation bytes.
        where.col += static_cast<int>(std::count_if(raw.begin(), raw.begin() + (i - 1), [](char b) {
          return (static_cast<unsigned char>(b) & 0xc0) != 0x80;
        }));
        where.length = 2;
        diags_.error(where, fmt::format("unknown escape sequence '\\{}' in string; "
                                        "use \\\\, \\\", \\n or \\t",
                                        c));
        badLiteral_ = true;
      }
      }
    }
    return out;
  }

  // A damaged unit inside `container` (a data block, task or train block) is
  // left out, and what is said about the container is left out with it:
  // "data set 'train' does not bind input 'x'" may be about the lost binding.
  // So is what is said about a container that lost text between its units.
  void lostBetweenUnits(antlr4::ParserRuleContext *container) {
    if (losses_.containers.count(container))
      skipped(container);
  }

  bool leftOutOf(antlr4::ParserRuleContext *container, antlr4::ParserRuleContext *unit) {
    if (!losses_.units.count(unit))
      return false;
    skipped(container);
    return true;
  }

  int fileId_;
  DiagnosticEngine &diags_;
  const Losses &losses_;
  SkippedParts &skipped_;
  /// A literal of the declaration being built was reported wrong: the
  /// declaration is left out (the innermost one, a model item or a top-level one).
  bool badLiteral_ = false;
  bool lostInModel_ = false; ///< some part of the current model was left out
};

} // namespace

ast::File buildAst(P::FileContext *tree, antlr4::CommonTokenStream &tokens, int fileId,
                   DiagnosticEngine &diags, const Losses &losses, SkippedParts &skipped) {
  Builder b(fileId, diags, losses, skipped);
  skipped.names = losses.words;
  ast::File f = b.file(tree);
  for (antlr4::Token *t : tokens.getTokens())
    if (t->getChannel() == antlr4::Token::HIDDEN_CHANNEL)
      f.comments.push_back({t->getText(), b.loc(t)});
  return f;
}

} // namespace mtl
