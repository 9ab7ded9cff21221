// Printer.h: the readable textual form of IR graphs (`mtlc emit ir`).
#pragma once

#include "ir/Graph.h"
#include "support/Source.h"

#include <string>

namespace mtl::ir {

/// How a value is referred to: `%trunk.0.weight` for inputs and parameters,
/// `%7` otherwise.
std::string valueName(const Graph &graph, ValueId id);

/// One line per op, for example
///   `%7 = linear %3, %trunk.0.weight, %trunk.0.bias : f32[B, 64]  // x.mtl:9:18`
/// followed by `result loss = %42` lines. With `sources` the location shows the
/// file name; without it, only `line:col`. Ops without a location get no comment.
std::string print(const Graph &graph, const SourceManager *sources = nullptr);

} // namespace mtl::ir
