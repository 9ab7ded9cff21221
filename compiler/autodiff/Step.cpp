// Step.cpp: gradients for every parameter of a training-step graph.
#include "autodiff/Step.h"

#include "autodiff/Autodiff.h"
#include "ir/Builder.h"

namespace mtl::autodiff {

std::vector<Diagnostic> differentiateStep(ir::Graph &graph, ir::StepSignature &signature) {
  Gradients grads = differentiate(graph, signature.loss);
  if (!grads.ok())
    return grads.errors;
  signature.gradients.clear();
  ir::Builder b(graph);
  for (ir::ValueId p : graph.params()) {
    std::optional<ir::ValueId> g = grads.of(p);
    if (!g) {
      b.setLoc(graph.op(p).loc);
      g = b.broadcastLike(b.constant(0), p);
      graph.setResult("grad." + graph.op(p).name, *g);
    }
    signature.gradients.emplace_back(p, *g);
  }
  return {};
}

} // namespace mtl::autodiff
