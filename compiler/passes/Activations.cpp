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

#include <functional>
#include <optional>
#include <utility>

namespace mtl::passes {
namespace {

// mul(gradient, step(y)), either way round, where `gradient` has no
// activation yet, nothing else reads it, and `fits(gradient, y)`: the
// gradient's op and y (the value of the relu whose derivative step(y) is).
std::optional<std::pair<ir::ValueId, ir::ValueId>>
timesStep(ir::Graph &graph, const ir::Op &mul, const std::vector<int> &uses,
          const std::function<bool(const ir::Op &, ir::ValueId, ir::ValueId)> &fits) {
  for (int side : {0, 1}) {
    const ir::ValueId id = mul.operands[side];
    const ir::Op &gradient = graph.op(id), &step = graph.op(mul.operands[1 - side]);
    if (uses[id] == 1 && gradient.attrs.activation == ir::Activation::None &&
        gradient.type == mul.type && step.kind == ir::OpKind::Step &&
        fits(gradient, id, step.operands[0]))
      return std::pair{id, step.operands[0]};
  }
  return std::nullopt;
}

// The relu's derivative fused into the gradient it multiplies, which gets the
// relu and is returned, for the mul's readers to read. A max_pool_grad(g, y)
// (the gradient through a pool of the relu's output y) multiplies each
// element by step(y) as it stores it, where its windows do not overlap (each
// element is stored once). A matmul(g, w) (a dense layer's input gradient,
// the layer reading y) takes y as a third operand and multiplies each
// finished element by step(y); y must come before it, as it reads y now.
std::optional<ir::ValueId> fuseDerivative(ir::Graph &graph, const ir::Op &mul,
                                          const std::vector<int> &uses) {
  auto fits = [&](const ir::Op &op, ir::ValueId id, ir::ValueId y) {
    if (op.kind == ir::OpKind::MaxPoolGrad)
      return op.operands[1] == y && op.attrs.stride >= op.attrs.kernel;
    return op.kind == ir::OpKind::MatMul && y < id && graph.type(y) == op.type;
  };
  std::optional<std::pair<ir::ValueId, ir::ValueId>> found = timesStep(graph, mul, uses, fits);
  if (!found)
    return std::nullopt;
  auto [id, y] = *found;
  ir::Op &gradient = graph.op(id);
  if (gradient.kind == ir::OpKind::MatMul)
    gradient.operands.push_back(y);
  gradient.attrs.activation = ir::Activation::Relu;
  return id;
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
    // operand adds a reader that is not counted, but y was read by the step
    // op already, so a count of 1 (what a rewrite needs) still means the
    // value has one reader.
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
