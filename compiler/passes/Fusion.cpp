// Fusion.cpp: a step's single-use element-wise producers (and narrow products) fuse into their
// element-wise consumers and reductions; a convolution's columns' gradient is carried into
// the loop that adds it back into the image, and its columns into the products that read them.
#include "passes/Fusion.h"

namespace mtl::passes {

namespace {
// How often the step reads each value (a root counts twice: what the step
// keeps is stored, never fused), and its last reader.
struct Readers {
  std::vector<int> uses;
  std::vector<ir::ValueId> consumer;
};

Readers readersOf(const ir::Graph &graph, const std::vector<ir::ValueId> &roots,
                  const std::vector<bool> &needed) {
  size_t n = graph.size();
  Readers r{std::vector<int>(n, 0), std::vector<ir::ValueId>(n, -1)};
  for (size_t v = 0; v < n; ++v)
    if (needed[v])
      for (ir::ValueId o : graph.op(static_cast<ir::ValueId>(v)).operands) {
        ++r.uses[o];
        r.consumer[o] = static_cast<ir::ValueId>(v);
      }
  for (ir::ValueId root : roots)
    if (root >= 0)
      r.uses[root] += 2;
  return r;
}
} // namespace

std::vector<bool> fuseElementwise(const ir::Graph &graph, const std::vector<ir::ValueId> &roots,
                                  const std::vector<bool> &needed) {
  size_t n = graph.size();
  auto [uses, consumer] = readersOf(graph, roots, needed);
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

std::vector<bool> carriedProducts(const ir::Graph &graph, const std::vector<ir::ValueId> &roots,
                                  const std::vector<bool> &needed) {
  auto [uses, consumer] = readersOf(graph, roots, needed);
  const size_t n = graph.size();
  std::vector<bool> carried(n, false);
  for (size_t v = 0; v < n; ++v)
    carried[v] = needed[v] && uses[v] == 1 &&
                 graph.op(static_cast<ir::ValueId>(v)).kind == ir::OpKind::MatMulLeft &&
                 graph.op(consumer[v]).kind == ir::OpKind::Im2ColGrad &&
                 graph.op(consumer[v]).operands[0] == static_cast<ir::ValueId>(v);
  // Columns whose every reader computes them again: the forward product
  // (the columns its right operand) and the weight gradient (its left).
  std::vector<bool> columns(n, false);
  for (size_t v = 0; v < n; ++v)
    columns[v] = needed[v] && graph.op(static_cast<ir::ValueId>(v)).kind == ir::OpKind::Im2Col;
  for (ir::ValueId root : roots)
    if (root >= 0)
      columns[root] = false;
  for (size_t v = 0; v < n; ++v) {
    if (!needed[v])
      continue;
    const ir::Op &op = graph.op(static_cast<ir::ValueId>(v));
    for (size_t k = 0; k < op.operands.size(); ++k) {
      const bool recomputes = (op.kind == ir::OpKind::MatMulLeft && k == 1) ||
                              (op.kind == ir::OpKind::MatMulSumNT && k == 0);
      if (!recomputes)
        columns[op.operands[k]] = false;
    }
  }
  for (size_t v = 0; v < n; ++v)
    carried[v] = carried[v] || columns[v];
  return carried;
}

} // namespace mtl::passes
