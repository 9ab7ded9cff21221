// Parser.h: reads the textual IR that Printer.h writes, back into a graph.
//
// The text is a whole training step: one line per op, then `result` lines.
// `print(parse(text))` gives `text` back for every graph the printer writes,
// so graphs can be written by hand for pass tests (tests/passes) and dumped,
// edited and reread while debugging.
#pragma once

#include "ir/Graph.h"
#include "ir/Signature.h"
#include "support/Source.h"

#include <string>
#include <string_view>
#include <vector>

namespace mtl::ir {

/// A parsed step. The signature comes from the names lowering and autodiff
/// give (see lower/Lower.h): the results `output.T`, `loss.T` (task T, in
/// the order of the `output` results), `penalty`, `loss` and `grad.P`
/// (parameter P); the inputs `target.T`, `weight.T` and `train.step`; every
/// other input is a model input, in definition order.
struct ParsedStep {
  Graph graph;
  StepSignature signature;
  std::vector<std::string> errors; ///< "NAME:LINE:COL: message", in text order
  bool ok() const { return errors.empty(); }
};

/// Parses `text` (called `name` in errors). Lines hold
///   `%ID = KIND [OPERAND, ...] [{KEY = VALUE, ...}] : TYPE  [// [FILE:]LINE:COL]`
///   `result NAME = %ID`
/// where a numeric %ID is the op's position (from 0) and a named one an input
/// or parameter defined before; blank lines and lines starting with `//` are
/// skipped. Attributes must be exactly those the kind reads. A `// FILE:L:C`
/// location names a file of `sources` (added, empty, when absent); without
/// `sources`, or with no FILE, it is a location in file 0. The graph is then
/// verified (ir/Verifier.h); its errors are reported too.
ParsedStep parseStep(std::string_view text, std::string_view name,
                     SourceManager *sources = nullptr);

} // namespace mtl::ir
