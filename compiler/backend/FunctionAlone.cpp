// FunctionAlone.cpp: what a function references, and the function alone in a module.
#include "backend/FunctionAlone.h"

#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Instructions.h>
#include <llvm/Transforms/Utils/Cloning.h>

namespace mtl::backend {

References collectReferences(const llvm::Function &root) {
  // Only constants (functions and global variables among them) can lead to
  // either; instructions, arguments and blocks are passed over at once. A
  // constant's operands are visited before the next operand of its user
  // (depth first, in operand order).
  References out;
  llvm::SmallVector<const llvm::Constant *, 64> work;
  llvm::SmallPtrSet<const llvm::Constant *, 32> seen;
  auto visit = [&](const llvm::Constant *first) {
    work.push_back(first);
    while (!work.empty()) {
      const llvm::Constant *v = work.pop_back_val();
      if (!seen.insert(v).second)
        continue;
      if (auto *f = llvm::dyn_cast<llvm::Function>(v)) {
        out.functions.push_back(f);
      } else if (auto *g = llvm::dyn_cast<llvm::GlobalVariable>(v)) {
        out.globals.push_back(g);
        if (g->hasInitializer())
          work.push_back(g->getInitializer());
      } else {
        for (unsigned k = v->getNumOperands(); k-- > 0;)
          if (auto *c = llvm::dyn_cast<llvm::Constant>(v->getOperand(k)))
            work.push_back(c);
      }
    }
  };
  for (const llvm::BasicBlock &bb : root)
    for (const llvm::Instruction &inst : bb)
      for (const llvm::Value *op : inst.operands())
        if (auto *c = llvm::dyn_cast<llvm::Constant>(op))
          visit(c);
  return out;
}

std::unique_ptr<llvm::Module> functionAlone(const llvm::Module &module, const llvm::Function &f,
                                            const References &references,
                                            llvm::ValueToValueMapTy &map) {
  auto out = std::make_unique<llvm::Module>(module.getModuleIdentifier(), module.getContext());
  out->setTargetTriple(module.getTargetTriple());
  out->setDataLayout(module.getDataLayout());
  const std::vector<const llvm::GlobalVariable *> &variables = references.globals;
  for (const llvm::GlobalVariable *v : variables) {
    const llvm::GlobalVariable &g = *v;
    auto *copy = new llvm::GlobalVariable(*out, g.getValueType(), g.isConstant(), g.getLinkage(),
                                          nullptr, g.getName(), nullptr, g.getThreadLocalMode(),
                                          g.getType()->getAddressSpace());
    copy->copyAttributesFrom(&g);
    map[&g] = copy;
  }
  for (const llvm::Function *callee : references.functions) {
    const llvm::Function &c = *callee;
    if (&c == &f)
      continue;
    auto *decl = llvm::Function::Create(c.getFunctionType(), llvm::GlobalValue::ExternalLinkage,
                                        c.getName(), out.get());
    decl->copyAttributesFrom(&c);
    decl->setLinkage(llvm::GlobalValue::ExternalLinkage);
    map[&c] = decl;
  }
  auto *copy = llvm::Function::Create(f.getFunctionType(), f.getLinkage(), f.getName(), out.get());
  copy->copyAttributesFrom(&f);
  map[&f] = copy;
  for (const llvm::GlobalVariable *g : variables)
    if (g->hasInitializer())
      llvm::cast<llvm::GlobalVariable>(map[g])->setInitializer(
          llvm::MapValue(g->getInitializer(), map));
  auto arg = copy->arg_begin();
  for (const llvm::Argument &a : f.args()) {
    arg->setName(a.getName());
    map[&a] = &*arg++;
  }
  llvm::SmallVector<llvm::ReturnInst *, 4> returns;
  llvm::CloneFunctionInto(copy, &f, map, llvm::CloneFunctionChangeType::DifferentModule, returns);
  // Named metadata (module flags), as CloneModule copies it. Cloning into
  // another module adds an "llvm.dbg.cu" list even when there is no debug
  // info; left empty, it makes the bitcode reader warn that it strips
  // invalid debug info, so it goes.
  for (const llvm::NamedMDNode &node : module.named_metadata()) {
    llvm::NamedMDNode *to = out->getOrInsertNamedMetadata(node.getName());
    for (const llvm::MDNode *operand : node.operands())
      to->addOperand(llvm::MapMetadata(operand, map));
  }
  if (llvm::NamedMDNode *units = out->getNamedMetadata("llvm.dbg.cu");
      units && units->getNumOperands() == 0)
    out->eraseNamedMetadata(units);
  return out;
}

} // namespace mtl::backend
