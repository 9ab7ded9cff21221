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
//
// Ops whose functions would be the same (Emitter::opKey: the same ops on the same shapes,
// reading and writing their storage alike) share the first one's: the second is a call.
// A gru unrolled over 200 steps emits the same dozen ops at every step; with each op a
// function of its own, codegen took 1.4 s to make 18,288 functions and the function
// cache 1.6 s more to find most of them the same (bench/README.md, "One function per
// op key"). A slice is passed its operand's pointer at its first column, so that the
// slices of one shape (a gru step's inputs) are one function too.
//
// A step function of more than kChunkOps calls (a gru unrolled over many steps) calls
// them in chunks: `noinline` functions of at most kChunkOps calls each, which compute
// their buffers' pointers from the roots of their `places`. Else the step function's
// pointers would each stay live across thousands of calls, and register allocation
// grows with their product (a 200-step gru's jit stage: 3.1-3.6 s, 0.75-0.87 s in chunks).
// The function cache makes a chunk's machine code at -O0 (FunctionCache::Pending::calls).
//
// A pair of lanes (passes/Lanes.h) is a kernel of two items whose ops compute their
// pointers from the roots it is passed, as a chunk's do; the pool runs one lane per thread.
#include "codegen/Chunks.h"
#include "codegen/Emitter.h"

#include <algorithm>
#include <bit>
#include <functional>

namespace mtl::codegen {

using ir::OpKind;

bool Emitter::outlines(ir::ValueId id) const {
  OpKind kind = graph.op(id).kind;
  // Storage only (set up by the caller) or one store: no function of its own.
  bool trivial = ir::isNamedLeaf(kind) || kind == OpKind::Reshape || kind == OpKind::Constant ||
                 kind == OpKind::ElementCount;
  // A fused or carried value is computed inside its consumer's function.
  return !trivial && !isFused(id) && !isCarried(id);
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
    if (v != id && isCarried(v))
      for (ir::ValueId o : graph.op(v).operands)
        visit(o);
  };
  visit(id);
  for (ir::ValueId o : graph.op(id).operands)
    visit(o);
  return ids;
}

std::vector<llvm::Value *> Emitter::withState(const std::vector<llvm::Value *> &prefix,
                                              bool seeded) {
  std::vector<llvm::Value *> args = prefix;
  args.insert(
      args.end(),
      {scratch ? scratch : llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(ptr)),
       parallel, rows});
  if (seeded)
    args.insert(args.end(), {runSeed, step});
  return args;
}

llvm::Function *Emitter::outlinedInState(const std::vector<llvm::Value *> &prefix, bool seeded,
                                         bool inlined, const OutlinedBody &body, bool distinct) {
  std::vector<llvm::Value *> savedBuffers = buffers;
  llvm::Value *savedScratch = scratch, *savedParallel = parallel, *savedRows = rows;
  llvm::Value *savedSeed = runSeed, *savedStep = step;
  llvm::Function *fn = outlined(
      withState(prefix, seeded),
      [&](const std::vector<llvm::Value *> &a) {
        size_t next = prefix.size();
        scratch = a[next++];
        parallel = a[next++];
        rows = a[next++];
        if (seeded) {
          runSeed = a[next++];
          step = a[next++];
        }
        body(std::vector<llvm::Value *>(a.begin(), a.begin() + static_cast<long>(prefix.size())));
      },
      inlined, distinct ? prefix.size() : 0);
  buffers = std::move(savedBuffers);
  scratch = savedScratch;
  parallel = savedParallel;
  rows = savedRows;
  runSeed = savedSeed;
  step = savedStep;
  return fn;
}

void Emitter::emitOpOutlined(ir::ValueId id) {
  if (isCarried(id) && graph.op(id).kind == OpKind::Im2Col)
    return; // computed by each product that reads it, at any batch
  if (isCarried(id)) {
    // Computed in its consumer's loop from kCarriedRows rows on; below, here.
    ifElse(
        b.CreateICmpSLT(rows, cst(kCarriedRows)),
        [&] {
          carried[id] = false;
          emitOpOutlined(id);
          carried[id] = true;
        },
        [] {});
    return;
  }
  if (!outlines(id)) {
    emitOp(id);
    return;
  }
  // The buffers the op touches: its own, its operands', and through fused
  // operands theirs, each distinct pointer once, in a fixed order. A slice
  // is passed its operand's pointer at the slice's first column, so that
  // the slices of one shape (a gru's step's inputs) are one function.
  const ir::Op &op = graph.op(id);
  std::vector<ir::ValueId> ids = storageOf(id);
  std::vector<llvm::Value *> pointers;
  std::vector<size_t> argOf;
  for (ir::ValueId v : ids) {
    llvm::Value *pointer = buffers[v];
    if (op.kind == OpKind::Slice && v == op.operands[0])
      pointer = at(pointer, cst(op.attrs.begin));
    auto found = std::find(pointers.begin(), pointers.end(), pointer);
    argOf.push_back(static_cast<size_t>(found - pointers.begin()));
    if (found == pointers.end())
      pointers.push_back(pointer);
  }
  bool seeded = op.kind == OpKind::Dropout && training && runSeed && step;
  bool distinct = disjoint(ids);
  std::string key;
  if (sameOps) {
    key = opKey(id, ids, argOf, seeded, distinct);
    if (auto found = sameOps->find(key); found != sameOps->end()) {
      b.CreateCall(found->second->getFunctionType(), found->second, withState(pointers, seeded));
      return;
    }
  }
  llvm::Function *fn = outlinedInState(
      pointers, seeded, true,
      [&](const std::vector<llvm::Value *> &a) {
        for (size_t k = 0; k < ids.size(); ++k)
          buffers[ids[k]] = a[argOf[k]];
        emitOp(id);
      },
      distinct);
  if (sameOps)
    sameOps->emplace(std::move(key), fn);
}

std::string Emitter::opKey(ir::ValueId id, const std::vector<ir::ValueId> &storage,
                           const std::vector<size_t> &argOf, bool seeded, bool distinct) const {
  std::string key = std::to_string(training) + std::to_string(seeded) + std::to_string(distinct);
  for (size_t k : argOf)
    key += "," + std::to_string(k);
  auto number = [&](auto x) { key += " " + std::to_string(x); };
  auto real = [&](double x) { number(std::bit_cast<uint64_t>(x)); };
  // A value once in full, again as the number of its first visit. A value
  // this function reads from memory is its type and which storage it is;
  // one it computes (`id`, fused and carried values) also its op and operands.
  std::map<ir::ValueId, size_t> seen;
  std::function<void(ir::ValueId)> visit = [&](ir::ValueId v) {
    if (auto found = seen.find(v); found != seen.end()) {
      key += " #" + std::to_string(found->second);
      return;
    }
    seen.emplace(v, seen.size());
    const ir::Op &op = graph.op(v);
    key += " (";
    number(op.type.batched);
    number(static_cast<int>(op.type.dtype));
    for (int64_t d : op.type.dims)
      number(d);
    key += " |";
    number(std::find(storage.begin(), storage.end(), v) - storage.begin());
    if (v == id || isFused(v) || isCarried(v)) {
      const ir::Attrs &a = op.attrs;
      number(static_cast<int>(op.kind));
      number(isFused(v));
      number(isCarried(v));
      real(a.value), real(a.alpha), real(a.eps), real(a.rate), number(a.seed), real(a.delta);
      // A slice (never fused) reads from the pointer it is passed (emitOpOutlined).
      number(a.size), number(v == id && op.kind == OpKind::Slice ? 0 : a.begin);
      number(static_cast<int>(a.axis));
      number(static_cast<int>(a.loss)), number(a.kernel), number(a.stride), number(a.padding);
      number(static_cast<int>(a.activation));
      key += " :";
      for (int64_t d : a.dims)
        number(d);
      for (ir::ValueId o : op.operands)
        visit(o);
    }
    key += ")";
  };
  visit(id);
  return key;
}

// Values at different roots are in different allocations (the parameters,
// the gradients, the caller's inputs and targets) or in regions of one that
// do not overlap (the workspace's fixed part, its scratch areas and its rows,
// which start past them). At one root, the memory plan's offsets and sizes
// say: an op's output never takes the slot of a value it reads
// (passes/MemoryPlan.cpp places it before freeing what dies there).
bool Emitter::disjoint(const std::vector<ir::ValueId> &ids) const {
  std::vector<StorageSpan> spans;
  for (ir::ValueId v : ids) {
    const Place &p = places[v];
    const ir::TensorType &t = graph.type(v);
    // A batched value placed at its root's start (an input) has a size in rows.
    spans.push_back({p.root, buffers[v], p.offset, p.offset + t.rowElements(), p.perRow,
                     p.perRow || !t.batched});
  }
  return disjointSpans(spans);
}

bool disjointSpans(const std::vector<StorageSpan> &spans) {
  for (size_t i = 0; i < spans.size(); ++i) {
    if (!spans[i].root)
      return false;
    for (size_t j = 0; j < i; ++j) {
      const StorageSpan &x = spans[i], &y = spans[j];
      if (x.buffer == y.buffer || x.root != y.root)
        continue;
      if (!x.known || !y.known || x.perRow != y.perRow || (x.begin < y.end && y.begin < x.end))
        return false;
    }
  }
  return true;
}

void Emitter::emitOpsInChunks(const std::vector<ir::ValueId> &ids) {
  std::vector<std::vector<ir::ValueId>> chunks(1);
  size_t calls = 0;
  for (ir::ValueId id : ids) {
    if (outlines(id) && calls == kChunkOps) {
      chunks.emplace_back();
      calls = 0;
    }
    chunks.back().push_back(id);
    calls += outlines(id) ? 1 : 0;
  }
  if (chunks.size() == 1) {
    for (ir::ValueId id : ids)
      emitOpOutlined(id);
    return;
  }
  for (const std::vector<ir::ValueId> &chunk : chunks)
    callChunk(chunk, rootsOf(chunk));
}

std::vector<llvm::Value *> Emitter::rootsOf(const std::vector<ir::ValueId> &ids) const {
  std::vector<llvm::Value *> roots;
  for (ir::ValueId id : ids)
    for (ir::ValueId v : storageOf(id))
      if (std::find(roots.begin(), roots.end(), places[v].root) == roots.end())
        roots.push_back(places[v].root);
  return roots;
}

void Emitter::emitFromRoots(const std::vector<ir::ValueId> &ids,
                            const std::vector<llvm::Value *> &roots,
                            const std::vector<llvm::Value *> &values) {
  std::vector<llvm::Value *> saved = buffers;
  std::vector<bool> seen(graph.size(), false);
  for (ir::ValueId id : ids)
    for (ir::ValueId v : storageOf(id))
      if (!seen[v]) {
        seen[v] = true;
        const Place &p = places[v];
        llvm::Value *root = values[std::find(roots.begin(), roots.end(), p.root) - roots.begin()];
        buffers[v] = at(root, p.perRow ? b.CreateMul(rows, cst(p.offset)) : cst(p.offset));
      }
  for (ir::ValueId id : ids)
    emitOpOutlined(id);
  buffers = std::move(saved);
}

void Emitter::callChunk(const std::vector<ir::ValueId> &chunk,
                        const std::vector<llvm::Value *> &roots) {
  outlinedInState(roots, runSeed && step, false, [&](const std::vector<llvm::Value *> &a) {
    emitFromRoots(chunk, roots, a);
  })->setName(kCallChunk);
}

void Emitter::emitSegments(const std::vector<passes::Segment> &segments) {
  for (const passes::Segment &s : segments) {
    if (s.lanes[1].empty()) {
      for (ir::ValueId id : s.lanes[0])
        emitOpOutlined(id);
      continue;
    }
    // A kernel over two items, one lane each, whose ops compute their
    // buffers from the roots it is passed: on two threads at the batches
    // where the pair pays (passes/Lanes.h), else one lane after the other.
    std::vector<ir::ValueId> both = s.lanes[0];
    both.insert(both.end(), s.lanes[1].begin(), s.lanes[1].end());
    std::vector<llvm::Value *> roots = rootsOf(both), args = roots;
    const bool seeded = runSeed && step;
    args.insert(args.end(), {scratch, laneScratch, parallel, rows});
    if (seeded)
      args.insert(args.end(), {runSeed, step});
    llvm::Value *work =
        b.CreateAnd(b.CreateICmpSGE(rows, cst(s.minRows)), b.CreateICmpSLE(rows, cst(s.maxRows)));
    kernelOp = "lanes";
    parallelRows(cst(2), work, args,
                 [&](std::vector<llvm::Value *> &a, llvm::Value *begin, llvm::Value *end) {
                   const std::vector<llvm::Value *> values(
                       a.begin(), a.begin() + static_cast<long>(roots.size()));
                   size_t k = roots.size();
                   llvm::Value *scratches[2] = {a[k], a[k + 1]};
                   llvm::Value *savedScratch = scratch, *savedParallel = parallel,
                               *savedRows = rows;
                   llvm::Value *savedSeed = runSeed, *savedStep = step;
                   parallel = a[k + 2];
                   rows = a[k + 3];
                   if (seeded) {
                     runSeed = a[k + 4];
                     step = a[k + 5];
                   }
                   loop(begin, end, [&](llvm::Value *item) {
                     ifElse(
                         b.CreateICmpEQ(item, cst(0)),
                         [&] {
                           scratch = scratches[0];
                           emitFromRoots(s.lanes[0], roots, values);
                         },
                         [&] {
                           scratch = scratches[1];
                           emitFromRoots(s.lanes[1], roots, values);
                         });
                   });
                   scratch = savedScratch;
                   parallel = savedParallel;
                   rows = savedRows;
                   runSeed = savedSeed;
                   step = savedStep;
                 });
  }
}

void Emitter::copyOutlined(llvm::Value *src, llvm::Value *dst, llvm::Value *count) {
  outlined({src, dst, count}, [&](const std::vector<llvm::Value *> &a) {
    loop(a[2], [&](llvm::Value *i) { store(load(a[0], i), a[1], i); });
  })->setName("mtl.copy");
}

llvm::Function *Emitter::outlined(const std::vector<llvm::Value *> &args, const OutlinedBody &body,
                                  bool inlined, size_t distinct) {
  std::vector<llvm::Type *> types;
  for (llvm::Value *a : args)
    types.push_back(a->getType());
  auto *type = llvm::FunctionType::get(b.getVoidTy(), types, false);
  auto *fn = llvm::Function::Create(type, llvm::Function::InternalLinkage,
                                    inlined ? "mtl.op" : "mtl.call", module);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  for (size_t k = 0; k < distinct; ++k)
    fn->getArg(static_cast<unsigned>(k))->addAttr(llvm::Attribute::NoAlias);
  fn->addFnAttr(inlined ? llvm::Attribute::AlwaysInline : llvm::Attribute::NoInline);
  b.CreateCall(type, fn, args);
  llvm::IRBuilderBase::InsertPoint saved = b.saveIP();
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", fn));
  std::vector<llvm::Value *> params;
  for (llvm::Argument &a : fn->args())
    params.push_back(&a);
  body(params);
  b.CreateRetVoid();
  b.restoreIP(saved);
  return fn;
}

} // namespace mtl::codegen
