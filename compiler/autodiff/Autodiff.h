// Autodiff.h: reverse-mode differentiation of an IR graph.
#pragma once

#include "ir/Graph.h"
#include "support/Diagnostics.h"

#include <optional>
#include <utility>
#include <vector>

namespace mtl::autodiff {

/// The gradients built by `differentiate`.
struct Gradients {
  /// (param id, gradient id) for every parameter with a path to the loss, in
  /// the order the parameters are defined. A parameter without a path to the
  /// loss has no entry: its gradient is zero, and nothing is built for it.
  std::vector<std::pair<ir::ValueId, ir::ValueId>> params;
  /// Errors (an invalid graph, a non-scalar loss, an op without a rule).
  std::vector<Diagnostic> errors;

  bool ok() const { return errors.empty(); }
  /// The gradient of `param`, if one was built.
  std::optional<ir::ValueId> of(ir::ValueId param) const;
};

/// Appends to `graph` the ops computing d loss / d p for each parameter p in
/// `wrt` (every Param of the graph when empty). The backward ops go into the
/// same graph, after the forward ops, so they can read forward values
/// (activations, softmax outputs) without copies, and one graph is one
/// training step. Only ops on a path from a wanted parameter to the loss get
/// an adjoint. Where a value has several consumers, the gradient terms are
/// summed, in the reverse order of the consumers. Each gradient is also named
/// as the graph result "<prefix><param name>". Loss targets are constants to
/// differentiation (a stop-gradient). `loss` must be an f32 scalar. On error,
/// the graph may hold unused partial backward ops; callers drop it.
Gradients differentiate(ir::Graph &graph, ir::ValueId loss, std::vector<ir::ValueId> wrt = {},
                        const std::string &prefix = "grad.");

/// As differentiate, for any f32 values of the graph (a representation
/// rather than parameters): d loss / d v for each v of `values`, in that
/// order; nullopt where the loss does not depend on v. Names no results.
/// Fills `errors` (and returns nothing) as differentiate would.
std::vector<std::optional<ir::ValueId>> differentiateValues(ir::Graph &graph, ir::ValueId loss,
                                                            const std::vector<ir::ValueId> &values,
                                                            std::vector<Diagnostic> &errors);

} // namespace mtl::autodiff
