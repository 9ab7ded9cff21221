// SemaContext.cpp: diagnostics policy, name lookup and message helpers shared by sema.
#include "sema/SemaContext.h"

#include "frontend/ExprText.h"

#include <fmt/format.h>

namespace mtl::sema {

const std::optional<double> *Env::find(const std::string &name) const {
  for (const auto &[n, v] : vars)
    if (n == name)
      return &v;
  return nullptr;
}

const LayerArg *Env::findLayer(const std::string &name) const {
  for (const LayerArg &l : layers)
    if (l.name == name)
      return &l;
  return nullptr;
}

Diagnostic &Context::error(SourceLoc loc, std::string message) {
  ++errorsSeen;
  if (!reported_.insert({0, loc.file, loc.line, loc.col, message}).second) {
    scratch_ = Diagnostic{};
    return scratch_;
  }
  Diagnostic &d = diags.error(loc, std::move(message));
  for (auto it = expansions.rbegin(); it != expansions.rend(); ++it)
    d.note(it->loc, it->note);
  return d;
}

Diagnostic &Context::warning(SourceLoc loc, std::string message) {
  // Warnings found while checking throw-away copies would repeat real ones.
  if (!reported_.insert({1, loc.file, loc.line, loc.col, message}).second) {
    scratch_ = Diagnostic{};
    return scratch_;
  }
  Diagnostic &d = diags.warning(loc, std::move(message));
  for (auto it = expansions.rbegin(); it != expansions.rend(); ++it)
    d.note(it->loc, it->note);
  return d;
}

void Context::beginModel(Model &m) {
  model = &m;
  names.clear();
  inputFlows.clear();
  inputUsed.clear();
  localBlocks.clear();
  shared.clear();
  tasks.clear();
  data.clear();
  dataNames.clear();
  expansions.clear();
  valueMemo.clear();
  pleStreams.clear();
  definitionMode = false;
  dry = false;
  broken = false;
  modelStartErrors = errorsSeen;
  budget_ = kMaxExpandedSteps;
  budgetReported_ = false;
}

const BlockInfo *Context::findBlock(const std::string &name, bool topLevel) const {
  if (!topLevel) {
    auto it = names.find(name);
    if (it != names.end() && it->second.kind == Symbol::Block)
      return &localBlocks[it->second.index];
  }
  auto it = topBlocks.find(name);
  return it == topBlocks.end() ? nullptr : &it->second;
}

std::vector<std::string> Context::blockNames(bool topLevel) const {
  std::vector<std::string> out;
  for (const auto &[name, info] : topBlocks)
    out.push_back(name);
  if (!topLevel)
    for (const auto &[name, sym] : names)
      if (sym.kind == Symbol::Block)
        out.push_back(name);
  return out;
}

const Symbol *Context::findSymbol(const std::string &name) const {
  auto it = names.find(name);
  return it == names.end() ? nullptr : &it->second;
}

std::vector<std::string> Context::symbolNames(Symbol::Kind kind) const {
  std::vector<std::string> out;
  for (const auto &[name, sym] : names)
    if (sym.kind == kind)
      out.push_back(name);
  return out;
}

std::vector<std::string> Context::sharedNames(SharedInfo::Form form) const {
  std::vector<std::string> out;
  for (const auto &[name, sym] : names)
    if (sym.kind == Symbol::Shared && shared[sym.index].form == form)
      out.push_back(name);
  return out;
}

bool Context::takeBudget(SourceLoc where) {
  if (--budget_ >= 0)
    return true;
  if (!budgetReported_) {
    budgetReported_ = true;
    error(where, fmt::format("the model expands to more than {} layers and block "
                             "calls; this limit guards against runaway block nesting",
                             kMaxExpandedSteps));
  }
  return false;
}

SourceLoc nameLoc(const ast::Expr &e) {
  SourceLoc loc = e.loc;
  if (e.isCall() && !e.text.empty())
    loc.length = std::min<int>(loc.length, static_cast<int>(e.text.size()));
  return loc;
}

namespace {
// Whether `e` has a name or a call in it (beyond literals).
bool hasName(const ast::Expr &e) {
  if (e.isNamed())
    return true;
  for (const ast::Expr &o : e.operands)
    if (hasName(o))
      return true;
  return false;
}
} // namespace

std::string describe(const ast::Expr &e) {
  switch (e.kind) {
  case ast::ExprKind::Neg:
  case ast::ExprKind::Binary:
    // Arithmetic on literals is a number; on names, quoted as written.
    return hasName(e) ? fmt::format("'{}'", exprText(e)) : "a number";
  case ast::ExprKind::Number:
  case ast::ExprKind::Int:
    return "a number";
  case ast::ExprKind::String:
    return "a string";
  case ast::ExprKind::Bool:
    return e.boolean ? "'true'" : "'false'";
  case ast::ExprKind::Name:
    return "'" + e.text + "'";
  case ast::ExprKind::Call:
    return "a call to '" + e.text + "'";
  case ast::ExprKind::List:
    return "a list";
  case ast::ExprKind::Chain:
    return "a chain";
  }
  return "a value";
}

std::string formatNumber(double v) { return fmt::format("{}", v); }

std::string quoteList(const std::vector<std::string> &items, const char *last) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += i + 1 == items.size() ? fmt::format(" {} ", last) : ", ";
    out += "'" + items[i] + "'";
  }
  return out;
}

std::string kindText(const Task &task) {
  switch (task.kind) {
  case TaskKind::Regress:
    return task.width == 1 ? "regress" : fmt::format("regress({})", task.width);
  case TaskKind::Binary:
    return "binary";
  case TaskKind::Classify:
    return fmt::format("classify({})", task.classes);
  case TaskKind::Multilabel:
    return fmt::format("multilabel({})", task.width);
  }
  return "?";
}

} // namespace mtl::sema
