// Graph.h: the graph IR of one training step, as a list of ops in SSA form.
//
// Every op defines exactly one value, whose id is the op's index, and may only
// use values defined before it, so the op list is already a topological order
// (the Verifier checks this). Passes walk `ops()` front to back for forward
// work and back to front for reverse-mode work.
#pragma once

#include "ir/Op.h"
#include "ir/Type.h"
#include "support/Source.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mtl::ir {

/// Index of an op, and of the value it defines, in its Graph.
using ValueId = int32_t;

/// One operation and the value it defines.
struct Op {
  OpKind kind = OpKind::Constant;
  std::vector<ValueId> operands;
  TensorType type; ///< the type of the defined value
  Attrs attrs;
  std::string name; ///< Input and Param: the unique name; empty otherwise
  SourceLoc loc;    ///< where in the .mtl source the op comes from
};

/// A graph: ops in definition order plus named results (the loss, per-task
/// losses, gradients) that later stages read out.
class Graph {
public:
  /// Appends an op as given (no checking; see Builder and Verifier).
  ValueId append(Op op);

  const std::vector<Op> &ops() const { return ops_; }
  const Op &op(ValueId id) const { return ops_[static_cast<size_t>(id)]; }
  Op &op(ValueId id) { return ops_[static_cast<size_t>(id)]; }
  size_t size() const { return ops_.size(); }
  bool contains(ValueId id) const { return id >= 0 && static_cast<size_t>(id) < ops_.size(); }
  const TensorType &type(ValueId id) const { return op(id).type; }

  /// The Input or Param op of that name, if any.
  std::optional<ValueId> findInput(std::string_view name) const;
  std::optional<ValueId> findParam(std::string_view name) const;
  std::optional<ValueId> findBuffer(std::string_view name) const;
  /// Ids of all Param ops, in definition order.
  std::vector<ValueId> params() const;
  /// Ids of all Buffer ops, in definition order.
  std::vector<ValueId> buffers() const;
  /// Ids of all Input ops, in definition order.
  std::vector<ValueId> inputs() const;

  /// Names a value as a result of the step ("loss", "grad.trunk.0.weight").
  /// Setting an existing name again rebinds it.
  void setResult(std::string name, ValueId id);
  std::optional<ValueId> result(std::string_view name) const;
  const std::vector<std::pair<std::string, ValueId>> &results() const { return results_; }

private:
  std::optional<ValueId> findNamed(OpKind kind, std::string_view name) const;
  std::vector<ValueId> ofKind(OpKind kind) const;

  std::vector<Op> ops_;
  std::vector<std::pair<std::string, ValueId>> results_;
};

} // namespace mtl::ir
