// CodeGen.cpp: plans memory for both step functions and assembles the module.
#include "codegen/CodeGen.h"

#include "codegen/Descriptor.h"
#include "codegen/StepFunctions.h"
#include "passes/DeadCode.h"
#include "passes/Fusion.h"

namespace mtl::codegen {

std::unique_ptr<llvm::Module> generateModule(const CodegenInput &input, llvm::LLVMContext &ctx) {
  auto module = std::make_unique<llvm::Module>(input.model.name, ctx);
  const ir::Graph &g = input.graph;
  const ir::StepSignature &sig = input.signature;
  ArenaLayout layout = layoutArenas(g, sig, input.model);

  // Each step computes the values its roots need and keeps the roots live
  // to its end: the losses, head outputs and gates, and the gradients it stores.
  std::vector<ir::ValueId> evalRoots = sig.taskLosses;
  evalRoots.push_back(sig.loss);
  if (sig.penalty >= 0)
    evalRoots.push_back(sig.penalty);
  evalRoots.insert(evalRoots.end(), sig.outputs.begin(), sig.outputs.end());
  for (const ir::GateProbe &gate : sig.gates) // summed into gate_sums at the end
    evalRoots.push_back(gate.gate);
  struct Planned {
    std::vector<bool> needed, fused, carried;
    std::vector<passes::Segment> segments;
    passes::MemoryPlan plan;
  };
  // Each step fuses what it reads once (passes/Fusion.h). The evaluation
  // step, whose ops are mostly the train step's, fuses only what the train
  // step fuses too of what both compute, so that their kernels stay the
  // same functions, compiled once (penguins: 93 distinct functions
  // otherwise, 86 so).
  auto plan = [&](const std::vector<ir::ValueId> &roots, bool training = true,
                  const Planned *like = nullptr) {
    std::vector<bool> live(g.size(), false);
    for (ir::ValueId r : roots)
      live[r] = true;
    Planned p{passes::neededFor(g, roots, training), {}, {}, {}, {}};
    p.fused = passes::fuseElementwise(g, roots, p.needed);
    p.carried = passes::carriedProducts(g, roots, p.needed);
    for (size_t v = 0; like && v < g.size(); ++v)
      if (like->needed[v] && !like->fused[v])
        p.fused[v] = false;
    std::vector<ir::ValueId> ops;
    for (size_t v = 0; v < g.size(); ++v)
      if (p.needed[v])
        ops.push_back(static_cast<ir::ValueId>(v));
    // A step long enough to be called in chunks runs its ops in one lane.
    p.segments = passes::planLanes(g, ops, p.fused, Emitter::kChunkOps);
    p.plan = passes::planMemory(g, p.needed, live, p.fused, p.segments, p.carried);
    return p;
  };
  auto withGradients = [&](StepKind kind) {
    std::vector<ir::ValueId> roots = evalRoots;
    for (ir::ValueId v : gradientRoots(sig, layout, kind))
      roots.push_back(v);
    return roots;
  };
  const bool split = !sig.taskGradients.empty();
  Planned gradPlan = plan(withGradients(StepKind::Grad));
  Planned evalPlan = plan(evalRoots, false, &gradPlan);
  Planned taskPlan = split ? plan(withGradients(StepKind::TaskGrad)) : Planned{};
  const bool rep = !sig.repGram.empty();
  Planned repPlan = rep ? plan(withGradients(StepKind::RepGram)) : Planned{};

  // Scratch for the largest dense weight packed for a product (Matrix.cpp).
  int64_t scratch = 0;
  for (const ir::Op &op : g.ops())
    if (op.kind == ir::OpKind::Linear || op.kind == ir::OpKind::MatMul)
      scratch = std::max(scratch, g.type(op.operands[1]).rowElements());

  std::map<std::string, llvm::Function *> sameOps;
  auto emit = [&](const Planned &p, StepKind kind) {
    return emitStepFunction({*module, g, sig, p.plan, p.needed, p.segments, layout, p.fused,
                             p.carried, scratch, kind, input.vectors,
                             input.shareOps ? &sameOps : nullptr});
  };
  DescriptorInfo info;
  info.gradStep = emit(gradPlan, StepKind::Grad);
  info.taskGradStep = split ? emit(taskPlan, StepKind::TaskGrad) : nullptr;
  info.repGradStep = rep ? emit(repPlan, StepKind::RepGram) : nullptr;
  info.evalStep = emit(evalPlan, StepKind::Eval);
  info.update =
      emitUpdateFunction(*module, g, sig, gradPlan.plan, layout, input.model, input.vectors);
  info.sourceHash = input.sourceHash;
  info.targetCpu = input.targetCpu;
  info.symbol = input.symbol;
  info.config = input.config;
  info.gates = sig.gates;
  // The runtime allocates fixed + rows * perRow floats; the maxima of the
  // plans (with the two scratch areas) cover each function's own layout.
  for (const Planned *p : {&evalPlan, &gradPlan, &taskPlan, &repPlan}) {
    info.workspaceFixed = std::max(info.workspaceFixed, workspaceFixed(p->plan, scratch));
    info.workspacePerRow = std::max(info.workspacePerRow, p->plan.perRowSize);
  }
  emitDescriptor(*module, input.model, layout, info);
  return module;
}

} // namespace mtl::codegen
