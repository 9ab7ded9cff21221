// Recovery.h: the parser's error strategy: misspelt keywords, recovery by declaration.
#pragma once

#include "frontend/SyntaxErrors.h"

#include <DefaultErrorStrategy.h>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace mtl {

/// What error recovery lost of a file's text, for the AST builder: the
/// parse trees of these places may have holes or be guesses.
struct Losses {
  /// Units (bindings, task fields, train settings, model items, top-level
  /// declarations) that lost part of their text or hold a token the parser
  /// dropped or made up (other than punctuation): left out of the AST.
  std::set<const antlr4::ParserRuleContext *> units;
  /// Containers (model, data, task and train blocks) that lost text between
  /// their units: kept, but what they hold may be incomplete.
  std::set<const antlr4::ParserRuleContext *> containers;
  /// The names in that lost text, which may have been declarations.
  std::vector<std::string> words;
  /// Text outside every unit was lost (stray top-level text, a broken import):
  /// nothing tells what it declared.
  bool topLevel = false;
};

/// ANTLR's default error strategy, changed so that one mistake never hides
/// the rest of a file:
///  - a name where only keywords may stand and close to one of them (`tsak`
///    where a model item starts, `modle` at the top level) is reported as
///    "unknown model item 'tsak'; did you mean 'task'?" and read as that
///    keyword, so the declaration it starts is parsed and checked as usual;
///  - after any other error inside a data binding, task field, train setting,
///    model item or top-level declaration, the parser skips to the start of
///    the next one, judged by brackets and, where a closing brace is missing,
///    by indentation; so every later declaration is parsed and its errors
///    are reported;
///  - it records what was lost (see `losses`).
class RecoveringErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
  RecoveringErrorStrategy(SyntaxErrorListener &listener, int fileId)
      : listener_(listener), fileId_(fileId) {}

  /// Before each decision: corrects a misspelt keyword, notices a missing
  /// `}` by indentation, drops a stray token, or skips stray text between
  /// the units of a container.
  void sync(antlr4::Parser *parser) override;
  /// After an error: unwinds to the innermost unit and skips to the next.
  void recover(antlr4::Parser *parser, std::exception_ptr e) override;

  /// What recovery lost so far. Corrected keywords, a stray ';' or bracket
  /// dropped between two units and made-up punctuation (a missing `)` or
  /// `}`) lose nothing.
  const Losses &losses() const { return losses_; }

protected:
  antlr4::Token *singleTokenDeletion(antlr4::Parser *parser) override;
  antlr4::Token *getMissingSymbol(antlr4::Parser *parser) override;

private:
  void markDamaged(antlr4::ParserRuleContext *ctx);
  void markLossy(antlr4::Parser *parser, antlr4::ParserRuleContext *container, size_t from);
  bool closesOpenBracket(antlr4::Parser *parser);
  bool correctKeyword(antlr4::Parser *parser, antlr4::Token *token);
  bool missingCloser(antlr4::Parser *parser, antlr4::ParserRuleContext *container);
  void skipToNext(antlr4::Parser *parser, antlr4::Token *first, size_t rule,
                  antlr4::ParserRuleContext *container);

  SyntaxErrorListener &listener_;
  int fileId_;
  Losses losses_;
  bool closing_ = false; ///< a container was ended at a missing '}'; the unit above ends too
  std::pair<size_t, size_t> lastSkip_{static_cast<size_t>(-1), 0}; ///< token index, unit rule
};

} // namespace mtl
