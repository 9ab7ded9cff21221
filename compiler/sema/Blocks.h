// Blocks.h: block definitions (checked once, on their own) and their expansion into layers.
#pragma once

#include "sema/SemaContext.h"

#include <optional>
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

/// Binds the arguments of `step`, a call of block `info`, in a new Env (with
/// `callerEnv` for the numbers written in them) and enters the block: its
/// expansion note pushed, which the caller pops after expanding it. nullopt
/// (nothing pushed) when it is not to be expanded: invalid, recursive, too
/// deep, or a definition being checked on its own.
std::optional<Env> enterBlock(Context &ctx, const BlockInfo &info, const ast::Expr &step,
                              const Env *callerEnv);

/// Whether a block body's step is its input, `in`.
bool isBlockInput(const ast::Expr &e);

/// Applies one step that must be a layer or a block call to `in` (with block
/// parameters `env`, null outside blocks). Block calls are expanded with their
/// arguments bound; the layers they produce are appended to `out` with
/// `useLoc` as their useLoc. Unknown names are reported with a suggestion
/// among layers, visible blocks and, with `sharedModules`, shared modules.
Flow applyStep(Context &ctx, const ast::Expr &step, const Env *env, const Flow &in,
               SourceLoc useLoc, std::vector<Layer> &out, bool sharedModules = false);

} // namespace mtl::sema
