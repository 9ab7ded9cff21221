// CommonSubexpr.h: common-subexpression elimination on a training-step graph.
#pragma once

#include "ir/Graph.h"
#include "ir/Signature.h"

namespace mtl::passes {

/// Makes every op that repeats an earlier op (same kind, operands, attributes
/// and type) use the earlier one instead, then removes the repeats with dead
/// code elimination. Every op but Input and Param is a pure function of its
/// operands and attributes (dropout's mask included), so this never changes a
/// result. Returns the number of ops removed.
size_t eliminateCommonSubexpressions(ir::Graph &graph, ir::StepSignature &signature);

} // namespace mtl::passes
