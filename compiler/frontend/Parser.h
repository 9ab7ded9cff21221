// Parser.h: the frontend's entry point, from source text to AST.
#pragma once

#include "frontend/Ast.h"
#include "support/Diagnostics.h"

#include <optional>

namespace mtl {

/// What parseFile returns for a file with syntax errors.
enum class SyntaxErrorPolicy {
  NoAst,       ///< nothing: for callers that act on the AST as it is (mtlc fmt)
  RecoveredAst ///< the AST of what the parser could read, for checking the rest
};

/// Parses the registered source `fileId`. Syntax errors are reported to
/// `diags` in the usual `file:line:col` form, every one the parser finds:
/// a misspelt keyword is read as the keyword it resembles, and after other
/// errors the parser resumes at the next declaration. The AST is returned
/// when there were none, and with `RecoveredAst` also after errors: without
/// the declarations the parser could not read whole (a binding, task field,
/// train setting, model item or top-level declaration), whose places and
/// names `diags` is told to keep quiet about (DiagnosticEngine::quiet), so
/// that checking it reports the file's other errors and no echoes of the
/// skipped ones. Nothing is returned when text outside every declaration was
/// skipped. Never throws: ANTLR's exceptions stop at this boundary.
std::optional<ast::File> parseFile(const SourceManager &sources, int fileId,
                                   DiagnosticEngine &diags,
                                   SyntaxErrorPolicy policy = SyntaxErrorPolicy::NoAst);

} // namespace mtl
