// Args.cpp: argument binding with Python-like rules and clang-like messages.
#include "sema/Args.h"

#include "support/Suggest.h"

#include <algorithm>
#include <fmt/format.h>

namespace mtl::sema {
namespace {

std::string arity(const std::string &callee, const std::vector<ParamSpec> &params, size_t given) {
  size_t required = 0;
  std::vector<std::string> names;
  for (const ParamSpec &p : params) {
    required += p.required ? 1 : 0;
    names.push_back(p.name);
  }
  if (params.empty())
    return fmt::format("{} expects no arguments, got {}", callee, given);
  std::string count = required == params.size()
                          ? fmt::format("{} argument{}", required, required == 1 ? "" : "s")
                          : fmt::format("{} to {} arguments", required, params.size());
  return fmt::format("{} expects {} ({}), got {}", callee, count, fmt::join(names, ", "), given);
}

} // namespace

BoundArgs bindArgs(Context &ctx, const ast::Expr &call, const std::string &callee,
                   const std::vector<ParamSpec> &params, bool allowRanges) {
  BoundArgs out;
  out.args.assign(params.size(), nullptr);
  size_t positional = 0;
  for (const ast::Arg &a : call.args)
    positional += a.name.text.empty() ? 1 : 0;
  bool sawNamed = false, reportedArity = false;
  size_t next = 0;
  for (const ast::Arg &a : call.args) {
    if (a.rangeEnd && !allowRanges) {
      ctx.error(a.loc, "a range 'a..b' is only allowed in columns(...)");
      out.ok = false;
    }
    if (a.name.text.empty()) {
      if (sawNamed) {
        ctx.error(a.loc, "positional argument after a named argument");
        out.ok = false;
        continue;
      }
      if (next >= params.size()) {
        if (!reportedArity)
          ctx.error(a.loc, arity(callee, params, positional));
        reportedArity = true;
        out.ok = false;
        continue;
      }
      out.args[next++] = &a;
      continue;
    }
    sawNamed = true;
    size_t i = 0;
    while (i < params.size() && params[i].name != a.name.text)
      ++i;
    if (i == params.size()) {
      std::vector<std::string> names;
      for (const ParamSpec &p : params)
        names.push_back(p.name);
      if (names.empty())
        ctx.error(a.name.loc, fmt::format("{} takes no arguments", callee));
      else
        ctx.error(a.name.loc, fmt::format("unknown argument '{}' for {}{}", a.name.text, callee,
                                          didYouMean(a.name.text, names)));
      out.ok = false;
      continue;
    }
    if (out.args[i]) {
      ctx.error(a.name.loc, fmt::format("argument '{}' is given twice", a.name.text))
          .note(out.args[i]->loc, "first given here");
      out.ok = false;
      continue;
    }
    out.args[i] = &a;
  }
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].required && !out.args[i] && !reportedArity) {
      ctx.error(nameLoc(call), fmt::format("missing argument '{}' for {}", params[i].name, callee));
      out.ok = false;
    }
  return out;
}

std::vector<const ast::Expr *> listElements(const ast::Expr &e) {
  std::vector<const ast::Expr *> out;
  if (e.kind == ast::ExprKind::List)
    for (const ast::Expr &x : e.operands)
      out.push_back(&x);
  else
    out.push_back(&e);
  return out;
}

std::vector<const ast::Setting *> settingSlots(Context &ctx,
                                               const std::vector<ast::Setting> &settings,
                                               const std::vector<std::string> &keys,
                                               const char *where) {
  std::vector<const ast::Setting *> slots(keys.size(), nullptr);
  for (const ast::Setting &s : settings) {
    auto it = std::find(keys.begin(), keys.end(), s.key.text);
    if (it == keys.end()) {
      std::string hint = didYouMean(s.key.text, keys);
      ctx.error(s.key.loc, fmt::format("unknown {} setting '{}'{}", where, s.key.text,
                                       hint.empty() ? "; use " + quoteList(keys) : hint));
      continue;
    }
    const ast::Setting *&slot = slots[size_t(it - keys.begin())];
    if (slot) {
      ctx.error(s.key.loc, fmt::format("duplicate setting '{}'", s.key.text))
          .note(slot->key.loc, "previous definition is here");
      continue;
    }
    slot = &s;
  }
  return slots;
}

} // namespace mtl::sema
