// Verifier.h: structural and type checking of IR graphs.
#pragma once

#include "ir/Graph.h"
#include "support/Diagnostics.h"

#include <vector>

namespace mtl::ir {

/// Checks `graph`: operand counts, operands defined before use, every op's
/// stored type equal to the type its kind and operands imply, unique non-empty
/// names of inputs and parameters, and results that name existing values.
/// Returns one error diagnostic per problem (empty when the graph is valid),
/// each at the offending op's source location. Never asserts.
std::vector<Diagnostic> verify(const Graph &graph);

} // namespace mtl::ir
