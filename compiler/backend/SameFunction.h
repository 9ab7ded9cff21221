// SameFunction.h: whether two functions of one module compile to the same code.
#pragma once

#include <llvm/IR/Function.h>
#include <llvm/Transforms/Utils/FunctionComparator.h>

namespace mtl::backend {

/// Whether `a` and `b` are the same function: FunctionComparator finds them
/// equal and their instructions carry the same metadata. FunctionComparator
/// compares only a few metadata kinds; codegen attaches loop metadata
/// (`llvm.loop`: a distinct node that names itself, then the loop's hints) to
/// every product kernel and many op loops, and those hints decide the machine
/// code. Two loop nodes are the same when their hints are the same nodes;
/// every other attachment must be the very same node. Any other difference,
/// or metadata on a function itself, answers false: the caller then keys the
/// function by its bitcode, which is slower but exact.
/// A hash that functions sameFunction() finds equal share: FunctionComparator's
/// (the instructions' opcodes and the shape of the control flow) with the
/// integer and floating-point constants the instructions use, so that the
/// same op on other shapes (other loop bounds) rarely shares it.
uint64_t functionHash(llvm::Function &f);

bool sameFunction(const llvm::Function &a, const llvm::Function &b,
                  llvm::GlobalNumberState &numbers);

} // namespace mtl::backend
