// AstBuilder.h: the one place that turns ANTLR's parse tree into our AST.
#pragma once

#include "frontend/Ast.h"
#include "support/Diagnostics.h"

#include "MtlParser.h"

namespace mtl {

/// Builds the AST of a parse tree that had no syntax errors. Literal problems
/// the grammar cannot see (an integer too large, a bad escape) are reported
/// to `diags`. Comments are taken from the hidden channel of `tokens`.
ast::File buildAst(mtlgen::MtlParser::FileContext *tree, antlr4::CommonTokenStream &tokens,
                   int fileId, DiagnosticEngine &diags);

} // namespace mtl
