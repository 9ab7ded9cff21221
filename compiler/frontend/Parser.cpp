// Parser.cpp: lexing, limits on pathological input, parsing and AST building.
#include "frontend/Parser.h"

#include "frontend/AstBuilder.h"
#include "frontend/Recovery.h"
#include "frontend/SyntaxErrors.h"
#include "support/BigStack.h"

#include "MtlLexer.h"
#include "MtlParser.h"
#include <antlr4-runtime.h>
#include <cstdint>
#include <fmt/format.h>

namespace mtl {
namespace {

// Limits that no real model reaches but that keep recursion bounded on
// adversarial input: bracket nesting, and operators in one expression.
constexpr int kMaxNesting = 128;
constexpr int kMaxOperatorRun = 1000;

SourceLoc tokenLoc(antlr4::Token *t, int fileId) {
  return {fileId, static_cast<int>(t->getLine()), static_cast<int>(t->getCharPositionInLine()) + 1,
          1};
}

// Counts operators per top-level expression, not per run between operands:
// strings, keywords used as names, calls and lists may sit between operators
// and still build one left-deep tree (`"a" + "a" + ...`, `f(k = 1) + f(k = 1)`)
// whose depth every later tree walk recurses through. So the count restarts
// only at tokens that end an expression outside all parentheses and brackets.
bool checkLimits(antlr4::CommonTokenStream &tokens, int fileId, DiagnosticEngine &diags) {
  int depth = 0, exprDepth = 0, operators = 0;
  for (antlr4::Token *t : tokens.getTokens()) {
    if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL)
      continue;
    std::string s = t->getText();
    if (s == "(" || s == "[" || s == "{") {
      if (++depth > kMaxNesting) {
        diags.error(tokenLoc(t, fileId),
                    fmt::format("brackets nested more than {} deep", kMaxNesting));
        return false;
      }
    } else if (s == ")" || s == "]" || s == "}") {
      depth = std::max(0, depth - 1);
    }
    if (s == "{" || s == "}") { // braces never occur inside an expression
      exprDepth = operators = 0;
    } else if (s == "(" || s == "[") {
      ++exprDepth;
    } else if (s == ")" || s == "]") {
      exprDepth = std::max(0, exprDepth - 1);
    } else if (s == "+" || s == "-" || s == "*" || s == "/") {
      if (++operators > kMaxOperatorRun) {
        diags.error(tokenLoc(t, fileId),
                    fmt::format("expression has more than {} operators", kMaxOperatorRun));
        return false;
      }
    } else if (exprDepth == 0 && (s == "," || s == "=" || s == "->" || s == ":" || s == "..")) {
      operators = 0;
    }
  }
  return true;
}

// ANTLR's UTF-8 decoder throws on malformed input; finding the bad byte first
// gives a located message instead of an internal failure.
bool checkUtf8(const std::string &text, int fileId, DiagnosticEngine &diags) {
  int line = 1, col = 1;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    bool ok = n > 0 && i + n <= text.size();
    for (size_t k = 1; ok && k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      ok = (cc >> 6) == 0x2;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are malformed too.
    static constexpr uint32_t kMinOf[] = {0, 0, 0x80, 0x800, 0x10000};
    ok = ok && cp >= kMinOf[n] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    if (!ok) {
      diags.error({fileId, line, col, 1},
                  fmt::format("invalid UTF-8 byte 0x{:02x}; model source must be UTF-8 text", c));
      return false;
    }
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    i += n;
  }
  return true;
}

// Names that start a line become LINE_IDENT: a binding's modifiers follow
// its selection on the same line, so the grammar can tell an unknown word
// there (a misspelt modifier) from the name that starts the next binding
// with one token of lookahead, whatever follows.
void markLineStarts(antlr4::CommonTokenStream &tokens) {
  size_t lastLine = 0;
  for (antlr4::Token *t : tokens.getTokens()) {
    if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL)
      continue;
    if (t->getType() == mtlgen::MtlLexer::IDENT && t->getLine() != lastLine)
      static_cast<antlr4::WritableToken *>(t)->setType(mtlgen::MtlParser::LINE_IDENT);
    lastLine = t->getLine();
  }
}

} // namespace

std::optional<ast::File> parseFile(const SourceManager &sources, int fileId,
                                   DiagnosticEngine &diags, SyntaxErrorPolicy policy) {
  std::optional<ast::File> result;
  unsigned before = diags.errorCount();
  runWithBigStack([&] {
    try {
      if (!checkUtf8(sources.text(fileId), fileId, diags))
        return;
      antlr4::ANTLRInputStream input(sources.text(fileId));
      mtlgen::MtlLexer lexer(&input);
      SyntaxErrorListener listener(diags, fileId);
      lexer.removeErrorListeners();
      lexer.addErrorListener(&listener);
      antlr4::CommonTokenStream tokens(&lexer);
      tokens.fill();
      if (!checkLimits(tokens, fileId, diags) || !reportLexicalErrors(tokens, fileId, diags))
        return;
      markLineStarts(tokens);
      mtlgen::MtlParser parser(&tokens);
      parser.removeErrorListeners();
      parser.addErrorListener(&listener);
      auto strategy = std::make_shared<RecoveringErrorStrategy>(listener, fileId);
      parser.setErrorHandler(strategy);
      auto *tree = parser.file();
      unsigned parsed = diags.errorCount();
      if (strategy->losses().topLevel || (parsed != before && policy == SyntaxErrorPolicy::NoAst))
        return;
      SkippedParts skipped;
      ast::File file = buildAst(tree, tokens, fileId, diags, strategy->losses(), skipped);
      if (diags.errorCount() != parsed && policy == SyntaxErrorPolicy::NoAst)
        return;
      for (const auto &[from, to] : skipped.ranges)
        diags.quiet(from, to);
      for (const std::string &name : skipped.names)
        diags.quietName(fileId, name);
      result = std::move(file);
    } catch (const std::exception &e) {
      diags.error({fileId, 1, 1, 1}, fmt::format("internal parser failure: {}", e.what()));
    }
  });
  return result;
}

} // namespace mtl
