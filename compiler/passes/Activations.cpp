// Activations.cpp: relu(product) and relu(batch_norm) become the product or
// batch_norm with a relu activation, mul(max_pool_grad, step) the pool
// gradient with one, mul(matmul, step) the matmul with one.
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

// mul(gradient, step(y)), either way round, where nothing else reads the
// gradient: the relu's derivative fused into the gradient it multiplies,
// which gets the relu and is returned, for the mul's readers to read. A
// max_pool_grad(g, y) (the gradient through a pool of the relu's output y)
// multiplies each element by step(y) as it stores it, where its windows do
// not overlap (each element is stored once). A matmul(g, w) (a dense layer's
// input gradient) takes y as a third operand and multiplies each finished
// element by step(y); y must come before it, as it reads y now. Both compute
// the mul's own x * step(y), whatever y is.
std::optional<ir::ValueId> fuseDerivative(ir::Graph &graph, const ir::Op &mul,
                                          const std::vector<int> &uses) {
  for (int side : {0, 1}) {
    const ir::ValueId id = mul.operands[side];
    ir::Op &gradient = graph.op(id);
    const ir::Op &step = graph.op(mul.operands[1 - side]);
    if (uses[id] != 1 || gradient.attrs.activation != ir::Activation::None ||
        !(gradient.type == mul.type) || step.kind != ir::OpKind::Step)
      continue;
    const ir::ValueId y = step.operands[0];
    const bool pool = gradient.kind == ir::OpKind::MaxPoolGrad && gradient.operands[1] == y &&
                      gradient.attrs.stride >= gradient.attrs.kernel;
    const bool product =
        gradient.kind == ir::OpKind::MatMul && y < id && graph.type(y) == gradient.type;
    if (!pool && !product)
      continue;
    if (product)
      gradient.operands.push_back(y);
    gradient.attrs.activation = ir::Activation::Relu;
    return id;
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
    // already, which every rewrite checks first. A matmul that takes y as an
    // operand adds a reader of y that is not counted; but y was read by the
    // step op, and a rewrite of y itself needs another reader (the relu or
    // the mul it is fused into), so y's count is 2 or more already, and
    // every rewrite needs a count of 1.
    if (op.kind == ir::OpKind::Mul)
      if (std::optional<ir::ValueId> fused = fuseDerivative(graph, op, uses)) {
        same[v] = *fused;
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
