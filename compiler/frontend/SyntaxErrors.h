// SyntaxErrors.h: turns ANTLR's lexer and parser errors into our diagnostics.
#pragma once

#include "support/Diagnostics.h"

#include <BaseErrorListener.h>
#include <CommonTokenStream.h>

namespace mtl {

/// An ANTLR error listener that reports through a DiagnosticEngine with
/// messages written for people ("expected ')' before 'x'", "unexpected end of
/// file; expected '}' or a model item"). Reports at most one error per source
/// line: later errors on a line are almost always the parser's recovery
/// tripping over the first one.
class SyntaxErrorListener : public antlr4::BaseErrorListener {
public:
  SyntaxErrorListener(DiagnosticEngine &diags, int fileId) : diags_(diags), fileId_(fileId) {}

  void syntaxError(antlr4::Recognizer *recognizer, antlr4::Token *offendingSymbol, size_t line,
                   size_t charPositionInLine, const std::string &msg,
                   std::exception_ptr e) override;

  /// Reports `message` at `loc` unless an error was reported on that line
  /// already; returns the diagnostic (to attach notes), or null.
  Diagnostic *report(SourceLoc loc, std::string message);

private:
  DiagnosticEngine &diags_;
  int fileId_;
  int lastLine_ = -1;
};

/// Reports the token-level mistakes that would otherwise surface as a cascade
/// of confusing parser errors: strings without their closing quote and a
/// `/*` comment that is never closed. Returns false if there were any; the
/// file is then not parsed further.
bool reportLexicalErrors(antlr4::CommonTokenStream &tokens, int fileId, DiagnosticEngine &diags);

} // namespace mtl
