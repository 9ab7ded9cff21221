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

// Everything that determines an op's value.
using Key =
    std::tuple<int, std::vector<ir::ValueId>, double, double, double, double, uint64_t, double,
               int64_t, int, int, std::vector<int64_t>, int, bool, std::vector<int64_t>>;

Key keyOf(const ir::Op &op) {
  const ir::Attrs &a = op.attrs;
  return {static_cast<int>(op.kind),
          op.operands,
          a.value,
          a.alpha,
          a.eps,
          a.rate,
          a.seed,
          a.delta,
          a.size,
          static_cast<int>(a.axis),
          static_cast<int>(a.loss),
          a.dims,
          static_cast<int>(op.type.dtype),
          op.type.batched,
          op.type.dims};
}

} // namespace

size_t eliminateCommonSubexpressions(ir::Graph &graph, ir::StepSignature &signature) {
  std::vector<ir::ValueId> same(graph.size());
  std::map<Key, ir::ValueId> seen;
  for (size_t v = 0; v < graph.size(); ++v) {
    ir::Op &op = graph.op(static_cast<ir::ValueId>(v));
    for (ir::ValueId &o : op.operands)
      o = same[o];
    same[v] = static_cast<ir::ValueId>(v);
    if (op.kind == ir::OpKind::Input || op.kind == ir::OpKind::Param)
      continue;
    auto [it, inserted] = seen.emplace(keyOf(op), static_cast<ir::ValueId>(v));
    if (!inserted)
      same[v] = it->second;
  }
  remapSignature(signature, same);
  std::vector<std::pair<std::string, ir::ValueId>> results = graph.results();
  for (auto &[name, id] : results)
    graph.setResult(name, same[id]);
  return eliminateDeadCode(graph, signature);
}

} // namespace mtl::passes
