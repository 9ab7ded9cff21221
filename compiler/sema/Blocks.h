// Blocks.h: block definitions (checked once, on their own) and their expansion into layers.
#pragma once

#include "sema/SemaContext.h"

#include <string>
#include <vector>

namespace mtl::sema {

/// Checks each block definition on its own: parameter names, default values,
/// and every step of the body with unknown parameter values and an unknown
/// input shape (so errors that do not depend on a use are reported once, with
/// no expansion notes). Finds blocks that call themselves, directly or through
/// others, reporting each cycle once. Marks invalid blocks `bad`: their uses
/// then yield an unknown shape without further errors.
void checkBlocks(Context &ctx, const std::vector<BlockInfo *> &blocks);

/// Applies one step that must be a layer or a block call to `in` (with block
/// parameters `env`, null outside blocks). Block calls are expanded with their
/// arguments bound; the layers they produce are appended to `out` with
/// `useLoc` as their useLoc. Unknown names are reported with a suggestion
/// among layers, visible blocks and `extra` (for example shared modules).
Flow applyStep(Context &ctx, const ast::Expr &step, const Env *env, const Flow &in,
               SourceLoc useLoc, std::vector<Layer> &out,
               const std::vector<std::string> &extra = {});

} // namespace mtl::sema
