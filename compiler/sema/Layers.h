// Layers.h: the built-in layers: their arguments, checks and shape rules.
#pragma once

#include "sema/SemaContext.h"

#include <optional>
#include <string>
#include <vector>

namespace mtl::sema {

/// The layer called `name` ("dense", "relu"...), if there is one.
std::optional<LayerKind> layerByName(const std::string &name);

/// Every layer name: reserved in the model namespace, and used for suggestions.
const std::vector<std::string> &layerNames();

/// Checks the layer call `step` (its arguments evaluated with block
/// parameters `env`) applied to `in`, and returns what flows out: unknown if
/// `in` is unknown or anything was wrong. When the input is known and all is
/// well, appends the layer to `out` with loc = `step`, useLoc = `useLoc` and
/// its shapes; the caller sets paramPrefix.
Flow applyLayer(Context &ctx, LayerKind kind, const ast::Expr &step, const Env *env, const Flow &in,
                SourceLoc useLoc, std::vector<Layer> &out);

} // namespace mtl::sema
