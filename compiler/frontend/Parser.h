// Parser.h: the frontend's entry point, from source text to AST.
#pragma once

#include "frontend/Ast.h"
#include "support/Diagnostics.h"

#include <optional>

namespace mtl {

/// Parses the registered source `fileId`. Syntax errors are reported to
/// `diags` in the usual `file:line:col` form (every one the parser finds);
/// the AST is returned only when there were none. Never throws: ANTLR's
/// exceptions stop at this boundary.
std::optional<ast::File> parseFile(const SourceManager &sources, int fileId,
                                   DiagnosticEngine &diags);

} // namespace mtl
