// Adjoints.h: the reverse-mode rule of each op kind.
#pragma once

#include "ir/Builder.h"

#include <string>
#include <utility>
#include <vector>

namespace mtl::autodiff {

/// Contributions of one op's adjoint to its operands: (operand position,
/// value id of that operand's gradient term), or an error message.
struct AdjointTerms {
  std::vector<std::pair<int, ir::ValueId>> terms;
  std::string error;
};

/// Builds, with `builder`, the gradient terms of op `id` for the operands
/// whose positions are flagged in `wanted`, given the adjoint `grad` of the op's
/// result (same type as the result). Each term has exactly the operand's type.
/// Targets of losses, dropout steps, gather ids and the reference operand of
/// broadcast_like get no terms: they are not differentiated. Piecewise-constant
/// kinds (step, sign, leaky_relu_deriv, element_count) give no terms, as their
/// derivative is zero almost everywhere. The backward-only kinds (gelu_deriv and
/// the *_grad kinds) fail: second derivatives are not supported.
AdjointTerms adjoint(ir::Builder &builder, ir::ValueId id, ir::ValueId grad,
                     const std::vector<bool> &wanted);

/// Reduces `grad` (a value of a broadcast result) back to `target`, the type of
/// the operand that was broadcast: summing over broadcast dimensions.
ir::ValueId unbroadcast(ir::Builder &builder, ir::ValueId grad, const ir::TensorType &target);

} // namespace mtl::autodiff
