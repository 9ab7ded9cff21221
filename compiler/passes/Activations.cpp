// Activations.cpp: relu(product) and relu(batch_norm) become the product or
// batch_norm with a relu activation, mul(max_pool_grad, step) the pool
// gradient with one.
//
// Each fused op saves a pass over a layer's output (read, compare or
// multiply, write), a memory-bound loop as long as the product's output or
// the pool's input; results keep their bits, as the fused code applies the
// same x > 0 ? x : 0, or the same product by step(x), to the same values.
#include "passes/Activations.h"

#include "passes/DeadCode.h"

#include <optional>

namespace mtl::passes {
namespace {

// mul(max_pool_grad(g, x), step(x)), either way round: the gradient through a
// pool of a relu's output, times the relu's derivative there. Gives the pool
// gradient the relu (it multiplies each element by step(x) as it stores it)
// and returns it, for the mul's readers to read. Only for windows that do not
// overlap, where each element is stored once.
std::optional<ir::ValueId> fuseDerivative(ir::Graph &graph, const ir::Op &mul,
                                          const std::vector<int> &uses) {
  for (int side : {0, 1}) {
    const ir::ValueId poolId = mul.operands[side], stepId = mul.operands[1 - side];
    ir::Op &pool = graph.op(poolId);
    const ir::Op &step = graph.op(stepId);
    if (pool.kind != ir::OpKind::MaxPoolGrad || uses[poolId] != 1 ||
        pool.attrs.activation != ir::Activation::None || pool.attrs.stride < pool.attrs.kernel ||
        step.kind != ir::OpKind::Step || step.operands[0] != pool.operands[1] ||
        !(pool.type == mul.type))
      continue;
    pool.attrs.activation = ir::Activation::Relu;
    return poolId;
  }
  return std::nullopt;
}

} // namespace

size_t fuseActivations(ir::Graph &graph, ir::StepSignature &signature) {
  const size_t n = graph.size();
  std::vector<int> uses(n, 0);
  for (size_t v = 0; v < n; ++v)
    for (ir::ValueId o : graph.op(static_cast<ir::ValueId>(v)).operands)
      ++uses[o];
  // Values the step hands out, and those autodiff's per-task passes read
  // (sharedValues), keep their own.
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
    // `uses` stays as counted before any remapping: a remapped value's new
    // readers are those of the op it replaced, and it has an activation
    // already, which both rewrites check first.
    if (op.kind == ir::OpKind::Mul)
      if (std::optional<ir::ValueId> pool = fuseDerivative(graph, op, uses)) {
        same[v] = *pool;
        ++fusedCount;
        continue;
      }
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
    const bool applies = product.kind == ir::OpKind::Linear ||
                         product.kind == ir::OpKind::MatMulLeft ||
                         product.kind == ir::OpKind::BatchNorm;
    if (!applies || product.attrs.activation != ir::Activation::None)
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
