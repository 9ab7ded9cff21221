// FunctionAlone.h: one function of a module in a module of its own, for the function cache.
#pragma once

#include <llvm/IR/Module.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include <memory>
#include <set>
#include <unordered_map>

namespace mtl::backend {

/// The functions and global variables that `root` refers to, through
/// instructions and the constants they use (global initialisers included).
void collectReferences(const llvm::Function &root, std::set<const llvm::Function *> &functions,
                       std::set<const llvm::GlobalVariable *> &globals);

/// Each global variable's and function's place in its module.
using Places = std::unordered_map<const llvm::GlobalValue *, size_t>;
Places placesOf(const llvm::Module &module);

/// A module that holds `f` and, as declarations and constants, only what it
/// references (`functions`, `globals`, from collectReferences), in the order
/// of `module` (`places`, from placesOf): the same text for the same
/// function whatever else the module holds. (CloneModule would declare every
/// function of the module in each copy, which makes splitting a module of n
/// functions cost n^2; so would looking through the module for what `f`
/// references.) `map` takes `f`'s values to the copy's.
std::unique_ptr<llvm::Module> functionAlone(const llvm::Module &module, const llvm::Function &f,
                                            const std::set<const llvm::Function *> &functions,
                                            const std::set<const llvm::GlobalVariable *> &globals,
                                            const Places &places, llvm::ValueToValueMapTy &map);

} // namespace mtl::backend
