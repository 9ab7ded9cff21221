// Fusion.cpp: a step's single-use element-wise producers (and narrow products) fuse into their
// element-wise consumers and reductions.
#include "passes/Fusion.h"

namespace mtl::passes {

std::vector<bool> fuseElementwise(const ir::Graph &graph, const std::vector<ir::ValueId> &roots,
                                  const std::vector<bool> &needed) {
  size_t n = graph.size();
  std::vector<int> uses(n, 0);
  std::vector<ir::ValueId> consumer(n, -1);
  for (size_t v = 0; v < n; ++v)
    if (needed[v])
      for (ir::ValueId o : graph.op(static_cast<ir::ValueId>(v)).operands) {
        ++uses[o];
        consumer[o] = static_cast<ir::ValueId>(v);
      }
  for (ir::ValueId r : roots)
    if (r >= 0)
      uses[r] += 2; // what the step keeps is stored, never fused
  auto elementwise = [&](ir::ValueId v) {
    ir::OpKind k = graph.op(v).kind;
    return ir::isElementwiseUnary(k) || ir::isElementwiseBinary(k);
  };
  auto reduction = [&](ir::ValueId v) {
    ir::OpKind k = graph.op(v).kind;
    return k == ir::OpKind::ReduceSum || k == ir::OpKind::ReduceMean;
  };
  // A product of few steps whose second operand is a weight (Fusion.h).
  auto narrowProduct = [&](ir::ValueId v) {
    const ir::Op &op = graph.op(v);
    if (op.kind != ir::OpKind::MatMul)
      return false;
    const ir::TensorType &w = graph.type(op.operands[1]);
    return !w.batched && w.dims[0] <= kFusedProductSteps;
  };
  std::vector<bool> fused(n, false);
  for (size_t v = 0; v < n; ++v) {
    ir::ValueId id = static_cast<ir::ValueId>(v);
    if (!needed[v] || uses[v] != 1)
      continue;
    ir::ValueId c = consumer[v];
    if (elementwise(id))
      fused[v] = (elementwise(c) && graph.type(id) == graph.type(c)) || reduction(c);
    else if (narrowProduct(id))
      fused[v] = elementwise(c) && graph.type(id) == graph.type(c);
  }
  return fused;
}

} // namespace mtl::passes
