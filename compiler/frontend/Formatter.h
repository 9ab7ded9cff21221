// Formatter.h: the canonical text of a .mtl file, as `mtlc fmt` writes it.
#pragma once

#include "frontend/Ast.h"

#include <string>

namespace mtl {

/// Formats `file` canonically: two-space indentation, one item per line, a
/// blank line between top-level items and between groups of model items
/// (inputs | data | blocks and shared | tasks | balance, regularize, optimizer
/// and train), at most one blank line where the source had any, `=` aligned
/// within a data block and within a task, and `train { ... }` on one line when
/// it fits in 100 columns.
///
/// Every comment in `file.comments` is kept: trailing the line it trailed, or
/// on its own lines before the item it precedes (or sits inside, when it
/// cannot be placed exactly). `sources` must hold the text `file` was parsed
/// from, which tells where the braces and comments were.
///
/// The result parses back to the same AST (locations aside), and formatting
/// it again changes nothing. Never fails and never throws.
std::string formatFile(const ast::File &file, const SourceManager &sources);

} // namespace mtl
