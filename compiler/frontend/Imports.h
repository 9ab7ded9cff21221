// Imports.h: loading a model file together with the files it imports.
#pragma once

#include "frontend/Ast.h"
#include "support/Diagnostics.h"

#include <optional>
#include <string>
#include <vector>

namespace mtl {

/// Reads a whole file; nullopt (and `error` set to the reason) if it cannot.
std::optional<std::string> readFile(const std::string &path, std::string &error);

/// Parses `path` and, transitively, the files it imports (paths relative to
/// the importing file). The main file comes first. Unreadable files, import
/// cycles and syntax errors are reported to `diags`; each file is loaded once.
/// `whole`, when given, is set to whether every file was read and parsed
/// (SyntaxErrorPolicy::RecoveredAst): then the files can be checked even if
/// syntax errors were reported, and what the checker reports are the file's
/// other errors.
std::vector<ast::File> loadWithImports(const std::string &path, SourceManager &sources,
                                       DiagnosticEngine &diags, bool *whole = nullptr);

/// Like loadWithImports for text that is already in memory (the REPL):
/// `name` is how locations are shown, `baseDir` resolves its imports.
std::vector<ast::File> loadBufferWithImports(const std::string &name, std::string text,
                                             const std::string &baseDir, SourceManager &sources,
                                             DiagnosticEngine &diags, bool *whole = nullptr);

} // namespace mtl
