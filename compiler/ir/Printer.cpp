// Printer.cpp: the textual IR, one op per line in definition order.
#include "ir/Printer.h"

#include <fmt/format.h>

namespace mtl::ir {

std::string valueName(const Graph &graph, ValueId id) {
  if (graph.contains(id) && !graph.op(id).name.empty())
    return "%" + graph.op(id).name;
  return fmt::format("%{}", id);
}

std::string print(const Graph &graph, const SourceManager *sources) {
  std::string out;
  for (size_t i = 0; i < graph.size(); ++i) {
    const Op &op = graph.ops()[i];
    ValueId id = static_cast<ValueId>(i);
    std::string line = valueName(graph, id) + " = " + opName(op.kind);
    for (size_t k = 0; k < op.operands.size(); ++k)
      line += (k ? ", " : " ") + valueName(graph, op.operands[k]);
    line += formatAttrs(op.kind, op.attrs);
    line += " : " + formatType(op.type);
    if (op.loc.valid()) {
      bool named = sources && op.loc.file < sources->fileCount();
      line +=
          named ? fmt::format("  // {}:{}:{}", sources->name(op.loc.file), op.loc.line, op.loc.col)
                : fmt::format("  // {}:{}", op.loc.line, op.loc.col);
    }
    out += line + "\n";
  }
  for (const auto &[name, id] : graph.results())
    out += fmt::format("result {} = {}\n", name, valueName(graph, id));
  return out;
}

} // namespace mtl::ir
