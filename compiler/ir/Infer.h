// Infer.h: the typing rules of the IR, shared by the Builder and the Verifier.
#pragma once

#include "ir/Graph.h"

#include <optional>
#include <string>

namespace mtl::ir {

/// The outcome of type inference: a type, or why the op is ill-typed.
struct Inferred {
  std::optional<TensorType> type;
  std::string error;
};

/// Infers the result type of `op` from its kind, attributes and the types of
/// its operands in `graph`. Leaves (Input, Param) keep their declared type,
/// which is checked for validity. Operands must already be valid ids of
/// `graph` and the operand count must be in range (the Verifier checks both
/// first); otherwise an error is returned, never a crash.
Inferred inferType(const Graph &graph, const Op &op);

/// True if `small` broadcasts to `big` under the element-wise rule: equal
/// types, a static scalar, or a static [n] where n is big's last dimension.
bool broadcastsTo(const TensorType &small, const TensorType &big);

} // namespace mtl::ir
