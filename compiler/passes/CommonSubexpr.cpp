// CommonSubexpr.cpp: value numbering over the op list (already in topological order).
//
// Reverse mode produces many repeats: the same transpose-free product for two
// heads' gradients, the same `step(x)` mask for relu's adjoint from several
// consumers, constants such as 0 and 1. Merging them shrinks both work and
// the workspace.
#include "passes/CommonSubexpr.h"

#include "passes/DeadCode.h"

#include <map>
#include <tuple>

namespace mtl::passes {
namespace {

// An op's kind, operands and type; ops that share them are the same value
// when their attributes are equal too (Attrs::operator==, which covers every
// attribute, so one added later cannot be forgotten here).
using Key = std::tuple<int, std::vector<ir::ValueId>, int, bool, std::vector<int64_t>>;

Key keyOf(const ir::Op &op) {
  return {static_cast<int>(op.kind), op.operands, static_cast<int>(op.type.dtype), op.type.batched,
          op.type.dims};
}

} // namespace

size_t eliminateCommonSubexpressions(ir::Graph &graph, ir::StepSignature &signature) {
  std::vector<ir::ValueId> same(graph.size());
  std::map<Key, std::vector<ir::ValueId>> seen;
  for (size_t v = 0; v < graph.size(); ++v) {
    ir::Op &op = graph.op(static_cast<ir::ValueId>(v));
    for (ir::ValueId &o : op.operands)
      o = same[o];
    same[v] = static_cast<ir::ValueId>(v);
    if (ir::isNamedLeaf(op.kind))
      continue;
    std::vector<ir::ValueId> &alike = seen[keyOf(op)];
    for (ir::ValueId other : alike)
      if (graph.op(other).attrs == op.attrs) {
        same[v] = other;
        break;
      }
    if (same[v] == static_cast<ir::ValueId>(v))
      alike.push_back(static_cast<ir::ValueId>(v));
  }
  remapSignature(signature, same);
  std::vector<std::pair<std::string, ir::ValueId>> results = graph.results();
  for (auto &[name, id] : results)
    graph.setResult(name, same[id]);
  return eliminateDeadCode(graph, signature);
}

} // namespace mtl::passes
