// StepFunctions.cpp: the gradient, update and eval steps, the entry points of the ABI.
#include "codegen/StepFunctions.h"

#include "codegen/Update.h"

#include <algorithm>

namespace mtl::codegen {
namespace {

// Byte offsets of fields in the ABI structs (x86-64 / LP64 layout).
constexpr int64_t kBatchRows = 0, kBatchInputs = 8, kBatchTargets = 16;
constexpr int64_t kHyperLr = 0, kHyperWeights = 8, kHyperStep = 16, kHyperSeed = 24,
                  kHyperLrScales = 32;
constexpr int64_t kResultLoss = 0, kResultTaskLosses = 8, kResultCounts = 16, kResultOutputs = 24,
                  kResultPenalty = 32, kResultSkipped = 36, kResultGateSums = 40, kResultRows = 48;

llvm::Value *field(Emitter &e, llvm::Value *base, int64_t offset) {
  return e.b.CreateInBoundsGEP(e.b.getInt8Ty(), base, e.cst(offset));
}
llvm::Value *loadPtr(Emitter &e, llvm::Value *base, int64_t offset) {
  return e.b.CreateLoad(e.ptr, field(e, base, offset));
}
llvm::Value *loadPtrAt(Emitter &e, llvm::Value *array, int64_t index) {
  return e.b.CreateLoad(e.ptr, e.b.CreateInBoundsGEP(e.ptr, array, e.cst(index)));
}

// Skips `then` when `pointer` is null.
void ifNonNull(Emitter &e, llvm::Value *pointer, const std::function<void()> &then) {
  llvm::Function *fn = e.b.GetInsertBlock()->getParent();
  llvm::BasicBlock *yes = llvm::BasicBlock::Create(e.ctx, "nonnull", fn);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(e.ctx, "next", fn);
  e.b.CreateCondBr(e.b.CreateIsNotNull(pointer), yes, done);
  e.b.SetInsertPoint(yes);
  then();
  e.b.CreateBr(done);
  e.b.SetInsertPoint(done);
}

/// The part of row `r` of `targets` (rows of `width` values) that is
/// labelled: the fraction of its values that are not NaN, 1 or 0 for a
/// row of one value. A task's loss is the mean over its labelled values,
/// so rows weighted by this part weigh a batch's loss as its values do.
llvm::Value *labelledPart(Emitter &e, llvm::Value *targets, int64_t width, llvm::Value *r) {
  llvm::Value *first = e.b.CreateMul(r, e.cst(width));
  auto present = [&](llvm::Value *i) {
    return e.b.CreateSelect(e.isNan(e.load(targets, i)), e.fcst(0), e.fcst(1));
  };
  if (width == 1)
    return present(first);
  llvm::Value *acc = e.accumulator(e.f32, e.fcst(0));
  e.loop(e.cst(width), [&](llvm::Value *j) {
    llvm::Value *sum = e.b.CreateFAdd(e.b.CreateLoad(e.f32, acc), present(e.b.CreateAdd(first, j)));
    e.b.CreateStore(sum, acc);
  });
  return e.b.CreateFDiv(e.b.CreateLoad(e.f32, acc), e.fcst(float(width)));
}

/// The width of task `t`'s target rows.
int64_t targetWidth(Emitter &e, const ir::StepSignature &sig, size_t t) {
  return e.graph.type(sig.targets[t]).rowElements();
}

/// `*count`: the rows labelled for task `t` (each row its labelledPart), counted in a function of
/// its own
/// (`mtl.result`), which is the same for every task whose targets are as
/// wide: the step function stays a list of calls, and the count compiles once.
void countLabelled(Emitter &e, const ir::StepSignature &sig, size_t t, llvm::Value *count) {
  const int64_t width = targetWidth(e, sig, t);
  e.outlined({e.buffers[sig.targets[t]], count, e.rows}, [&](const std::vector<llvm::Value *> &a) {
     llvm::Value *acc = e.accumulator(e.f32, e.fcst(0));
     e.loop(a[2], [&](llvm::Value *r) {
       llvm::Value *part = labelledPart(e, a[0], width, r);
       e.b.CreateStore(e.b.CreateFAdd(e.b.CreateLoad(e.f32, acc), part), acc);
     });
     e.b.CreateStore(e.b.CreateLoad(e.f32, acc), a[1]);
   })->setName("mtl.result");
}

/// mtl_result.gate_sums: per gate and expert, the sum of the gate's weights
/// over the rows labelled for its task, each weighted by its labelledPart
/// (every row for a gate of several tasks). Each gate's sums are a function of their own, as in
/// countLabelled.
void storeGateSums(Emitter &e, const ir::StepSignature &sig, llvm::Value *sums) {
  int64_t at = 0;
  for (const ir::GateProbe &gate : sig.gates) {
    const auto k = static_cast<int64_t>(gate.experts.size());
    const bool perRow = e.graph.type(gate.gate).batched; // else learned(...): every row alike
    const bool masked = gate.task >= 0;
    const int64_t width = masked ? targetWidth(e, sig, size_t(gate.task)) : 0;
    // The gate, where its sums go, the rows, and the task's targets.
    std::vector<llvm::Value *> args = {e.buffers[gate.gate], e.at(sums, e.cst(at)), e.rows};
    if (masked)
      args.push_back(e.buffers[sig.targets[size_t(gate.task)]]);
    e.outlined(args, [&](const std::vector<llvm::Value *> &a) {
       for (int64_t j = 0; j < k; ++j) {
         llvm::Value *acc = e.accumulator(e.f32, e.fcst(0));
         e.loop(a[2], [&](llvm::Value *r) {
           llvm::Value *w = e.load(
               a[0], perRow ? e.b.CreateAdd(e.b.CreateMul(r, e.cst(k)), e.cst(j)) : e.cst(j));
           if (masked)
             w = width == 1 ? e.b.CreateSelect(e.isNan(e.load(a[3], r)), e.fcst(0), w)
                            : e.b.CreateFMul(w, labelledPart(e, a[3], width, r));
           e.b.CreateStore(e.b.CreateFAdd(e.b.CreateLoad(e.f32, acc), w), acc);
         });
         e.store(e.b.CreateLoad(e.f32, acc), a[1], e.cst(j));
       }
     })->setName("mtl.result");
    at += k;
  }
}

/// One gradient value (or a buffer's next value) and where the step stores
/// it in the gradient arena.
struct ArenaSlot {
  ir::ValueId value;
  int64_t offset, size;
};

/// Each buffer's next value, at its place in the block that starts at `block`.
void addBufferSlots(std::vector<ArenaSlot> &slots, const ir::StepSignature &sig,
                    const ArenaLayout &layout, int64_t block) {
  for (const PlacedTensor &p : layout.buffers)
    for (const auto &[buffer, next] : sig.buffers)
      if (buffer == p.param)
        slots.push_back({next, block + p.offset, p.size});
}

std::vector<ArenaSlot> arenaSlots(const ir::StepSignature &sig, const ArenaLayout &layout,
                                  StepKind kind) {
  std::vector<ArenaSlot> slots;
  std::vector<int> sharedAt(layout.params.size(), -1);
  if (kind == StepKind::RepGram) {
    // The Gram matrix, then the gradients the heads' backward gives: the
    // unshared parameters', in a block laid out as the parameter arena.
    const int64_t block = layout.repGramOffset + static_cast<int64_t>(sig.repGram.size());
    for (size_t k = 0; k < sig.repGram.size(); ++k)
      slots.push_back({sig.repGram[k], layout.repGramOffset + static_cast<int64_t>(k), 1});
    for (const PlacedTensor &p : layout.params)
      if (std::find(sig.sharedParams.begin(), sig.sharedParams.end(), p.param) ==
          sig.sharedParams.end())
        for (const auto &[param, grad] : sig.gradients)
          if (param == p.param)
            slots.push_back({grad, block + p.offset, p.size});
    addBufferSlots(slots, sig, layout, block);
    return slots;
  }
  if (kind == StepKind::TaskGrad)
    for (size_t j = 0; j < layout.sharedIndex.size(); ++j)
      sharedAt[static_cast<size_t>(layout.sharedIndex[j])] = static_cast<int>(j);
  for (size_t k = 0; k < layout.params.size(); ++k) {
    const PlacedTensor &p = layout.params[k];
    int j = sharedAt[k];
    if (j >= 0 && sig.penalty < 0)
      continue; // no penalty: the runtime writes the shared gradient whole
    for (const auto &[param, grad] : sig.gradients)
      if (param == p.param)
        slots.push_back(
            {j < 0 ? grad : sig.penaltyGradients[static_cast<size_t>(j)], p.offset, p.size});
  }
  if (kind == StepKind::TaskGrad)
    for (size_t t = 0; t < sig.taskGradients.size(); ++t)
      for (size_t j = 0; j < layout.shared.size(); ++j)
        slots.push_back({sig.taskGradients[t][j],
                         layout.paramsSize + static_cast<int64_t>(t) * layout.sharedSize +
                             layout.shared[j].offset,
                         layout.shared[j].size});
  addBufferSlots(slots, sig, layout, 0);
  return slots;
}

} // namespace

int64_t cacheLines(int64_t floats) { return (floats + 15) / 16 * 16; }

int64_t workspaceFixed(const passes::MemoryPlan &plan, int64_t scratchFloats) {
  return cacheLines(plan.fixedSize) + 2 * cacheLines(scratchFloats);
}

std::vector<ir::ValueId> gradientRoots(const ir::StepSignature &signature,
                                       const ArenaLayout &layout, StepKind kind) {
  std::vector<ir::ValueId> roots;
  for (const ArenaSlot &slot : arenaSlots(signature, layout, kind))
    roots.push_back(slot.value);
  return roots;
}

llvm::Function *emitStepFunction(const StepFunctionSpec &spec) {
  const ir::Graph &g = spec.graph;
  const ir::StepSignature &sig = spec.signature;
  llvm::Module &m = spec.module;
  llvm::LLVMContext &ctx = m.getContext();
  llvm::Type *ptr = llvm::PointerType::getUnqual(ctx);
  // grad steps: (batch, hyper, params, workspace, grads, result, parallel)
  // eval:       (batch, hyper, params, workspace, result, parallel)
  const bool training = spec.kind != StepKind::Eval;
  std::vector<llvm::Type *> argTypes(training ? 7 : 6, ptr);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), argTypes, false);
  const char *name = spec.kind == StepKind::Grad       ? "mtl.grad_step"
                     : spec.kind == StepKind::TaskGrad ? "mtl.task_grad_step"
                     : spec.kind == StepKind::RepGram  ? "mtl.rep_grad_step"
                                                       : "mtl.eval_step";
  auto *fn = llvm::Function::Create(type, llvm::Function::InternalLinkage, name, m);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  int a = 0;
  llvm::Value *batch = fn->getArg(a++), *hyper = fn->getArg(a++), *params = fn->getArg(a++);
  llvm::Value *workspace = fn->getArg(a++);
  llvm::Value *grads = training ? fn->getArg(a++) : nullptr;
  llvm::Value *result = fn->getArg(a++), *parallel = fn->getArg(a++);

  Emitter e(m, g, spec.plan);
  e.vectors = spec.vectors;
  e.sameOps = spec.sameOps;
  e.training = training;
  e.fused = spec.fused;
  e.carried = spec.carried;
  e.parallel = parallel;
  e.b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", fn));
  e.rows = e.b.CreateLoad(e.i64, field(e, batch, kBatchRows));
  llvm::Value *inputs = loadPtr(e, batch, kBatchInputs);
  llvm::Value *targets = loadPtr(e, batch, kBatchTargets);
  llvm::Value *weights = loadPtr(e, hyper, kHyperWeights);
  llvm::Value *step = e.b.CreateLoad(e.i64, field(e, hyper, kHyperStep));

  // Where every value lives: caller buffers for inputs, the arenas otherwise.
  for (size_t k = 0; k < sig.inputs.size(); ++k)
    e.placeAtRoot(sig.inputs[k], loadPtrAt(e, inputs, static_cast<int64_t>(k)));
  for (size_t t = 0; t < sig.targets.size(); ++t) {
    e.placeAtRoot(sig.targets[t], loadPtrAt(e, targets, static_cast<int64_t>(t)));
    if (sig.taskWeights[t] >= 0)
      e.placeAt(sig.taskWeights[t], weights, static_cast<int64_t>(t));
  }
  if (training) {
    e.runSeed = e.mix64(e.b.CreateLoad(e.i64, field(e, hyper, kHyperSeed)));
    e.step = step;
  }
  if (sig.step >= 0) {
    llvm::Value *slot = e.b.CreateAlloca(e.f32);
    e.b.CreateStore(e.b.CreateSIToFP(step, e.f32), slot);
    e.placeAtRoot(sig.step, slot);
  }
  for (const std::vector<PlacedTensor> *list : {&spec.layout.params, &spec.layout.buffers})
    for (const PlacedTensor &p : *list)
      e.placeAt(p.param, params, p.offset);
  // A gradient that owns its storage is computed in the gradient arena
  // itself; the rest (a view of another value, or a value stored in two
  // places) are copied there at the end.
  std::vector<ArenaSlot> slots, copies;
  if (training)
    slots = arenaSlots(sig, spec.layout, spec.kind);
  std::vector<int> uses(g.size(), 0);
  for (const ArenaSlot &slot : slots)
    ++uses[static_cast<size_t>(slot.value)];
  for (const ArenaSlot &slot : slots) {
    const auto v = static_cast<size_t>(slot.value);
    if (uses[v] == 1 && spec.plan.storage[v] == slot.value && spec.plan.offset[v] >= 0 &&
        !g.op(slot.value).type.batched)
      e.placeAt(slot.value, grads, slot.offset);
    else
      copies.push_back(slot);
  }
  // Workspace: the planned fixed region, the scratch areas (one per lane),
  // then the rows, each from a cache line.
  const int64_t scratchAt = cacheLines(spec.plan.fixedSize), lane = cacheLines(spec.scratchFloats);
  e.scratch = e.b.CreateInBoundsGEP(e.f32, workspace, e.cst(scratchAt));
  e.laneScratch = e.b.CreateInBoundsGEP(e.f32, workspace, e.cst(scratchAt + lane));
  llvm::Value *perRowBase =
      e.b.CreateInBoundsGEP(e.f32, workspace, e.cst(workspaceFixed(spec.plan, spec.scratchFloats)));
  for (size_t v = 0; v < g.size(); ++v) {
    ir::ValueId id = static_cast<ir::ValueId>(v);
    if (!spec.needed[v] || e.buffers[v] || e.isFused(id))
      continue;
    ir::ValueId owner = spec.plan.storage[v];
    if (owner != id) {
      e.buffers[v] = e.buffers[owner];
      e.places[v] = e.places[owner];
      continue;
    }
    if (spec.plan.offset[v] < 0)
      continue;
    if (g.op(id).type.batched)
      e.placeAt(id, perRowBase, spec.plan.offset[v], true);
    else
      e.placeAt(id, workspace, spec.plan.offset[v]);
  }

  if (spec.segments.size() == 1 && spec.segments[0].lanes[1].empty())
    e.emitOpsInChunks(spec.segments[0].lanes[0]);
  else
    e.emitSegments(spec.segments);

  // Results.
  llvm::Value *loss = e.load(e.buffers[sig.loss], e.cst(0));
  e.b.CreateStore(loss, field(e, result, kResultLoss));
  e.b.CreateStore(sig.penalty >= 0 ? e.load(e.buffers[sig.penalty], e.cst(0)) : e.fcst(0),
                  field(e, result, kResultPenalty));
  llvm::Value *taskLosses = loadPtr(e, result, kResultTaskLosses);
  llvm::Value *counts = loadPtr(e, result, kResultCounts);
  llvm::Value *outputs = loadPtr(e, result, kResultOutputs);
  for (size_t t = 0; t < sig.taskLosses.size(); ++t) {
    llvm::Value *tt = e.cst(static_cast<int64_t>(t));
    ifNonNull(e, taskLosses,
              [&] { e.store(e.load(e.buffers[sig.taskLosses[t]], e.cst(0)), taskLosses, tt); });
    ifNonNull(e, counts, [&] { countLabelled(e, sig, t, e.at(counts, tt)); });
    ifNonNull(e, outputs, [&] {
      llvm::Value *dst = loadPtrAt(e, outputs, static_cast<int64_t>(t));
      ifNonNull(e, dst, [&] {
        e.copyOutlined(e.buffers[sig.outputs[t]], dst, e.count(g.type(sig.outputs[t])));
      });
    });
  }
  if (!sig.gates.empty()) {
    llvm::Value *gateSums = loadPtr(e, result, kResultGateSums);
    ifNonNull(e, gateSums, [&] { storeGateSums(e, sig, gateSums); });
  }
  e.b.CreateStore(e.b.getInt32(0), field(e, result, kResultSkipped));
  e.b.CreateStore(e.rows, field(e, result, kResultRows));
  for (const ArenaSlot &slot : copies)
    e.copyOutlined(e.buffers[slot.value], e.at(grads, e.cst(slot.offset)), e.cst(slot.size));
  e.b.CreateRetVoid();
  return fn;
}

llvm::Function *emitUpdateFunction(llvm::Module &module, const ir::Graph &graph,
                                   const ir::StepSignature &signature,
                                   const passes::MemoryPlan &plan, const ArenaLayout &layout,
                                   const lower::StepModel &model, const VectorUnit &vectors) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::Type *ptr = llvm::PointerType::getUnqual(ctx);
  // (hyper, params, state, grads, result, parallel)
  auto *type =
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), std::vector<llvm::Type *>(6, ptr), false);
  auto *fn = llvm::Function::Create(type, llvm::Function::InternalLinkage, "mtl.update", module);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::Value *hyper = fn->getArg(0), *params = fn->getArg(1), *state = fn->getArg(2);
  llvm::Value *grads = fn->getArg(3), *result = fn->getArg(4);
  Emitter e(module, graph, plan);
  e.vectors = vectors;
  e.parallel = fn->getArg(5);
  e.b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", fn));
  // A step whose loss is not finite, or whose gradients or learning rate
  // are large enough to overflow the update, changes nothing: the
  // parameters and optimizer state stay those of the last good step, and
  // the runtime, told so (skipped = 1), stops the run with a message. An
  // update that still overflows is reported too (skipped = 2).
  llvm::Value *refused = e.accumulator(e.b.getInt32Ty(), e.b.getInt32(0));
  llvm::Value *overflowed = e.accumulator(e.b.getInt32Ty(), e.b.getInt32(0));
  e.flagAtLeast(refused, e.b.CreateLoad(e.f32, field(e, result, kResultLoss)), Emitter::kNonFinite);
  llvm::Value *lr = e.b.CreateLoad(e.f32, field(e, hyper, kHyperLr));
  llvm::Value *step = e.b.CreateLoad(e.i64, field(e, hyper, kHyperStep));
  llvm::Value *lrScales = loadPtr(e, hyper, kHyperLrScales);
  llvm::Value *rows = e.b.CreateLoad(e.i64, field(e, result, kResultRows));
  emitUpdate(e, model.optimizer, model.update, layout, params, state,
             {lr, lrScales, step, grads, rows}, gradientWork(graph, signature, layout), refused,
             overflowed);
  llvm::Value *wasRefused =
      e.b.CreateICmpNE(e.b.CreateLoad(e.b.getInt32Ty(), refused), e.b.getInt32(0));
  e.b.CreateStore(e.b.CreateSelect(wasRefused, e.b.getInt32(1),
                                   e.b.CreateShl(e.b.CreateLoad(e.b.getInt32Ty(), overflowed), 1)),
                  field(e, result, kResultSkipped));
  e.b.CreateRetVoid();
  return fn;
}

} // namespace mtl::codegen
