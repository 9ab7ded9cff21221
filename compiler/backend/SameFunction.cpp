// SameFunction.cpp: FunctionComparator, and the metadata it does not compare.
#include "backend/SameFunction.h"

#include <llvm/ADT/Hashing.h>
#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Metadata.h>

#include <utility>

namespace mtl::backend {
namespace {

bool sameLoop(const llvm::MDNode &a, const llvm::MDNode &b) {
  if (!a.isDistinct() || !b.isDistinct() || a.getNumOperands() != b.getNumOperands() ||
      a.getNumOperands() == 0 || a.getOperand(0) != &a || b.getOperand(0) != &b)
    return false;
  for (unsigned i = 1; i < a.getNumOperands(); ++i)
    if (a.getOperand(i) != b.getOperand(i))
      return false;
  return true;
}

bool sameAttachments(const llvm::Instruction &a, const llvm::Instruction &b) {
  llvm::SmallVector<std::pair<unsigned, llvm::MDNode *>, 2> mine, theirs;
  a.getAllMetadataOtherThanDebugLoc(mine);
  b.getAllMetadataOtherThanDebugLoc(theirs);
  if (mine.size() != theirs.size())
    return false;
  for (size_t i = 0; i < mine.size(); ++i) {
    auto [kind, node] = mine[i];
    if (kind != theirs[i].first)
      return false;
    if (node == theirs[i].second)
      continue;
    if (kind != llvm::LLVMContext::MD_loop || !sameLoop(*node, *theirs[i].second))
      return false;
  }
  return true;
}

// The blocks in the order FunctionComparator pairs them (from the entry
// blocks, successor i with successor i), each pair's instructions compared.
bool sameMetadata(const llvm::Function &a, const llvm::Function &b) {
  llvm::SmallVector<std::pair<const llvm::BasicBlock *, const llvm::BasicBlock *>, 16> work;
  llvm::SmallPtrSet<const llvm::BasicBlock *, 32> seen;
  work.emplace_back(&a.getEntryBlock(), &b.getEntryBlock());
  seen.insert(&a.getEntryBlock());
  while (!work.empty()) {
    auto [x, y] = work.pop_back_val();
    if (x->size() != y->size())
      return false;
    for (auto i = x->begin(), j = y->begin(); i != x->end(); ++i, ++j)
      if (!sameAttachments(*i, *j))
        return false;
    const llvm::Instruction *tx = x->getTerminator(), *ty = y->getTerminator();
    if (!tx || !ty || tx->getNumSuccessors() != ty->getNumSuccessors())
      return false;
    for (unsigned s = 0; s < tx->getNumSuccessors(); ++s)
      if (seen.insert(tx->getSuccessor(s)).second)
        work.emplace_back(tx->getSuccessor(s), ty->getSuccessor(s));
  }
  return true;
}

} // namespace

uint64_t functionHash(llvm::Function &f) {
  // A sum, so that the order of the blocks does not matter (FunctionComparator
  // pairs them by the control flow, not by their place in the function).
  uint64_t constants = 0;
  for (const llvm::BasicBlock &bb : f)
    for (const llvm::Instruction &inst : bb)
      for (const llvm::Value *op : inst.operands()) {
        if (const auto *i = llvm::dyn_cast<llvm::ConstantInt>(op))
          constants += llvm::hash_value(i->getValue());
        else if (const auto *x = llvm::dyn_cast<llvm::ConstantFP>(op))
          constants += llvm::hash_value(x->getValueAPF());
      }
  return llvm::hash_combine(llvm::FunctionComparator::functionHash(f), constants);
}

bool sameFunction(const llvm::Function &a, const llvm::Function &b,
                  llvm::GlobalNumberState &numbers) {
  if (a.hasMetadata() || b.hasMetadata())
    return false;
  return llvm::FunctionComparator(&a, &b, &numbers).compare() == 0 && sameMetadata(a, b);
}

} // namespace mtl::backend
