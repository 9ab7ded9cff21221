// DeadCode.cpp: keep what the results need (and the leaves), renumber the rest away.
//
// Autodiff and lowering build freely (a regulariser's constant, a gradient no
// parameter needs); this pass is what keeps such ops out of generated code.
#include "passes/DeadCode.h"

#include "passes/MemoryPlan.h"

namespace mtl::passes {

std::vector<ir::ValueId> resultValues(const ir::StepSignature &s) {
  std::vector<ir::ValueId> roots = s.taskLosses;
  roots.push_back(s.loss);
  if (s.penalty >= 0)
    roots.push_back(s.penalty);
  roots.insert(roots.end(), s.outputs.begin(), s.outputs.end());
  for (auto &[param, grad] : s.gradients)
    roots.push_back(grad);
  for (auto &[buffer, next] : s.buffers)
    roots.push_back(next);
  for (const std::vector<ir::ValueId> &task : s.taskGradients)
    roots.insert(roots.end(), task.begin(), task.end());
  roots.insert(roots.end(), s.penaltyGradients.begin(), s.penaltyGradients.end());
  roots.insert(roots.end(), s.repGram.begin(), s.repGram.end());
  for (const ir::GateProbe &gate : s.gates)
    roots.push_back(gate.gate);
  return roots;
}

void remapSignature(ir::StepSignature &s, const std::vector<ir::ValueId> &map) {
  auto fix = [&](ir::ValueId &id) {
    if (id >= 0)
      id = map[id];
  };
  for (auto *list :
       {&s.inputs, &s.targets, &s.taskWeights, &s.taskLosses, &s.outputs, &s.weightedLosses,
        &s.sharedParams, &s.penaltyGradients, &s.sharedValues, &s.repGram})
    for (ir::ValueId &id : *list)
      fix(id);
  for (std::vector<ir::ValueId> &task : s.taskGradients)
    for (ir::ValueId &id : task)
      fix(id);
  for (ir::GateProbe &gate : s.gates)
    fix(gate.gate);
  fix(s.step);
  fix(s.loss);
  fix(s.penalty);
  for (auto *pairs : {&s.gradients, &s.buffers})
    for (auto &[leaf, value] : *pairs) {
      fix(leaf);
      fix(value);
    }
}

size_t eliminateDeadCode(ir::Graph &graph, ir::StepSignature &signature) {
  std::vector<bool> keep = neededFor(graph, resultValues(signature));
  for (size_t v = 0; v < graph.size(); ++v) {
    if (ir::isNamedLeaf(graph.op(static_cast<ir::ValueId>(v)).kind))
      keep[v] = true;
  }
  ir::Graph out;
  std::vector<ir::ValueId> map(graph.size(), -1);
  for (size_t v = 0; v < graph.size(); ++v) {
    if (!keep[v])
      continue;
    ir::Op op = graph.op(static_cast<ir::ValueId>(v));
    for (ir::ValueId &o : op.operands)
      o = map[o];
    map[v] = out.append(std::move(op));
  }
  for (const auto &[name, id] : graph.results())
    if (map[id] >= 0)
      out.setResult(name, map[id]);
  size_t removed = graph.size() - out.size();
  remapSignature(signature, map);
  graph = std::move(out);
  return removed;
}

} // namespace mtl::passes
