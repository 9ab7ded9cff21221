// FunctionAlone.h: one function of a module in a module of its own, for the function cache.
#pragma once

#include <llvm/IR/Module.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include <memory>
#include <vector>

namespace mtl::backend {

/// The functions and global variables that `root` refers to, through
/// instructions and the constants they use (global initialisers included),
/// each once, in the order `root` first refers to them: an order that
/// depends on `root` alone, not on where they are in its module.
struct References {
  std::vector<const llvm::Function *> functions;
  std::vector<const llvm::GlobalVariable *> globals;
};
References collectReferences(const llvm::Function &root);

/// A module that holds `f` and, as declarations and constants, only what it
/// references (from collectReferences), in that order: the same text for
/// the same function whatever else its module holds, and in whatever order
/// the module declared them (the intrinsics a model's other functions use
/// first, for one). (CloneModule would declare every function of the module
/// in each copy, which makes splitting a module of n functions cost n^2; so
/// would looking through the module for what `f` references.) `map` takes
/// `f`'s values to the copy's.
std::unique_ptr<llvm::Module> functionAlone(const llvm::Module &module, const llvm::Function &f,
                                            const References &references,
                                            llvm::ValueToValueMapTy &map);

} // namespace mtl::backend
