// Lower.cpp: the training step of a model: inputs, heads, per-task masked
// losses, static balancing and the penalty terms, with the step's signature.
#include "lower/LowerContext.h"

#include "ir/Verifier.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>

namespace mtl::lower {

using ir::LossKind;
using ir::TensorType;
using ir::ValueId;

namespace {

LossKind lossKind(sema::Loss loss) {
  switch (loss) {
  case sema::Loss::Mse:
    return LossKind::Mse;
  case sema::Loss::Mae:
    return LossKind::Mae;
  case sema::Loss::Huber:
    return LossKind::Huber;
  case sema::Loss::Bce:
    return LossKind::BceLogits;
  case sema::Loss::CrossEntropy:
    return LossKind::CrossEntropy;
  }
  return LossKind::Mse;
}

/// The task's target input: one class id per row for cross-entropy, else one
/// value per head output.
TensorType targetType(const sema::Task &task) {
  if (task.loss == sema::Loss::CrossEntropy)
    return TensorType::batch({1});
  return TensorType::batch({task.width});
}

void lowerInputs(Lowering &l) {
  for (const sema::Input &in : l.model.inputs) {
    l.b.setLoc(in.loc);
    ir::DType dtype = in.dtype == sema::DType::I32 ? ir::DType::I32 : ir::DType::F32;
    l.out.signature.inputs.push_back(l.b.input(in.name, TensorType::batch(in.shape, dtype)));
  }
}

/// Kendall et al.'s uncertainty weighting as LibMTL writes it: with the
/// learned s_t = log σ_t² (a parameter of shape [1], 0 at the start), task t's
/// term is exp(-s_t) L_t / 2 + s_t / 2. Its minimum over s_t is at
/// σ_t² = L_t: a noisier task gets a smaller weight, and the s_t / 2 term
/// keeps every weight from falling to zero.
ValueId uncertaintyTerm(Lowering &l, const sema::Task &task, ValueId loss) {
  ir::Builder &b = l.b;
  ValueId logVar = b.paramOnce("uncertainty." + task.name + ".log_var", {1});
  l.logVars.push_back(logVar);
  ValueId s = b.reduceSum(logVar);
  ValueId scaled = b.mul(b.unary(ir::OpKind::Exp, b.unary(ir::OpKind::Neg, s)), loss);
  return b.scale(b.add(scaled, s), 0.5);
}

/// Lowers every task's head and loss; returns sum_t w_t L_t, or -1 on error.
/// With `balance uncertainty`, each L_t is its uncertainty term, whose
/// parameters follow every module's.
ValueId lowerTasks(Lowering &l) {
  ir::StepSignature &sig = l.out.signature;
  for (const sema::Task &task : l.model.tasks) {
    ValueId head = lowerValue(l, task.head);
    if (head < 0)
      return -1;
    l.b.setLoc(task.loc);
    ValueId target = l.b.input("target." + task.name, targetType(task));
    ValueId weight = l.b.input("weight." + task.name, TensorType::scalar());
    ValueId loss = l.b.loss(lossKind(task.loss), head, target, task.huberDelta);
    sig.targets.push_back(target);
    sig.taskWeights.push_back(weight);
    sig.taskLosses.push_back(loss);
    sig.outputs.push_back(head);
    l.out.graph.setResult("output." + task.name, head);
    l.out.graph.setResult("loss." + task.name, loss);
  }
  const bool uncertain = l.model.balance.kind == sema::BalanceKind::Uncertainty;
  ValueId total = -1;
  for (size_t t = 0; t < l.model.tasks.size(); ++t) {
    const sema::Task &task = l.model.tasks[t];
    l.b.setLoc(task.loc);
    ValueId loss = sig.taskLosses[t];
    ValueId weighted =
        l.b.mul(sig.taskWeights[t], uncertain ? uncertaintyTerm(l, task, loss) : loss);
    sig.weightedLosses.push_back(weighted);
    l.out.graph.setResult("weighted." + task.name, weighted);
    total = total < 0 ? weighted : l.b.add(total, weighted);
  }
  return total;
}

/// reaches[v]: whether `root` depends on value v.
std::vector<bool> dependencies(const ir::Graph &g, ValueId root) {
  std::vector<bool> reaches(g.size(), false);
  reaches[root] = true;
  for (ValueId v = root; v >= 0; --v)
    if (reaches[v])
      for (ValueId o : g.op(v).operands)
        reaches[o] = true;
  return reaches;
}

/// tasksOf[v]: how many task losses depend on value v.
std::vector<int> tasksOf(const ir::Graph &g, const std::vector<ValueId> &taskLosses) {
  std::vector<int> tasks(g.size(), 0);
  for (ValueId loss : taskLosses) {
    const std::vector<bool> reaches = dependencies(g, loss);
    for (size_t v = 0; v < g.size(); ++v)
      tasks[v] += reaches[v] ? 1 : 0;
  }
  return tasks;
}

/// Each gate probe's task (the one task whose loss reads its mix; -1 when
/// several do) and a name unique among the probes: a gate that mixes
/// experts for two tasks' heads is two probes, named GATE.TASK.
void settleGates(Lowering &l) {
  ir::StepSignature &sig = l.out.signature;
  std::vector<std::vector<bool>> reads;
  for (ValueId loss : sig.taskLosses)
    reads.push_back(dependencies(l.out.graph, loss));
  std::map<std::string, int> uses;
  for (size_t k = 0; k < sig.gates.size(); ++k) {
    ir::GateProbe &gate = sig.gates[k];
    int readers = 0;
    for (size_t t = 0; t < reads.size(); ++t)
      if (reads[t][size_t(l.mixes[k])])
        gate.task = readers++ == 0 ? int(t) : -1;
    ++uses[gate.name];
  }
  std::set<std::string> taken;
  for (ir::GateProbe &gate : sig.gates) {
    std::string name = gate.name;
    if (uses[gate.name] > 1)
      name += "." + (gate.task >= 0 ? l.model.tasks[size_t(gate.task)].name : "shared");
    for (int n = 2; taken.count(name); ++n)
      name = fmt::format("{}.{}", gate.name, n);
    taken.insert(name);
    gate.name = std::move(name);
  }
}

/// The parameters that more than one task's loss depends on: the ones whose
/// gradient a balancing method may combine task by task.
std::vector<ValueId> sharedParams(const ir::Graph &g, const std::vector<int> &tasks) {
  std::vector<ValueId> shared;
  for (ValueId p : g.params())
    if (tasks[p] > 1)
      shared.push_back(p);
  return shared;
}

/// The representation every task shares (StepSignature::sharedValues).
std::vector<ValueId> sharedValues(const ir::Graph &g, const std::vector<int> &tasks, int all) {
  std::vector<bool> fromParam(g.size(), false), frontier(g.size(), false);
  for (size_t v = 0; v < g.size(); ++v) {
    const ir::Op &op = g.op(ValueId(v));
    fromParam[v] = op.kind == ir::OpKind::Param;
    for (ValueId o : op.operands)
      fromParam[v] = fromParam[v] || (fromParam[o] && g.type(ValueId(v)).dtype == ir::DType::F32);
    for (ValueId o : op.operands)
      if (tasks[o] == all && tasks[v] < all && fromParam[o] && tasks[v] > 0)
        frontier[o] = true;
  }
  std::vector<ValueId> out;
  for (size_t v = 0; v < g.size(); ++v)
    if (frontier[v])
      out.push_back(ValueId(v));
  return out;
}

} // namespace

LoweredStep lowerModel(const sema::Model &model) {
  LoweredStep out;
  Lowering l(model, out);
  if (model.tasks.empty())
    l.error(model.loc, "a model needs at least one task");
  if (!out.ok())
    return out;
  lowerInputs(l);
  ValueId total = lowerTasks(l);
  if (total < 0 || !out.ok()) {
    if (out.ok())
      l.error(model.loc, "internal: a task head could not be lowered");
    return out;
  }
  // Penalties come after every module has created its parameters. They are
  // summed apart so that a run can report them beside the task losses.
  ValueId penalty = -1;
  auto addTerm = [&](ValueId term) {
    if (term >= 0)
      penalty = penalty < 0 ? term : l.b.add(penalty, term);
  };
  for (const sema::Regularizer &reg : model.regularizers)
    addTerm(lowerRegularizer(l, reg));
  for (const sema::SoftGroup &group : model.softGroups)
    addTerm(lowerSoftGroup(l, group));
  if (penalty >= 0) {
    total = l.b.add(total, penalty);
    out.graph.setResult("penalty", penalty);
  }
  out.signature.step = l.step;
  out.signature.loss = total;
  out.signature.penalty = penalty;
  const std::vector<int> tasks = tasksOf(out.graph, out.signature.taskLosses);
  out.signature.sharedParams = sharedParams(out.graph, tasks);
  out.signature.sharedValues = sharedValues(out.graph, tasks, static_cast<int>(model.tasks.size()));
  settleGates(l);
  for (ValueId buffer : out.graph.buffers())
    out.signature.buffers.emplace_back(buffer,
                                       *out.graph.result("buffer." + out.graph.op(buffer).name));
  out.graph.setResult("loss", total);
  out.model = describeStep(model, out.graph);
  const std::vector<ValueId> &params = out.graph.params();
  for (size_t i = 0; i < params.size(); ++i)
    if (std::find(l.logVars.begin(), l.logVars.end(), params[i]) != l.logVars.end())
      out.model.init[i] = {ParamInit::Kind::Zeros, 0}; // σ² = 1
  // Lowering a checked model must give a valid graph; anything else is a bug
  // worth reporting with its location rather than passing on.
  for (Diagnostic &d : ir::verify(out.graph)) {
    d.message = "internal: lowering produced an invalid op: " + d.message;
    out.errors.push_back(std::move(d));
  }
  return out;
}

} // namespace mtl::lower
