// AstBuilder.h: the one place that turns ANTLR's parse tree into our AST.
#pragma once

#include "frontend/Ast.h"
#include "frontend/Recovery.h"
#include "support/Diagnostics.h"

#include "MtlParser.h"
#include <string>
#include <utility>
#include <vector>

namespace mtl {

/// What the AST leaves out of a parse tree after syntax errors.
struct SkippedParts {
  /// First and last token of each declaration that lost some of its text:
  /// what later stages would say about it concerns text they never saw.
  std::vector<std::pair<SourceLoc, SourceLoc>> ranges;
  /// Names declared by the declarations left out entirely.
  std::vector<std::string> names;
};

/// Builds the AST of a parse tree, leaving out the damaged units of
/// `losses`, whose trees may have holes, and recording in `skipped` where
/// text was lost. Literal problems the grammar cannot see (an integer too
/// large, a bad escape) are reported to `diags`, and the declaration that
/// holds one is left out as a damaged one is. Comments are taken from the
/// hidden channel of `tokens`.
ast::File buildAst(mtlgen::MtlParser::FileContext *tree, antlr4::CommonTokenStream &tokens,
                   int fileId, DiagnosticEngine &diags, const Losses &losses,
                   SkippedParts &skipped);

} // namespace mtl
