// Shapes.h: what `mtlc shapes` prints, callable by other commands (the REPL).
#pragma once

#include "sema/Model.h"

namespace mtl::driver {

/// Prints every input, shared block and task of `model` with shapes and
/// parameter counts to standard output, exactly as `mtlc shapes` does.
void printModelShapes(const sema::Model &model);

} // namespace mtl::driver
