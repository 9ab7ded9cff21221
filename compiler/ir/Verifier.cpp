// Verifier.cpp: the graph checks that every pass may rely on afterwards.
#include "ir/Verifier.h"

#include "ir/Infer.h"

#include <fmt/format.h>

#include <set>
#include <string>

namespace mtl::ir {

std::vector<Diagnostic> verify(const Graph &graph) {
  std::vector<Diagnostic> diags;
  auto error = [&](const Op &op, ValueId id, std::string message) {
    Diagnostic d;
    d.loc = op.loc;
    d.message = fmt::format("%{} = {}: {}", id, opName(op.kind), message);
    diags.push_back(std::move(d));
  };
  std::set<std::string> names;
  for (size_t i = 0; i < graph.size(); ++i) {
    const Op &op = graph.ops()[i];
    ValueId id = static_cast<ValueId>(i);
    bool operandsOk = true;
    for (ValueId v : op.operands)
      if (v < 0 || v >= id) {
        error(op, id, fmt::format("operand %{} is not defined before its use", v));
        operandsOk = false;
      }
    if (isNamedLeaf(op.kind)) {
      if (!op.name.empty() && !names.insert(op.name).second)
        error(op, id, fmt::format("the name '{}' is defined twice", op.name));
    } else if (!op.name.empty()) {
      error(op, id, "only inputs, parameters and buffers have names");
    }
    if (!operandsOk)
      continue;
    if (op.attrs.activation != Activation::None && !takesActivation(op.kind))
      error(op, id, fmt::format("'{}' takes no activation", opName(op.kind)));
    if (op.kind == OpKind::MaxPoolGrad && op.attrs.activation != Activation::None &&
        op.attrs.stride < op.attrs.kernel)
      error(op, id,
            "max_pool_grad with an activation needs windows that do not overlap "
            "(stride >= kernel)");
    Inferred r = inferType(graph, op);
    if (!r.type)
      error(op, id, r.error);
    else if (*r.type != op.type)
      error(op, id,
            fmt::format("has type {} but its operands give {}", formatType(op.type),
                        formatType(*r.type)));
  }
  for (const auto &[name, id] : graph.results())
    if (!graph.contains(id)) {
      Diagnostic d;
      d.message = fmt::format("result '{}' names %{}, which does not exist", name, id);
      diags.push_back(std::move(d));
    }
  return diags;
}

} // namespace mtl::ir
