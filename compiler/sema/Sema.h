// Sema.h: semantic analysis, from ASTs to checked models.
#pragma once

#include "frontend/Ast.h"
#include "sema/Model.h"
#include "support/Diagnostics.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace mtl::sema {

/// Checks every model in `files[0]` (the main file); the other files are its
/// imports, whose top-level blocks are visible to it. Reports every error it
/// finds to `diags` and returns the models that checked without errors.
/// `runEpochs`: the run's epochs when a command overrides the models'
/// (--epochs), which the settings counted in epochs must fit.
std::vector<Model> analyze(const std::vector<ast::File> &files, const SourceManager &sources,
                           DiagnosticEngine &diags, std::optional<int64_t> runEpochs = {});

} // namespace mtl::sema
