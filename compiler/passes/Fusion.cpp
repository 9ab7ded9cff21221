// Fusion.cpp: single-use element-wise producers fuse into element-wise consumers and reductions.
#include "passes/Fusion.h"

#include "passes/DeadCode.h"

namespace mtl::passes {

std::vector<bool> fuseElementwise(const ir::Graph &graph, const ir::StepSignature &signature) {
  size_t n = graph.size();
  std::vector<int> uses(n, 0);
  std::vector<ir::ValueId> consumer(n, -1);
  for (size_t v = 0; v < n; ++v)
    for (ir::ValueId o : graph.op(static_cast<ir::ValueId>(v)).operands) {
      ++uses[o];
      consumer[o] = static_cast<ir::ValueId>(v);
    }
  for (ir::ValueId r : resultValues(signature))
    if (r >= 0)
      uses[r] += 2; // results are stored, never fused
  auto elementwise = [&](ir::ValueId v) {
    ir::OpKind k = graph.op(v).kind;
    return ir::isElementwiseUnary(k) || ir::isElementwiseBinary(k);
  };
  auto reduction = [&](ir::ValueId v) {
    ir::OpKind k = graph.op(v).kind;
    return k == ir::OpKind::ReduceSum || k == ir::OpKind::ReduceMean;
  };
  std::vector<bool> fused(n, false);
  for (size_t v = 0; v < n; ++v) {
    ir::ValueId id = static_cast<ir::ValueId>(v);
    if (uses[v] != 1 || !elementwise(id))
      continue;
    ir::ValueId c = consumer[v];
    fused[v] = (elementwise(c) && graph.type(id) == graph.type(c)) || reduction(c);
  }
  return fused;
}

} // namespace mtl::passes
