// Interpreter.h: the reference interpreter of the IR, the oracle for the JIT.
//
// It runs a graph for one concrete batch size on host buffers, in double
// precision, with plain loops and no cleverness: every kernel is written the
// way the op is defined, so a disagreement with generated code points at the
// generated code.
#pragma once

#include "ir/Graph.h"

#include <map>
#include <string>
#include <vector>

namespace mtl::ir {

/// Values of inputs and parameters by name, flattened row-major. i32 inputs
/// hold their integers as doubles. The batch size is implied by the data.
using Feeds = std::map<std::string, std::vector<double>>;

struct InterpretOptions {
  int64_t batch = 1;
  /// Round every f32 value to float after each op, to mimic f32 storage.
  /// Arithmetic inside an op stays in double precision.
  bool roundToF32 = false;
  /// When false, dropout is the identity, as in the generated eval step.
  bool training = true;
  /// The run's seed, mixed into every dropout op's own (see dropoutSeed).
  uint64_t seed = 0;
};

/// The outcome of a run: every value's data, or the first error.
struct Execution {
  std::vector<std::vector<double>> values; ///< indexed by ValueId; empty on error
  std::string error;                       ///< empty on success

  bool ok() const { return error.empty(); }
  const std::vector<double> &operator[](ValueId id) const {
    return values[static_cast<size_t>(id)];
  }
};

/// Verifies `graph`, then executes every op in order. Fails (with a message,
/// not a crash) on an invalid graph, a missing or wrongly sized feed, a
/// non-integer or out-of-range id for gather or cross-entropy, or a bad
/// dropout step.
Execution interpret(const Graph &graph, const Feeds &feeds, const InterpretOptions &options);

} // namespace mtl::ir
