// Outline.cpp: each op's code as an internal function of its own, called by the step function.
//
// Why: the REPL's function cache (backend/FunctionCache.cpp) reuses machine code per
// function, keyed by content. With every op (and the element-wise producers fused into
// it) in a function whose body depends only on the op and its constant shapes, the same
// op in grad_step and eval_step, or an unchanged trunk after a head was retyped, is
// compiled once; a changed head recompiles only its own small functions and the step
// functions, which are then little more than a list of calls. The functions are
// `alwaysinline` with internal linkage, so a whole-module compilation (`mtlc build
// --lib`, `mtlc emit`) inlines them back before optimising and gets the code it got before.
#include "codegen/Emitter.h"

#include <algorithm>
#include <functional>

namespace mtl::codegen {

using ir::OpKind;

bool Emitter::outlines(ir::ValueId id) const {
  OpKind kind = graph.op(id).kind;
  // Storage only (set up by the caller) or one store: no function of its own.
  bool trivial = ir::isNamedLeaf(kind) || kind == OpKind::Reshape || kind == OpKind::Constant ||
                 kind == OpKind::ElementCount;
  // A fused value is computed inside its consumer's function.
  return !trivial && !isFused(id);
}

std::vector<ir::ValueId> Emitter::storageOf(ir::ValueId id) const {
  std::vector<ir::ValueId> ids;
  std::function<void(ir::ValueId)> visit = [&](ir::ValueId v) {
    if (v != id && isFused(v)) {
      for (ir::ValueId o : graph.op(v).operands)
        visit(o);
      return;
    }
    if (buffers[v] && std::find(ids.begin(), ids.end(), v) == ids.end())
      ids.push_back(v);
  };
  visit(id);
  for (ir::ValueId o : graph.op(id).operands)
    visit(o);
  return ids;
}

void Emitter::emitOpOutlined(ir::ValueId id) {
  if (!outlines(id)) {
    emitOp(id);
    return;
  }
  // The buffers the op touches: its own, its operands', and through fused
  // operands theirs, each distinct pointer once, in a fixed order.
  std::vector<ir::ValueId> ids = storageOf(id);
  std::vector<llvm::Value *> pointers;
  for (ir::ValueId v : ids)
    if (std::find(pointers.begin(), pointers.end(), buffers[v]) == pointers.end())
      pointers.push_back(buffers[v]);

  bool seeded = graph.op(id).kind == OpKind::Dropout && training && runSeed && step;
  std::vector<llvm::Value *> args = pointers;
  args.insert(
      args.end(),
      {scratch ? scratch : llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(ptr)),
       parallel, rows});
  if (seeded)
    args.insert(args.end(), {runSeed, step});

  // The body, with the emitter's state pointing at the function's arguments.
  std::vector<llvm::Value *> savedBuffers = buffers;
  llvm::Value *savedScratch = scratch, *savedParallel = parallel, *savedRows = rows;
  llvm::Value *savedSeed = runSeed, *savedStep = step;
  outlined(args, [&](const std::vector<llvm::Value *> &a) {
    for (ir::ValueId v : ids) {
      size_t k = std::find(pointers.begin(), pointers.end(), savedBuffers[v]) - pointers.begin();
      buffers[v] = a[k];
    }
    size_t next = pointers.size();
    scratch = a[next++];
    parallel = a[next++];
    rows = a[next++];
    if (seeded) {
      runSeed = a[next++];
      step = a[next++];
    }
    emitOp(id);
  });
  buffers = std::move(savedBuffers);
  scratch = savedScratch;
  parallel = savedParallel;
  rows = savedRows;
  runSeed = savedSeed;
  step = savedStep;
}

void Emitter::copyOutlined(llvm::Value *src, llvm::Value *dst, llvm::Value *count) {
  outlined({src, dst, count}, [&](const std::vector<llvm::Value *> &a) {
    loop(a[2], [&](llvm::Value *i) { store(load(a[0], i), a[1], i); });
  });
}

void Emitter::outlined(const std::vector<llvm::Value *> &args, const OutlinedBody &body) {
  std::vector<llvm::Type *> types;
  for (llvm::Value *a : args)
    types.push_back(a->getType());
  auto *type = llvm::FunctionType::get(b.getVoidTy(), types, false);
  auto *fn = llvm::Function::Create(type, llvm::Function::InternalLinkage, "mtl.op", module);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  fn->addFnAttr(llvm::Attribute::AlwaysInline);
  b.CreateCall(type, fn, args);
  llvm::IRBuilderBase::InsertPoint saved = b.saveIP();
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", fn));
  std::vector<llvm::Value *> params;
  for (llvm::Argument &a : fn->args())
    params.push_back(&a);
  body(params);
  b.CreateRetVoid();
  b.restoreIP(saved);
}

} // namespace mtl::codegen
