// Recovery.cpp: keyword typo correction and declaration-level resynchronisation for the parser.
//
// ANTLR recovers token by token: it resumes at the first token that could
// follow anything on its rule stack, which in this grammar (where keywords
// double as names) is often the middle of the same declaration, and a wrong
// resumption point turns one mistake into several. Here an error inside a
// declaration unwinds to the innermost declaration-like rule (a unit) and
// the parser resumes at the start of the next unit of the same kind. Units
// sit in containers: bindings in a data block, fields in a task, settings in
// a train block, items in a model, and top-level declarations in the file.
#include "frontend/Recovery.h"

#include "support/Suggest.h"

#include "MtlParser.h"
#include <antlr4-runtime.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace mtl {
namespace {

using P = mtlgen::MtlParser;

const std::vector<std::string> kItemWords = {"input", "data",      "block",      "shared",
                                             "task",  "balance",   "regularize", "optimizer",
                                             "train", "experiment"};
const std::vector<std::string> kTopWords = {"model", "block", "import"};

bool contains(const std::vector<std::string> &words, const std::string &w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

// The keyword a token type stands for ("task"), or "" for other tokens.
std::string keywordOf(const antlr4::dfa::Vocabulary &vocab, size_t type) {
  std::string literal = vocab.getLiteralName(type);
  if (literal.size() < 3 || !std::isalpha(static_cast<unsigned char>(literal[1])))
    return "";
  return literal.substr(1, literal.size() - 2);
}

// Made-up punctuation (a missing ')' or '}') leaves every value of the tree
// as written; a made-up name or number would become one.
bool isPunctuation(const antlr4::dfa::Vocabulary &vocab, size_t type) {
  std::string literal = vocab.getLiteralName(type);
  return literal.size() > 2 && std::none_of(literal.begin() + 1, literal.end() - 1, [](char c) {
           return std::isalnum(static_cast<unsigned char>(c));
         });
}

bool isIdent(size_t type) { return type == P::IDENT || type == P::LINE_IDENT; }

bool isUnit(size_t rule) {
  return rule == P::RuleBinding || rule == P::RuleTaskField || rule == P::RuleSetting ||
         rule == P::RuleSearchDecl || rule == P::RuleModelItem || rule == P::RuleTopDecl ||
         rule == P::RuleImportDecl;
}

bool isContainer(size_t rule) {
  return rule == P::RuleFile || rule == P::RuleModelDecl || rule == P::RuleDataDecl ||
         rule == P::RuleTaskDecl || rule == P::RuleTrainDecl || rule == P::RuleExperimentDecl ||
         rule == P::RuleSearchDecl;
}

// The units a container holds.
size_t unitOf(size_t container) {
  switch (container) {
  case P::RuleModelDecl:
    return P::RuleModelItem;
  case P::RuleDataDecl:
    return P::RuleBinding;
  case P::RuleTaskDecl:
    return P::RuleTaskField;
  case P::RuleTrainDecl:
  case P::RuleExperimentDecl:
  case P::RuleSearchDecl:
    return P::RuleSetting;
  default:
    return P::RuleTopDecl;
  }
}

// Reads the token stream around a position, on the default channel only.
class Around {
public:
  Around(antlr4::Parser *parser)
      : tokens_(*parser->getTokenStream()), vocab_(parser->getVocabulary()) {}

  antlr4::Token *prev(antlr4::Token *t) const {
    for (size_t i = t->getTokenIndex(); i-- > 0;)
      if (tokens_.get(i)->getChannel() == antlr4::Token::DEFAULT_CHANNEL)
        return tokens_.get(i);
    return nullptr;
  }
  antlr4::Token *next(antlr4::Token *t) const {
    for (size_t i = t->getTokenIndex() + 1; i < tokens_.size(); ++i)
      if (tokens_.get(i)->getChannel() == antlr4::Token::DEFAULT_CHANNEL)
        return tokens_.get(i);
    return nullptr;
  }
  bool firstOnLine(antlr4::Token *t) const {
    antlr4::Token *p = prev(t);
    return !p || p->getLine() < t->getLine();
  }
  bool followedBy(antlr4::Token *t, const char *text) const {
    antlr4::Token *n = next(t);
    return n && n->getText() == text;
  }
  bool afterBrace(antlr4::Token *t) const {
    antlr4::Token *p = prev(t);
    return p && p->getText() == "}";
  }
  std::string keyword(antlr4::Token *t) const { return keywordOf(vocab_, t->getType()); }
  bool isName(antlr4::Token *t) const {
    std::string k = keyword(t);
    return isIdent(t->getType()) || (!k.empty() && k != "true" && k != "false");
  }

  // Whether `t` starts a unit of kind `rule`.
  bool startsUnit(size_t rule, antlr4::Token *t) const {
    switch (rule) {
    case P::RuleBinding:
      return isName(t) && followedBy(t, "=");
    case P::RuleSetting: // or an experiment's `search { ... }`
      return isName(t) && (followedBy(t, "=") || (keyword(t) == "search" && followedBy(t, "{")));
    case P::RuleTaskField:
      return isName(t) && (followedBy(t, "=") || firstOnLine(t));
    case P::RuleModelItem:
      return contains(kItemWords, keyword(t)) && (firstOnLine(t) || afterBrace(t));
    default:
      return contains(kTopWords, keyword(t)) && (firstOnLine(t) || afterBrace(t));
    }
  }

  // Whether `t` ends `container`: its closing brace, or the end of file.
  static bool closes(antlr4::ParserRuleContext *container, antlr4::Token *t) {
    if (container->getRuleIndex() == P::RuleFile)
      return t->getType() == antlr4::Token::EOF;
    return t->getText() == "}";
  }

  // Whether `t` starts a declaration that cannot be inside `container`, so
  // that the container's closing brace must be missing: a model item (or a
  // new model) at the start of a line, indented no deeper than the container.
  bool outdents(antlr4::ParserRuleContext *container, antlr4::Token *t) const {
    size_t rule = container->getRuleIndex();
    if (rule == P::RuleFile || t->getType() == antlr4::Token::EOF || !firstOnLine(t) ||
        t->getCharPositionInLine() > container->getStart()->getCharPositionInLine() ||
        followedBy(t, "="))
      return false;
    std::string k = keyword(t);
    return k == "model" || k == "import" || (rule != P::RuleModelDecl && contains(kItemWords, k));
  }

private:
  antlr4::TokenStream &tokens_;
  const antlr4::dfa::Vocabulary &vocab_;
};

// Brackets opened and not yet closed; a closer without its opener is ignored.
void track(std::string &open, const std::string &text) {
  static const std::string openers = "([{", closers = ")]}";
  if (text.size() != 1)
    return;
  if (openers.find(text[0]) != std::string::npos) {
    open.push_back(text[0]);
  } else if (size_t c = closers.find(text[0]); c != std::string::npos) {
    size_t at = open.rfind(openers[c]);
    if (at != std::string::npos)
      open.erase(at);
  }
}

SourceLoc tokenLoc(antlr4::Token *t, int fileId) {
  int width = std::max(1, static_cast<int>(t->getStopIndex() - t->getStartIndex() + 1));
  return {fileId, static_cast<int>(t->getLine()), static_cast<int>(t->getCharPositionInLine()) + 1,
          t->getType() == antlr4::Token::EOF ? 1 : width};
}

std::string quoted(antlr4::Token *t) {
  return t->getType() == antlr4::Token::EOF ? "end of file" : fmt::format("'{}'", t->getText());
}

} // namespace

void RecoveringErrorStrategy::sync(antlr4::Parser *parser) {
  antlr4::ParserRuleContext *ctx = parser->getContext();
  bool container = isContainer(ctx->getRuleIndex());
  if (container && missingCloser(parser, ctx))
    throw antlr4::InputMismatchException(parser);
  if (inErrorRecoveryMode(parser))
    return;
  antlr4::atn::ATNState *state = parser->getATN().states[parser->getState()];
  antlr4::Token *token = parser->getCurrentToken();
  const antlr4::misc::IntervalSet &next = parser->getATN().nextTokens(state);
  if (next.contains(token->getType()) || correctKeyword(parser, token) ||
      next.contains(antlr4::Token::EPSILON))
    return;
  switch (state->getStateType()) {
  case antlr4::atn::ATNState::BLOCK_START:
  case antlr4::atn::ATNState::STAR_BLOCK_START:
  case antlr4::atn::ATNState::PLUS_BLOCK_START:
  case antlr4::atn::ATNState::STAR_LOOP_ENTRY:
  case antlr4::atn::ATNState::STAR_LOOP_BACK:
  case antlr4::atn::ATNState::PLUS_LOOP_BACK:
    break;
  default:
    return;
  }
  if (singleTokenDeletion(parser))
    return;
  if (!container)
    throw antlr4::InputMismatchException(parser);
  // Stray tokens between the units of a container: skip them, stay in it.
  // At the end of file there is nothing to skip and nothing lost.
  reportUnwantedToken(parser);
  size_t from = parser->getTokenStream()->index();
  skipToNext(parser, token, unitOf(ctx->getRuleIndex()), ctx);
  markLossy(parser, ctx, from);
  if (missingCloser(parser, ctx))
    throw antlr4::InputMismatchException(parser);
}

void RecoveringErrorStrategy::recover(antlr4::Parser *parser, std::exception_ptr e) {
  antlr4::ParserRuleContext *ctx = parser->getContext();
  size_t rule = ctx->getRuleIndex();
  if (rule == P::RuleFile) {
    losses_.topLevel = true;
    closing_ = false;
    while (parser->getCurrentToken()->getType() != antlr4::Token::EOF)
      parser->consume();
    return;
  }
  if (!isUnit(rule))
    std::rethrow_exception(e);
  auto *container = static_cast<antlr4::ParserRuleContext *>(ctx->parent);
  size_t before = parser->getTokenStream()->index();
  // A second recovery of the same kind at the same token would repeat the
  // first forever.
  if (before == lastSkip_.first && rule == lastSkip_.second)
    parser->consume();
  lastSkip_ = {before, rule};
  skipToNext(parser, ctx->getStart(), rule, container);
  // A container ended at a missing '}' before a declaration that cannot be
  // inside it lost nothing: every unit in it was complete.
  bool lostNothing = closing_ && parser->getTokenStream()->index() == before;
  closing_ = false;
  if (!lostNothing)
    markDamaged(ctx);
}

// Whether the current token closes a bracket opened earlier in its model
// item (or top-level declaration).
bool RecoveringErrorStrategy::closesOpenBracket(antlr4::Parser *parser) {
  antlr4::TokenStream &tokens = *parser->getTokenStream();
  std::string text = parser->getCurrentToken()->getText();
  if (text != ")" && text != "]" && text != "}")
    return false;
  size_t from = 0;
  for (auto *c = static_cast<antlr4::RuleContext *>(parser->getContext()); c;
       c = dynamic_cast<antlr4::RuleContext *>(c->parent))
    if (c->getRuleIndex() == P::RuleModelItem || c->getRuleIndex() == P::RuleTopDecl) {
      from = static_cast<antlr4::ParserRuleContext *>(c)->getStart()->getTokenIndex();
      break;
    }
  std::string open;
  for (size_t i = from; i < tokens.index(); ++i)
    if (tokens.get(i)->getChannel() == antlr4::Token::DEFAULT_CHANNEL)
      track(open, tokens.get(i)->getText());
  std::string before = open;
  track(open, text);
  return open != before;
}

// Blames the innermost unit around `ctx` (or the top level, outside all).
// An import is not a unit of its own here: what it would have loaded is
// unknown, as with stray top-level text.
void RecoveringErrorStrategy::markDamaged(antlr4::ParserRuleContext *ctx) {
  for (auto *c = static_cast<antlr4::RuleContext *>(ctx); c;
       c = dynamic_cast<antlr4::RuleContext *>(c->parent)) {
    size_t rule = c->getRuleIndex();
    if (rule == P::RuleImportDecl)
      break;
    if (isUnit(rule)) {
      losses_.units.insert(static_cast<antlr4::ParserRuleContext *>(c));
      return;
    }
  }
  losses_.topLevel = true;
}

// Records that `container` lost the tokens from index `from` to the current
// one, between its units.
void RecoveringErrorStrategy::markLossy(antlr4::Parser *parser,
                                        antlr4::ParserRuleContext *container, size_t from) {
  antlr4::TokenStream &tokens = *parser->getTokenStream();
  size_t to = tokens.index();
  if (to == from)
    return;
  if (container->getRuleIndex() == P::RuleFile) {
    losses_.topLevel = true;
    return;
  }
  losses_.containers.insert(container);
  for (size_t i = from; i < to; ++i)
    if (isIdent(tokens.get(i)->getType()))
      losses_.words.push_back(tokens.get(i)->getText());
}

// Skips from the current token to the start of the next unit of kind `rule`
// in `container`, the container's end, or (when a closing brace is missing)
// a declaration at an indentation that shows where the writer meant the
// unit or its container to end. `first` is where the unit began.
void RecoveringErrorStrategy::skipToNext(antlr4::Parser *parser, antlr4::Token *first, size_t rule,
                                         antlr4::ParserRuleContext *container) {
  Around around(parser);
  antlr4::TokenStream &tokens = *parser->getTokenStream();
  std::string open;
  for (size_t i = first->getTokenIndex(); i < tokens.index(); ++i)
    if (tokens.get(i)->getChannel() == antlr4::Token::DEFAULT_CHANNEL)
      track(open, tokens.get(i)->getText());
  size_t column = first->getCharPositionInLine();
  while (true) {
    antlr4::Token *t = parser->getCurrentToken();
    if (t->getType() == antlr4::Token::EOF)
      return;
    bool ends = Around::closes(container, t) || around.startsUnit(rule, t);
    if ((open.empty() && ends) || around.outdents(container, t) ||
        (ends && around.firstOnLine(t) && t->getCharPositionInLine() <= column))
      return;
    track(open, t->getText());
    parser->consume();
  }
}

// A name where only keywords may stand, close to one of them, is read as
// that keyword: the writer sees "did you mean" and every other error of the
// declaration it starts. Where a name may stand, sema judges it instead.
bool RecoveringErrorStrategy::correctKeyword(antlr4::Parser *parser, antlr4::Token *token) {
  if (!isIdent(token->getType()))
    return false;
  antlr4::misc::IntervalSet expected;
  try {
    expected = parser->getExpectedTokens();
  } catch (...) {
    return false;
  }
  if (expected.contains(static_cast<size_t>(P::IDENT)) ||
      expected.contains(static_cast<size_t>(P::LINE_IDENT)))
    return false;
  const antlr4::dfa::Vocabulary &vocab = parser->getVocabulary();
  std::vector<std::string> words;
  for (ssize_t type : expected.toList())
    if (std::string k = keywordOf(vocab, static_cast<size_t>(type)); !k.empty())
      words.push_back(k);
  std::optional<std::string> match = closestMatch(token->getText(), words);
  if (!match)
    return false;
  size_t type = 0;
  for (size_t t = 1; t <= vocab.getMaxTokenType() && !type; ++t)
    if (keywordOf(vocab, t) == *match)
      type = t;
  if (!type)
    return false;
  std::string what = contains(words, "task") && contains(kItemWords, *match) ? "unknown model item"
                     : contains(words, "model")                              ? "unknown declaration"
                                                                             : "unexpected";
  listener_.report(tokenLoc(token, fileId_),
                   fmt::format("{} '{}'; did you mean '{}'?", what, token->getText(), *match));
  static_cast<antlr4::WritableToken *>(token)->setType(type);
  return true;
}

// At a unit boundary of `container`: a declaration that cannot be inside it
// means its closing brace is missing. Reports that once and arranges for the
// container to end here without losing what it holds.
bool RecoveringErrorStrategy::missingCloser(antlr4::Parser *parser,
                                            antlr4::ParserRuleContext *container) {
  antlr4::Token *t = parser->getCurrentToken();
  if (!Around(parser).outdents(container, t))
    return false;
  if (!inErrorRecoveryMode(parser)) {
    Diagnostic *d =
        listener_.report(tokenLoc(t, fileId_), fmt::format("expected '}}' before {}", quoted(t)));
    for (antlr4::tree::ParseTree *child : container->children)
      if (auto *brace = dynamic_cast<antlr4::tree::TerminalNode *>(child);
          d && brace && brace->getText() == "{") {
        d->note(tokenLoc(brace->getSymbol(), fileId_), "to match this '{'");
        break;
      }
    beginErrorCondition(parser);
  }
  closing_ = true;
  return true;
}

antlr4::Token *RecoveringErrorStrategy::singleTokenDeletion(antlr4::Parser *parser) {
  bool inUnit = !isContainer(parser->getContext()->getRuleIndex());
  // A bracket that closes one opened before it is no stray token: in
  // `adam(lr = )` and `loss = mse +` before '}' an operand is missing, and
  // deleting the bracket would take the next line's keyword (also a name)
  // for the operand.
  bool closes = closesOpenBracket(parser);
  if (inUnit && closes)
    return nullptr;
  // Nor is the last token of a line inside a unit: deleting the ',' of
  // `seeds = ,` would take the next line's first word (`search`, also a
  // name) for the missing value.
  Around around(parser);
  antlr4::Token *next = around.next(parser->getCurrentToken());
  if (inUnit && next && around.firstOnLine(next))
    return nullptr;
  std::string text = parser->getCurrentToken()->getText();
  bool stray = text == ";" || (!closes && (text == ")" || text == "]" || text == "}"));
  size_t at = parser->getTokenStream()->index();
  antlr4::Token *matched = DefaultErrorStrategy::singleTokenDeletion(parser);
  // A stray ';' or bracket between two units is simply dropped. Anything
  // else is a guess at what the writer meant: in `head = x ->` before a line
  // `loss = bce`, the '=' is not the mistake.
  if (matched && inUnit)
    markDamaged(parser->getContext());
  else if (matched && !stray)
    markLossy(parser, parser->getContext(), at);
  return matched;
}

antlr4::Token *RecoveringErrorStrategy::getMissingSymbol(antlr4::Parser *parser) {
  antlr4::Token *made = DefaultErrorStrategy::getMissingSymbol(parser);
  if (!isPunctuation(parser->getVocabulary(), made->getType()))
    markDamaged(parser->getContext());
  return made;
}

} // namespace mtl
