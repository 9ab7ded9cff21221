// SyntaxErrors.cpp: readable syntax error messages from ANTLR's error reports.
#include "frontend/SyntaxErrors.h"

#include "MtlLexer.h"
#include "MtlParser.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <optional>

namespace mtl {
namespace {

std::string describeTokenType(const antlr4::dfa::Vocabulary &vocab, size_t type) {
  switch (type) {
  case antlr4::Token::EOF:
    return "end of file";
  case mtlgen::MtlLexer::IDENT:
  case mtlgen::MtlParser::LINE_IDENT:
    return "a name";
  case mtlgen::MtlLexer::INT:
    return "an integer";
  case mtlgen::MtlLexer::NUMBER:
    return "a number";
  case mtlgen::MtlLexer::STRING:
    return "a string";
  default:
    return vocab.getDisplayName(type);
  }
}

// The width of a token on screen: UTF-8 continuation bytes take no column.
int columns(const std::string &text) {
  int n = static_cast<int>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
  return std::max(n, 1);
}

std::string quoteToken(antlr4::Token *token) {
  if (!token || token->getType() == antlr4::Token::EOF)
    return "end of file";
  std::string text = token->getText();
  if (text.size() == 1) {
    unsigned char c = static_cast<unsigned char>(text[0]);
    if (c < 0x20 || c >= 0x7f)
      return fmt::format("byte 0x{:02x}", c);
  }
  if (text.size() > 40)
    text = text.substr(0, 37) + "...";
  for (char &c : text)
    if (static_cast<unsigned char>(c) < 0x20)
      c = ' ';
  return "'" + text + "'";
}

bool isKeyword(const std::string &display) {
  return display.size() > 2 && display.front() == '\'' &&
         std::isalpha(static_cast<unsigned char>(display[1]));
}

bool startsExpression(size_t type, const std::string &display) {
  return type == mtlgen::MtlLexer::IDENT || type == mtlgen::MtlParser::LINE_IDENT ||
         type == mtlgen::MtlLexer::INT || type == mtlgen::MtlLexer::NUMBER ||
         type == mtlgen::MtlLexer::STRING || display == "'('" || display == "'['" ||
         display == "'-'" || isKeyword(display);
}

constexpr const char *kModelItems[] = {"'input'", "'data'",      "'block'",      "'shared'",
                                       "'task'",  "'balance'",   "'regularize'", "'optimizer'",
                                       "'train'", "'experiment'"};

bool isModelItem(const std::string &display) {
  return std::find(std::begin(kModelItems), std::end(kModelItems), display) !=
         std::end(kModelItems);
}

std::string alternatives(const std::vector<std::string> &items) {
  if (items.size() == 1)
    return "expected " + items[0];
  if (items.size() == 2)
    return "expected " + items[0] + " or " + items[1];
  std::string out = "expected one of ";
  for (size_t i = 0; i < items.size(); ++i)
    out += (i ? ", " : "") + items[i];
  return out;
}

// The set of tokens the parser could have accepted, phrased for people. Names
// and keywords are interchangeable in many places, so a set holding IDENT
// drops the keywords that are only there because they may serve as names;
// the starts of an expression and of a model item are named as one each.
std::string expectedPhrase(antlr4::Parser *parser) {
  antlr4::misc::IntervalSet set;
  try {
    set = parser->getExpectedTokens();
  } catch (...) {
    return "";
  }
  const antlr4::dfa::Vocabulary &vocab = parser->getVocabulary();
  std::vector<ssize_t> types = set.toList();
  auto has = [&](size_t t) { return set.contains(t); };
  auto hasDisplay = [&](const std::string &d) {
    return std::any_of(types.begin(), types.end(),
                       [&](size_t t) { return vocab.getDisplayName(t) == d; });
  };
  bool hasName = has(mtlgen::MtlLexer::IDENT) || has(mtlgen::MtlParser::LINE_IDENT);
  bool expression =
      hasName && has(mtlgen::MtlLexer::INT) && has(mtlgen::MtlLexer::STRING) && hasDisplay("'('");
  bool modelItem = !hasName && std::all_of(std::begin(kModelItems), std::end(kModelItems),
                                           [&](const char *k) { return hasDisplay(k); });
  std::vector<std::string> items;
  for (size_t t : types) {
    std::string display = vocab.getDisplayName(t);
    if (expression && startsExpression(t, display))
      continue;
    if (modelItem && isModelItem(display))
      continue;
    if (hasName && isKeyword(display) && display != "'true'" && display != "'false'")
      continue;
    std::string item = describeTokenType(vocab, t);
    if (std::find(items.begin(), items.end(), item) == items.end())
      items.push_back(item);
  }
  if (expression)
    items.push_back("an expression");
  if (modelItem)
    items.push_back("a model item");
  if (items.empty() || items.size() > 6)
    return "";
  return alternatives(items);
}

// ANTLR names a missing token by its grammar name (`INT`) or as a set.
std::string missingPhrase(const std::string &what) {
  if (what == "INT")
    return "an integer";
  if (what == "NUMBER")
    return "a number";
  if (what == "STRING")
    return "a string";
  if (what == "IDENT" || what == "LINE_IDENT")
    return "a name";
  return what;
}

// The default-channel token `steps` places before `index` (negative: earlier), or null.
antlr4::Token *neighbour(antlr4::TokenStream *tokens, size_t index, int steps) {
  long i = static_cast<long>(index);
  while (steps < 0 && i > 0) {
    antlr4::Token *t = tokens->get(static_cast<size_t>(--i));
    if (t->getChannel() == antlr4::Token::DEFAULT_CHANNEL && ++steps == 0)
      return t;
  }
  return nullptr;
}

// The innermost bracket still open at token `last` (inclusive): the
// nearest '(' or '[' before it whose closer does not come before it.
antlr4::Token *openBracket(antlr4::TokenStream *tokens, size_t last) {
  int depth = 0;
  for (long i = static_cast<long>(last); i >= 0; --i) {
    antlr4::Token *t = tokens->get(static_cast<size_t>(i));
    if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL)
      continue;
    const std::string text = t->getText();
    if (text == ")" || text == "]")
      ++depth;
    else if ((text == "(" || text == "[") && depth-- == 0)
      return t;
  }
  return nullptr;
}

// `in 1, 2` (the list without its brackets) parses as a new binding named
// `in`, so ANTLR would ask for '='. When the offending token follows an `in`
// that comes where a modifier may, say what `in` needs instead, with the
// values the user wrote on that line as the example.
std::optional<std::string> inWithoutList(antlr4::Parser *parser, antlr4::Token *offending) {
  if (!offending || offending->getText() == "[")
    return std::nullopt;
  antlr4::TokenStream *tokens = parser->getTokenStream();
  size_t index = offending->getTokenIndex();
  antlr4::Token *in = neighbour(tokens, index, -1);
  if (!in || in->getText() != "in")
    return std::nullopt;
  // Only where a modifier may follow: after a selection or another modifier.
  antlr4::Token *before = neighbour(tokens, index, -2);
  static const char *const kEnds[] = {")", "]", "standardize", "class", "images", "labels"};
  if (!before ||
      std::find(std::begin(kEnds), std::end(kEnds), before->getText()) == std::end(kEnds))
    return std::nullopt;
  std::string values;
  for (size_t i = index; i < tokens->size(); ++i) {
    antlr4::Token *t = tokens->get(i);
    if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL)
      continue;
    size_t type = t->getType();
    bool value = type == mtlgen::MtlLexer::INT || type == mtlgen::MtlLexer::NUMBER ||
                 type == mtlgen::MtlLexer::STRING;
    if (t->getLine() != in->getLine() || !(value || t->getText() == ","))
      break;
    values += value ? t->getText() : ", ";
  }
  if (values.empty() || values.size() > 40 || values.back() == ' ')
    values = "1, 2";
  return fmt::format("expected '[' after 'in'; 'in' takes a list in brackets (write in [{}])",
                     values);
}

// What a character outside ASCII, where only ASCII may stand, is taken for:
// the ASCII it looks like, or a letter in a name.
std::string nonAsciiMessage(const std::string &found, const std::string &text) {
  static const std::pair<const char *, const char *> lookalikes[] = {
      {"\u2192", "->"}, {"\u2212", "-"},       {"\u2013", "-"},
      {"\u2014", "-"},  {"\u00d7", "*"},       {"\u201c", "\""},
      {"\u201d", "\""}, {"\u00a0", "a space"}, {"\u2009", "a space"}};
  for (const auto &[glyph, ascii] : lookalikes)
    if (text == glyph)
      return fmt::format("unexpected {}; outside strings and comments a model is ASCII: write {}",
                         found, ascii[0] == 'a' ? ascii : fmt::format("'{}'", ascii));
  return fmt::format("unexpected {}; outside strings and comments a model is ASCII: a name is "
                     "letters a-z and A-Z, digits and '_'",
                     found);
}

} // namespace

void SyntaxErrorListener::syntaxError(antlr4::Recognizer *recognizer,
                                      antlr4::Token *offendingSymbol, size_t line,
                                      size_t charPositionInLine, const std::string &msg,
                                      std::exception_ptr) {
  SourceLoc loc{fileId_, static_cast<int>(line), static_cast<int>(charPositionInLine) + 1, 1};
  if (loc.line == lastLine_)
    return;

  auto *parser = dynamic_cast<antlr4::Parser *>(recognizer);
  if (!parser) { // the lexer: our grammar's ANY rule leaves it nothing to reject
    report(loc, "invalid input: " + msg);
    return;
  }
  if (offendingSymbol && offendingSymbol->getType() != antlr4::Token::EOF)
    loc.length = columns(offendingSymbol->getText());

  std::string found = quoteToken(offendingSymbol);
  if (offendingSymbol && offendingSymbol->getType() == mtlgen::MtlLexer::ANY &&
      found.rfind("byte", 0) == 0) {
    report(loc, fmt::format("invalid character ({}) in model source", found));
    return;
  }
  if (offendingSymbol && offendingSymbol->getType() == mtlgen::MtlLexer::ANY &&
      static_cast<unsigned char>(offendingSymbol->getText()[0]) >= 0x80) {
    report(loc, nonAsciiMessage(found, offendingSymbol->getText()));
    return;
  }
  if (auto message = inWithoutList(parser, offendingSymbol)) {
    report(loc, *message);
    return;
  }
  if (msg.rfind("missing ", 0) == 0) {
    // "missing X at 'y'": the parser would insert X.
    size_t at = msg.rfind(" at ");
    std::string what = msg.substr(8, at == std::string::npos ? std::string::npos : at - 8);
    if (what.empty() || what[0] != '{') {
      report(loc, fmt::format("expected {} before {}", missingPhrase(what), found));
      return;
    }
  }
  std::string expected = expectedPhrase(parser);
  // A bracket left open at the end of a line: the next line's first token is
  // what the parser trips on, but the mistake is where the line ends.
  antlr4::Token *before =
      offendingSymbol ? neighbour(parser->getTokenStream(), offendingSymbol->getTokenIndex(), -1)
                      : nullptr;
  antlr4::Token *open =
      before ? openBracket(parser->getTokenStream(), before->getTokenIndex()) : nullptr;
  const char *closer = open && open->getText() == "[" ? "']'" : "')'";
  if (open && before->getLine() < offendingSymbol->getLine() &&
      expected.find(closer) != std::string::npos) {
    SourceLoc end{
        fileId_, static_cast<int>(before->getLine()),
        static_cast<int>(before->getCharPositionInLine()) + 1 + columns(before->getText()), 1};
    if (open->getLine() == before->getLine()) {
      report(end, fmt::format("expected {} before the end of the line; a bracket opened on this "
                              "line is not closed",
                              closer));
      return;
    }
    // Opened lines earlier: the lines after it were read as what it holds.
    SourceLoc at{fileId_, static_cast<int>(open->getLine()),
                 static_cast<int>(open->getCharPositionInLine()) + 1, 1};
    if (Diagnostic *d = report(end, fmt::format("expected {} before the end of the line; the "
                                                "'{}' opened on line {} is not closed",
                                                closer, open->getText(), open->getLine())))
      d->note(at, fmt::format("'{}' opened here", open->getText()));
    return;
  }
  if (expected.empty())
    report(loc, fmt::format("unexpected {}", found));
  else
    report(loc, fmt::format("unexpected {}; {}", found, expected));
}

Diagnostic *SyntaxErrorListener::report(SourceLoc loc, std::string message) {
  if (loc.line == lastLine_)
    return nullptr;
  lastLine_ = loc.line;
  return &diags_.error(loc, std::move(message));
}

bool reportLexicalErrors(antlr4::CommonTokenStream &tokens, int fileId, DiagnosticEngine &diags) {
  const std::vector<antlr4::Token *> &all = tokens.getTokens();
  bool ok = true;
  for (size_t i = 0; i < all.size(); ++i) {
    antlr4::Token *t = all[i];
    SourceLoc loc{fileId, static_cast<int>(t->getLine()),
                  static_cast<int>(t->getCharPositionInLine()) + 1, 1};
    if (t->getType() == mtlgen::MtlLexer::ANY && t->getText() == "\"") {
      diags.error(loc, "unterminated string; a string must end with '\"' on the line where "
                       "it starts");
      ok = false;
    } else if (t->getText() == "/" && i + 1 < all.size() && all[i + 1]->getText() == "*" &&
               all[i + 1]->getStartIndex() == t->getStopIndex() + 1) {
      // A `/*` that lexed as two tokens found no `*/` anywhere after it, so
      // the rest of the file was meant as comment: nothing more to parse.
      loc.length = 2;
      diags.error(loc, "unterminated comment; '/*' has no matching '*/'");
      return false;
    }
  }
  return ok;
}

} // namespace mtl
