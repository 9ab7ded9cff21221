// LinkedModule.h: a module a test builds by hand (with an Emitter), optimised
// and linked through a FunctionCache for a CPU, for tests of emitted code.
#pragma once

#include "backend/FunctionCache.h"
#include "codegen/Emitter.h"

#include <gtest/gtest.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <memory>
#include <string>

namespace mtl::test {

/// An empty module and an Emitter over it (of no graph), for a test to
/// build functions in by hand.
struct HandBuiltModule {
  llvm::LLVMContext context;
  llvm::Module module;
  ir::Graph graph;
  passes::MemoryPlan plan;
  codegen::Emitter e;
  explicit HandBuiltModule(const std::string &name)
      : module(name, context), e(module, graph, plan) {}
};

/// The cache that holds the code, and the address of `entry` (null after a
/// failure, which is reported).
struct LinkedModule {
  std::unique_ptr<backend::FunctionCache> cache;
  void *entry = nullptr;
};

inline LinkedModule linkModule(llvm::Module &module, const std::string &cpu,
                               const std::string &entry) {
  LinkedModule out;
  auto cache = backend::FunctionCache::create({cpu, 2});
  EXPECT_TRUE(bool(cache)) << llvm::toString(cache.takeError());
  if (!cache)
    return out;
  out.cache = std::move(*cache);
  if (llvm::Error err = out.cache->optimize(module, entry)) {
    ADD_FAILURE() << llvm::toString(std::move(err));
    return out;
  }
  auto address = out.cache->link(module, entry, "");
  if (!address) {
    ADD_FAILURE() << llvm::toString(address.takeError());
    return out;
  }
  out.entry = *address;
  return out;
}

} // namespace mtl::test
