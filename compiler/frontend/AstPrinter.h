// AstPrinter.h: a readable dump of the AST, for `mtlc emit ast`.
#pragma once

#include "frontend/Ast.h"

#include <string>

namespace mtl {

/// An indented tree of `file`, one node per line (two spaces per level): the
/// node's kind, its key fields (names, literal values written as in source,
/// operators) and its location as `<line:col>`. A role prefix says what a
/// child expression is for (`Source`, `Kind`, `Arg lr =`, `Default`...).
/// The first line is `File <name>`; comments are listed last. The output is
/// stable, so golden tests can pin it.
std::string printAst(const ast::File &file, const SourceManager &sources);

} // namespace mtl
