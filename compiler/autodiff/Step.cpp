// Step.cpp: gradients for every parameter of a training-step graph, and each
// task's gradient apart on the shared parameters.
#include "autodiff/Step.h"

#include "autodiff/Autodiff.h"
#include "ir/Builder.h"

namespace mtl::autodiff {
namespace {

/// d `loss` / d p for each p of `wrt`, in that order: zeros (named
/// "<prefix><param>") where the loss does not depend on p. Empty on error.
std::vector<ir::ValueId> gradientsOf(ir::Graph &graph, ir::ValueId loss,
                                     const std::vector<ir::ValueId> &wrt, const std::string &prefix,
                                     std::vector<Diagnostic> &errors) {
  Gradients grads;
  if (loss >= 0) {
    grads = differentiate(graph, loss, wrt, prefix);
    if (!grads.ok()) {
      errors = grads.errors;
      return {};
    }
  }
  ir::Builder b(graph);
  std::vector<ir::ValueId> out;
  for (ir::ValueId p : wrt) {
    std::optional<ir::ValueId> g = grads.of(p);
    if (!g) {
      b.setLoc(graph.op(p).loc);
      g = b.broadcastLike(b.constant(0), p);
      graph.setResult(prefix + graph.op(p).name, *g);
    }
    out.push_back(*g);
  }
  return out;
}

/// signature.repGram: the inner products of the tasks' gradients on the
/// shared representation, Σ_Z sum(dZ_i * dZ_j), named "repgram.<i>.<j>" for
/// i <= j. Only the heads' backward: the sweep stops at Z.
void representationGram(ir::Graph &graph, ir::StepSignature &signature,
                        std::vector<Diagnostic> &errors) {
  const std::vector<ir::ValueId> &values = signature.sharedValues;
  signature.repGram.clear();
  if (values.empty())
    return;
  std::vector<std::vector<std::optional<ir::ValueId>>> grads;
  for (ir::ValueId weighted : signature.weightedLosses) {
    grads.push_back(differentiateValues(graph, weighted, values, errors));
    if (!errors.empty())
      return;
  }
  const size_t tasks = grads.size();
  ir::Builder b(graph);
  signature.repGram.assign(tasks * tasks, -1);
  for (size_t i = 0; i < tasks; ++i)
    for (size_t j = i; j < tasks; ++j) {
      ir::ValueId sum = -1;
      for (size_t k = 0; k < values.size(); ++k) {
        if (!grads[i][k] || !grads[j][k])
          continue;
        b.setLoc(graph.op(values[k]).loc);
        ir::ValueId term = b.reduceSum(b.mul(*grads[i][k], *grads[j][k]));
        sum = sum < 0 ? term : b.add(sum, term);
      }
      if (sum < 0)
        sum = b.constant(0);
      signature.repGram[i * tasks + j] = signature.repGram[j * tasks + i] = sum;
      graph.setResult("repgram." + std::to_string(i) + "." + std::to_string(j), sum);
    }
}

} // namespace

std::vector<Diagnostic> differentiateStep(ir::Graph &graph, ir::StepSignature &signature,
                                          bool splitByTask) {
  std::vector<Diagnostic> errors;
  std::vector<ir::ValueId> params = graph.params();
  std::vector<ir::ValueId> grads = gradientsOf(graph, signature.loss, params, "grad.", errors);
  if (!errors.empty())
    return errors;
  signature.gradients.clear();
  for (size_t k = 0; k < params.size(); ++k)
    signature.gradients.emplace_back(params[k], grads[k]);

  // Each task's term apart, on the shared parameters only: its backward
  // through the head repeats the total's (common-subexpression elimination
  // merges the two), then runs the shared trunk once per task.
  signature.taskGradients.clear();
  signature.penaltyGradients.clear();
  const std::vector<ir::ValueId> &shared = signature.sharedParams;
  if (!splitByTask || shared.empty() || signature.weightedLosses.size() < 2)
    return {};
  for (ir::ValueId weighted : signature.weightedLosses) {
    std::string prefix = "taskgrad." + std::to_string(signature.taskGradients.size()) + ".";
    signature.taskGradients.push_back(gradientsOf(graph, weighted, shared, prefix, errors));
    if (!errors.empty())
      return errors;
  }
  signature.penaltyGradients =
      gradientsOf(graph, signature.penalty, shared, "penaltygrad.", errors);
  if (errors.empty())
    representationGram(graph, signature, errors);
  return errors;
}

} // namespace mtl::autodiff
