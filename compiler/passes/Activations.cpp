// Activations.cpp: relu(product) becomes the product with a relu activation.
//
// Each fused relu saves a pass over the layer's output (read, compare, write),
// a memory-bound loop as long as the product's output; results keep their
// bits, as the product's stores apply x > 0 ? x : 0 to the same sums.
#include "passes/Activations.h"

#include "passes/DeadCode.h"

namespace mtl::passes {

size_t fuseActivations(ir::Graph &graph, ir::StepSignature &signature) {
  const size_t n = graph.size();
  std::vector<int> uses(n, 0);
  for (size_t v = 0; v < n; ++v)
    for (ir::ValueId o : graph.op(static_cast<ir::ValueId>(v)).operands)
      ++uses[o];
  // Values the step hands out keep their own storage.
  auto pin = [&](ir::ValueId id) {
    if (id >= 0)
      uses[id] += 2;
  };
  for (ir::ValueId r : resultValues(signature))
    pin(r);
  for (ir::ValueId r : signature.sharedValues)
    pin(r);
  for (const auto &[name, id] : graph.results())
    pin(id);

  std::vector<ir::ValueId> same(n);
  size_t fusedCount = 0;
  for (size_t v = 0; v < n; ++v) {
    const ir::ValueId id = static_cast<ir::ValueId>(v);
    ir::Op &op = graph.op(id);
    for (ir::ValueId &o : op.operands)
      o = same[o];
    same[v] = id;
    if (op.kind != ir::OpKind::Relu || uses[op.operands[0]] != 1)
      continue;
    // The product, or a reshape of it (a convolution's [C, H W] as [C, H, W]).
    ir::ValueId productId = op.operands[0];
    if (graph.op(productId).kind == ir::OpKind::Reshape) {
      productId = graph.op(productId).operands[0];
      if (uses[productId] != 1)
        continue;
    }
    ir::Op &product = graph.op(productId);
    if (!ir::takesActivation(product.kind) || product.attrs.activation != ir::Activation::None)
      continue;
    product.attrs.activation = ir::Activation::Relu;
    same[v] = op.operands[0];
    ++fusedCount;
  }
  if (fusedCount == 0)
    return 0;
  remapSignature(signature, same);
  std::vector<std::pair<std::string, ir::ValueId>> results = graph.results();
  for (auto &[name, id] : results)
    graph.setResult(name, same[id]);
  eliminateDeadCode(graph, signature);
  return fusedCount;
}

} // namespace mtl::passes
