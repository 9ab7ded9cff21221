// Formatter.cpp: the layout of each construct, as a list of output units for FormatLayout.
#include "frontend/Formatter.h"

#include "frontend/ExprText.h"
#include "frontend/FormatLayout.h"
#include "frontend/FormatWrap.h"

#include <algorithm>
#include <variant>

namespace mtl {
namespace {

using format::Unit;

constexpr size_t kColumnLimit = 100;

// Items of one group sit together; a blank line separates groups.
int groupOf(const ast::ModelItem &item) {
  if (std::holds_alternative<ast::InputDecl>(item))
    return 0;
  if (std::holds_alternative<ast::DataDecl>(item))
    return 1;
  if (std::holds_alternative<ast::BlockDecl>(item) || std::holds_alternative<ast::SharedDecl>(item))
    return 2;
  if (std::holds_alternative<ast::TaskDecl>(item))
    return 3;
  return 4;
}

std::string padded(const std::string &key, size_t width) {
  return key + std::string(width > key.size() ? width - key.size() : 0, ' ');
}

std::string modifierText(const ast::Modifier &m) {
  switch (m.kind) {
  case ast::Modifier::Standardize:
    return "standardize";
  case ast::Modifier::As:
    return "as " + m.asName.text;
  case ast::Modifier::Scale:
    return "scale(" + (m.values.empty() ? std::string() : exprText(m.values[0])) + ")";
  case ast::Modifier::In: {
    std::string out = "in [";
    for (size_t i = 0; i < m.values.size(); ++i)
      out += (i ? ", " : "") + exprText(m.values[i]);
    return out + "]";
  }
  case ast::Modifier::Unknown: {
    std::string out = m.word.text + (m.asName.text.empty() ? "" : " " + m.asName.text);
    if (m.open)
      out += m.open == '(' ? "(" : " [";
    for (size_t i = 0; i < m.values.size(); ++i)
      out += (i ? ", " : "") + exprText(m.values[i]);
    return m.open ? out + (m.open == '(' ? ")" : "]") : out;
  }
  }
  return "";
}

class Formatter {
public:
  Formatter(const ast::File &file, const SourceManager &sources)
      : file_(file), tokens_(sources, file.fileId) {
    for (const ast::Comment &c : file.comments)
      commentTokens_.push_back(tokens_.countBefore(c.loc.line, c.loc.col));
    std::sort(commentTokens_.begin(), commentTokens_.end());
  }

  const format::SourceTokens &tokens() const { return tokens_; }

  std::vector<Unit> run() {
    bool first = true;
    for (const ast::ImportDecl &imp : file_.imports) {
      add(0, "import " + quoteString(imp.path), tok(imp.loc));
      first = false;
    }
    for (const ast::TopItem &item : file_.items) {
      startItem(!first, false);
      if (auto *b = std::get_if<ast::BlockDecl>(&item))
        block(*b, 0);
      else
        model(std::get<ast::ModelDecl>(item), 0);
      first = false;
    }
    return std::move(units_);
  }

private:
  int tok(const SourceLoc &loc) const { return tokens_.indexAt(loc); }

  // The `{ ... }` of an item that starts at token `start`: expressions never
  // hold braces, so the first `{` after the start is the item's own.
  std::pair<int, int> braces(int start) const {
    int open = tokens_.find(start, "{");
    if (open < 0)
      return {tokens_.size(), tokens_.size()};
    return {open, tokens_.matchingBrace(open)};
  }

  bool commentsInside(std::pair<int, int> braces) const {
    // A comment after token `open` and before token `close` has between
    // open+1 and close tokens before it.
    auto it = std::upper_bound(commentTokens_.begin(), commentTokens_.end(), braces.first);
    return it != commentTokens_.end() && *it <= braces.second;
  }

  // `chain` laid out after `before` on a line at `indent`, broken where it
  // would pass the column limit (with `reserve` characters after it).
  static std::string wrapped(const ast::Chain &chain, int indent, const std::string &before,
                             size_t reserve = 0) {
    return format::wrappedChain(chain, column(indent, before), kColumnLimit, reserve);
  }
  static std::string wrapped(const ast::Expr &expr, int indent, const std::string &before,
                             size_t reserve = 0) {
    return format::wrappedExpr(expr, column(indent, before), kColumnLimit, reserve);
  }

  // The column after `before` on a line at `indent`: continuation lines
  // hold their indentation, the first gets `indent`'s.
  static size_t column(int indent, const std::string &before) {
    size_t newline = before.rfind('\n');
    return newline == std::string::npos ? static_cast<size_t>(indent) * 2 + before.size()
                                        : before.size() - newline - 1;
  }

  static bool fits(int indent, const std::string &text) {
    return static_cast<size_t>(indent) * 2 + text.size() <= kColumnLimit;
  }

  void startItem(bool forceBlank, bool noBlank) {
    pendingForce_ = forceBlank;
    pendingNoBlank_ = noBlank;
  }

  Unit &add(int indent, std::string text, int firstToken) {
    Unit u;
    u.indent = u.commentIndent = indent;
    u.text = std::move(text);
    u.firstToken = firstToken;
    u.forceBlank = pendingForce_;
    u.noBlank = pendingNoBlank_;
    pendingForce_ = pendingNoBlank_ = false;
    units_.push_back(std::move(u));
    return units_.back();
  }

  void close(int indent, int closeToken, bool emptyBody) {
    startItem(false, emptyBody);
    Unit &u = add(indent, "}", closeToken);
    u.commentIndent = indent + 1;
    u.isClose = true;
  }

  // `head {` with its entries one per line, or `head {}` when it has none.
  template <typename Entries, typename Emit>
  void braced(int indent, const std::string &head, int start, const Entries &entries, Emit emit) {
    auto span = braces(start);
    if (entries.empty() && !commentsInside(span)) {
      add(indent, head + " {}", start);
      return;
    }
    add(indent, head + " {", start);
    bool first = true;
    for (const auto &entry : entries) {
      startItem(false, first);
      emit(entry);
      first = false;
    }
    close(indent, span.second, entries.empty());
  }

  void model(const ast::ModelDecl &m, int indent) {
    int start = tok(m.loc);
    auto span = braces(start);
    std::string head = "model " + m.name.text;
    if (m.items.empty() && !commentsInside(span)) {
      add(indent, head + " {}", start);
      return;
    }
    add(indent, head + " {", start);
    int previous = -1;
    for (const ast::ModelItem &item : m.items) {
      int group = groupOf(item);
      startItem(previous >= 0 && group != previous, previous < 0);
      modelItem(item, indent + 1);
      previous = group;
    }
    close(indent, span.second, m.items.empty());
  }

  void modelItem(const ast::ModelItem &item, int indent) {
    if (auto *in = std::get_if<ast::InputDecl>(&item))
      input(*in, indent);
    else if (auto *d = std::get_if<ast::DataDecl>(&item))
      data(*d, indent);
    else if (auto *b = std::get_if<ast::BlockDecl>(&item))
      block(*b, indent);
    else if (auto *s = std::get_if<ast::SharedDecl>(&item))
      shared(*s, indent);
    else if (auto *t = std::get_if<ast::TaskDecl>(&item))
      task(*t, indent);
    else if (auto *bal = std::get_if<ast::BalanceDecl>(&item))
      add(indent, "balance " + exprText(bal->method), tok(bal->loc));
    else if (auto *r = std::get_if<ast::RegularizeDecl>(&item))
      regularize(*r, indent);
    else if (auto *o = std::get_if<ast::OptimizerDecl>(&item))
      add(indent, "optimizer " + exprText(o->optimizer), tok(o->loc));
    else if (auto *tr = std::get_if<ast::TrainDecl>(&item))
      settingsBlock("train", tr->settings, tr->loc, indent);
    else if (auto *e = std::get_if<ast::ExperimentDecl>(&item))
      experiment(*e, indent);
  }

  void input(const ast::InputDecl &in, int indent) {
    std::string text = "input " + in.name.text + " : " + in.dtype.text;
    if (!in.dims.empty()) {
      text += '[';
      for (size_t i = 0; i < in.dims.size(); ++i)
        text += (i ? ", " : "") + std::to_string(in.dims[i]);
      text += ']';
    }
    add(indent, std::move(text), tok(in.loc));
  }

  void data(const ast::DataDecl &d, int indent) {
    size_t width = 0;
    for (const ast::Binding &b : d.bindings)
      width = std::max(width, b.target.text.size());
    const std::string head = "data " + d.name.text + " = ";
    braced(indent, head + wrapped(d.source, indent, head, 2), tok(d.loc), d.bindings,
           [&](const ast::Binding &b) {
             std::string key = padded(b.target.text, width) + " = ", modifiers;
             for (const ast::Modifier &m : b.modifiers) {
               modifiers += ' ';
               modifiers += modifierText(m);
             }
             add(indent + 1, key + wrapped(b.source, indent + 1, key, modifiers.size()) + modifiers,
                 tok(b.loc));
           });
  }

  void block(const ast::BlockDecl &b, int indent) {
    std::string head = "block " + b.name.text;
    if (b.hasParens || !b.params.empty()) {
      head += '(';
      for (size_t i = 0; i < b.params.size(); ++i) {
        head += (i ? ", " : "") + b.params[i].name.text;
        if (b.params[i].defaultValue)
          head += " = " + exprText(*b.params[i].defaultValue);
      }
      head += ')';
    }
    int start = tok(b.loc);
    auto span = braces(start);
    std::string body = chainText(b.body);
    std::string oneLine = head + " { " + body + " }";
    if (fits(indent, oneLine) && !commentsInside(span)) {
      add(indent, std::move(oneLine), start);
      return;
    }
    add(indent, head + " {", start);
    startItem(false, true);
    add(indent + 1, wrapped(b.body, indent + 1, ""), span.first + 1);
    close(indent, span.second, false);
  }

  void shared(const ast::SharedDecl &s, int indent) {
    std::string text = "shared ";
    if (s.sharing)
      text += exprText(*s.sharing) + " ";
    text += s.name.text + " = ";
    add(indent, text + wrapped(s.chain, indent, text), tok(s.loc));
  }

  void task(const ast::TaskDecl &t, int indent) {
    size_t width = 0;
    for (const ast::TaskField &f : t.fields)
      if (!f.values.empty())
        width = std::max(width, f.key.text.size());
    braced(indent, "task " + t.name.text + " : " + exprText(t.kind), tok(t.loc), t.fields,
           [&](const ast::TaskField &f) {
             std::string text = f.key.text;
             if (!f.values.empty()) {
               text = padded(text, width) + " =";
               for (size_t i = 0; i < f.values.size(); ++i) {
                 text += i ? ", " : " ";
                 text += wrapped(f.values[i], indent + 1, text, i + 1 < f.values.size());
               }
             }
             add(indent + 1, std::move(text), tok(f.loc));
           });
  }

  void regularize(const ast::RegularizeDecl &r, int indent) {
    std::string text = "regularize ";
    for (size_t i = 0; i < r.terms.size(); ++i) {
      const ast::RegTerm &term = r.terms[i];
      text += (i ? ", " : "") + exprText(term.penalty);
      for (size_t j = 0; j < term.targets.size(); ++j)
        text += (j ? ", " : " on ") + term.targets[j].text;
    }
    add(indent, std::move(text), tok(r.loc));
  }

  static size_t keyWidth(const std::vector<ast::Setting> &settings) {
    size_t width = 0;
    for (const ast::Setting &s : settings)
      width = std::max(width, s.key.text.size());
    return width;
  }

  void setting(const ast::Setting &s, size_t width, int indent) {
    add(indent, padded(s.key.text, width) + " = " + exprText(s.value), tok(s.loc));
  }

  // `train { ... }` or `search { ... }`: on one line when it fits.
  void settingsBlock(const std::string &word, const std::vector<ast::Setting> &settings,
                     SourceLoc loc, int indent) {
    int start = tok(loc);
    std::string oneLine = word + " {";
    for (size_t i = 0; i < settings.size(); ++i)
      oneLine += (i ? ", " : " ") + settings[i].key.text + " = " + exprText(settings[i].value);
    oneLine += settings.empty() ? "}" : " }";
    if (fits(indent, oneLine) && !commentsInside(braces(start))) {
      add(indent, std::move(oneLine), start);
      return;
    }
    size_t width = keyWidth(settings);
    braced(indent, word, start, settings,
           [&](const ast::Setting &s) { setting(s, width, indent + 1); });
  }

  // `experiment { ... }`: its settings and search blocks in source order.
  void experiment(const ast::ExperimentDecl &e, int indent) {
    if (e.searches.empty()) {
      settingsBlock("experiment", e.settings, e.loc, indent);
      return;
    }
    using Entry = std::variant<const ast::Setting *, const ast::SearchDecl *>;
    std::vector<std::pair<int, Entry>> entries;
    for (const ast::Setting &s : e.settings)
      entries.emplace_back(tok(s.loc), &s);
    for (const ast::SearchDecl &s : e.searches)
      entries.emplace_back(tok(s.loc), &s);
    std::sort(entries.begin(), entries.end(),
              [](const auto &a, const auto &b) { return a.first < b.first; });
    size_t width = keyWidth(e.settings);
    braced(indent, "experiment", tok(e.loc), entries, [&](const std::pair<int, Entry> &entry) {
      if (auto *s = std::get_if<const ast::Setting *>(&entry.second))
        setting(**s, width, indent + 1);
      else {
        const ast::SearchDecl &search = *std::get<const ast::SearchDecl *>(entry.second);
        settingsBlock("search", search.settings, search.loc, indent + 1);
      }
    });
  }

  const ast::File &file_;
  format::SourceTokens tokens_;
  std::vector<int> commentTokens_; ///< per comment, sorted: how many tokens precede it
  std::vector<Unit> units_;
  bool pendingForce_ = false, pendingNoBlank_ = false;
};

} // namespace

std::string formatFile(const ast::File &file, const SourceManager &sources) {
  Formatter f(file, sources);
  std::vector<Unit> units = f.run();
  return format::renderUnits(std::move(units), f.tokens(), file.comments, sources, file.fileId);
}

} // namespace mtl
