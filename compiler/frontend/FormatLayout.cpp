// FormatLayout.cpp: re-lexing for token positions, comment placement and line emission.
#include "frontend/FormatLayout.h"

#include "MtlLexer.h"
#include <antlr4-runtime.h>

#include <algorithm>

namespace mtl::format {

SourceTokens::SourceTokens(const SourceManager &sources, int fileId) {
  if (fileId < 0 || fileId >= sources.fileCount())
    return;
  // The AST came from the same text through the same lexer, so positions agree;
  // the catch only keeps a malformed buffer (invalid UTF-8) from escaping.
  try {
    antlr4::ANTLRInputStream input(sources.text(fileId));
    mtlgen::MtlLexer lexer(&input);
    lexer.removeErrorListeners();
    for (auto t = lexer.nextToken(); t && t->getType() != antlr4::Token::EOF;
         t = lexer.nextToken()) {
      if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL)
        continue;
      tokens_.push_back({static_cast<int>(t->getLine()),
                         static_cast<int>(t->getCharPositionInLine()) + 1, t->getText()});
    }
  } catch (...) {
    tokens_.clear();
  }
}

int SourceTokens::countBefore(int line, int col) const {
  auto it = std::lower_bound(tokens_.begin(), tokens_.end(), std::pair(line, col),
                             [](const Token &t, const std::pair<int, int> &pos) {
                               return std::pair(t.line, t.col) < pos;
                             });
  return static_cast<int>(it - tokens_.begin());
}

int SourceTokens::indexAt(const SourceLoc &loc) const { return countBefore(loc.line, loc.col); }

int SourceTokens::find(int from, std::string_view text) const {
  for (int i = std::max(from, 0); i < size(); ++i)
    if (tokens_[i].text == text)
      return i;
  return -1;
}

int SourceTokens::matchingBrace(int open) const {
  int depth = 0;
  for (int i = std::max(open, 0); i < size(); ++i) {
    if (tokens_[i].text == "{")
      ++depth;
    else if (tokens_[i].text == "}" && --depth == 0)
      return i;
  }
  return size() - 1;
}

int SourceTokens::line(int index) const {
  return index >= 0 && index < size() ? tokens_[index].line : 0;
}

int SourceTokens::col(int index) const {
  return index >= 0 && index < size() ? tokens_[index].col : 0;
}

namespace {

int endLine(const ast::Comment &c) {
  return c.loc.line + static_cast<int>(std::count(c.text.begin(), c.text.end(), '\n'));
}

// Comments are kept as written, except for trailing blanks and the `\r` of
// CRLF line ends, which the rest of the output does not use either.
std::string commentText(const ast::Comment &c) {
  std::string text;
  for (size_t i = 0; i < c.text.size(); ++i)
    if (c.text[i] != '\r' || i + 1 == c.text.size() || c.text[i + 1] != '\n')
      text += c.text[i];
  if (text.rfind("//", 0) == 0)
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
      text.pop_back();
  return text;
}

class Renderer {
public:
  Renderer(std::vector<Unit> units, const SourceTokens &tokens, const SourceManager &sources,
           int fileId)
      : units_(std::move(units)), tokens_(tokens), sources_(sources), fileId_(fileId) {
    // The end-of-file unit collects the comments after the last token.
    Unit eof;
    eof.firstToken = tokens_.size();
    units_.push_back(eof);
    // Units must partition the tokens in order; an AST that does not match its
    // text degrades comment placement but never loses a comment.
    int floor = 0;
    for (Unit &u : units_) {
      u.firstToken = std::clamp(u.firstToken, floor, tokens_.size());
      floor = u.firstToken;
    }
    units_.back().firstToken = tokens_.size();
    leading_.resize(units_.size());
    trailing_.resize(units_.size());
  }

  void place(const std::vector<ast::Comment> &comments) {
    std::vector<const ast::Comment *> order;
    for (const ast::Comment &c : comments)
      order.push_back(&c);
    std::stable_sort(order.begin(), order.end(), [](auto *a, auto *b) {
      return std::pair(a->loc.line, a->loc.col) < std::pair(b->loc.line, b->loc.col);
    });
    for (const ast::Comment *c : order) {
      int next = tokens_.countBefore(c->loc.line, c->loc.col);
      int prev = next - 1;
      size_t after = unitOf(next);
      if (prev >= 0) {
        size_t before = unitOf(prev);
        if (before != after && c->loc.line == tokens_.line(prev)) {
          trailing_[before].push_back(c);
          continue;
        }
      }
      leading_[after].push_back(c);
    }
  }

  std::string render() {
    for (size_t i = 0; i < units_.size(); ++i) {
      const Unit &u = units_[i];
      first_ = true;
      for (const ast::Comment *c : leading_[i]) {
        emit(u.commentIndent, commentText(*c), wantBlank(u, c->loc.line, false));
        lastLine_ = endLine(*c);
      }
      if (i + 1 == units_.size())
        break; // the end-of-file unit has no line of its own
      std::string text = u.text;
      int end = lastTokenLine(i);
      for (const ast::Comment *c : trailing_[i]) {
        text += ' ';
        text += commentText(*c);
        end = std::max(end, endLine(*c));
      }
      int start = u.firstToken < tokens_.size() ? tokens_.line(u.firstToken) : lastLine_;
      emit(u.indent, text, wantBlank(u, start, true));
      lastLine_ = std::max(end, start);
    }
    return out_;
  }

private:
  // The unit whose tokens include `token`: the last one starting at or before it.
  size_t unitOf(int token) const {
    auto it = std::upper_bound(units_.begin(), units_.end(), token,
                               [](int t, const Unit &u) { return t < u.firstToken; });
    return it == units_.begin() ? 0 : static_cast<size_t>(it - units_.begin()) - 1;
  }

  int lastTokenLine(size_t i) const {
    int last = units_[i + 1].firstToken - 1;
    if (last < units_[i].firstToken)
      return tokens_.line(units_[i].firstToken);
    return tokens_.line(last);
  }

  bool sourceHasBlank(int after, int before) const {
    if (after <= 0)
      return false;
    for (int line = after + 1; line < before; ++line) {
      std::string_view text = sources_.line(fileId_, line);
      if (text.find_first_not_of(" \t\r\f\v") == std::string_view::npos)
        return true;
    }
    return false;
  }

  bool wantBlank(const Unit &u, int startLine, bool isUnitLine) {
    bool first = first_;
    first_ = false;
    if (isUnitLine && u.isClose)
      return false;
    if (first && u.forceBlank)
      return true;
    if (first && u.noBlank)
      return false;
    return sourceHasBlank(lastLine_, startLine);
  }

  void emit(int indent, const std::string &text, bool blank) {
    if (blank && !out_.empty())
      out_ += '\n';
    out_.append(static_cast<size_t>(std::max(indent, 0)) * 2, ' ');
    out_ += text;
    out_ += '\n';
  }

  std::vector<Unit> units_;
  const SourceTokens &tokens_;
  const SourceManager &sources_;
  int fileId_;
  std::vector<std::vector<const ast::Comment *>> leading_, trailing_;
  std::string out_;
  int lastLine_ = 0;
  bool first_ = true;
};

} // namespace

std::string renderUnits(std::vector<Unit> units, const SourceTokens &tokens,
                        const std::vector<ast::Comment> &comments, const SourceManager &sources,
                        int fileId) {
  Renderer r(std::move(units), tokens, sources, fileId);
  r.place(comments);
  return r.render();
}

} // namespace mtl::format
