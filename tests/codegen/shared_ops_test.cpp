// shared_ops_test.cpp: codegen gives two outlined ops one function when
// their keys are equal (Emitter::opKey), and emits the second as a call to
// the first's function. The key must say everything the function depends
// on: for every model of the examples, tests/codegen/models and bench/, the
// module made with shared functions and the one made with a function per op
// are, once identical functions are merged, the same step functions.
#include "ModelFiles.h"
#include "backend/SameFunction.h"
#include "backend/Target.h"
#include "codegen/CodeGen.h"
#include "driver/Pipeline.h"

#include <gtest/gtest.h>
#include <llvm/IR/Module.h>
#include <llvm/Linker/Linker.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace mtl {
namespace shared_ops {

/// Every function of `module` defined by its calls' order: callees first.
void calleesFirst(llvm::Function &f, std::set<llvm::Function *> &done,
                  std::vector<llvm::Function *> &order) {
  if (!done.insert(&f).second)
    return;
  for (llvm::BasicBlock &block : f)
    for (llvm::Instruction &inst : block)
      if (auto *call = llvm::dyn_cast<llvm::CallBase>(&inst))
        if (llvm::Function *callee = call->getCalledFunction(); callee && !callee->isDeclaration())
          calleesFirst(*callee, done, order);
  order.push_back(&f);
}

/// Replaces each function of `module` that is the same as an earlier one
/// (callees first, so that equal callers call the same functions) by that one.
void mergeSameFunctions(llvm::Module &module) {
  std::set<llvm::Function *> done;
  std::vector<llvm::Function *> order;
  for (llvm::Function &f : module)
    if (!f.isDeclaration())
      calleesFirst(f, done, order);
  llvm::GlobalNumberState numbers;
  std::multimap<uint64_t, llvm::Function *> kept;
  for (llvm::Function *f : order) {
    const uint64_t hash = backend::functionHash(*f);
    llvm::Function *same = nullptr;
    for (auto [it, end] = kept.equal_range(hash); it != end && !same; ++it)
      if (backend::sameFunction(*f, *it->second, numbers))
        same = it->second;
    if (same)
      f->replaceAllUsesWith(same);
    else
      kept.emplace(hash, f);
  }
}

/// How many functions `module` defines.
long definedFunctions(const llvm::Module &module) {
  return std::count_if(module.begin(), module.end(),
                       [](const llvm::Function &f) { return !f.isDeclaration(); });
}

/// Codegen's module for the compiled step `c`, with shared op functions or not.
std::unique_ptr<llvm::Module> generate(const driver::Compilation &c, bool shareOps) {
  codegen::CodegenInput input{c.step.model,
                              c.step.graph,
                              c.step.signature,
                              "",
                              "",
                              "mtl_model_get",
                              "",
                              backend::vectorUnit(*c.targetMachine)};
  input.shareOps = shareOps;
  return codegen::generateModule(input, *c.llvmContext);
}

std::vector<std::string> allModels() {
  std::vector<std::string> models = test::modelFiles();
  for (const char *bench : {"m1", "m2", "m3", "m4", "m5", "m6", "m7"})
    models.push_back(std::string("bench/models/") + bench + ".mtl");
  return models;
}

class SharedOps : public ::testing::TestWithParam<std::string> {};

TEST_P(SharedOps, AreTheFunctionsOfAnOpEach) {
  driver::PipelineOptions o;
  o.modelName = test::modelOf(GetParam());
  driver::Compilation c;
  ASSERT_TRUE(driver::runPipeline(test::modelPath(GetParam()), driver::Stage::Llvm, c, o))
      << c.diags.render(false);
  std::unique_ptr<llvm::Module> shared = generate(c, true), each = generate(c, false);
  EXPECT_LE(definedFunctions(*shared), definedFunctions(*each));
  // The step functions and the update: mtl.grad_step, mtl.update, ...
  const std::regex entry(R"(mtl\.[a-z_]+)");
  std::vector<std::string> entries;
  for (llvm::Function &f : *each)
    if (!f.isDeclaration() && std::regex_match(f.getName().str(), entry))
      entries.push_back(f.getName().str());
  // One module of both: the second's globals renamed and external, so that
  // the linker keeps them apart and links them all.
  for (llvm::GlobalValue &g : each->global_values()) {
    if (g.isDeclaration())
      continue;
    g.setName("each." + g.getName().str());
    g.setLinkage(llvm::GlobalValue::ExternalLinkage);
  }
  ASSERT_FALSE(llvm::Linker::linkModules(*shared, std::move(each)));
  // The constants both made: the first's.
  std::map<std::pair<llvm::Type *, llvm::Constant *>, llvm::GlobalVariable *> constants;
  for (llvm::GlobalVariable &g : shared->globals())
    if (g.hasInitializer() && g.isConstant() && !g.getName().startswith("each."))
      constants.emplace(std::make_pair(g.getValueType(), g.getInitializer()), &g);
  for (llvm::GlobalVariable &g : shared->globals())
    if (g.hasInitializer() && g.isConstant() && g.getName().startswith("each."))
      if (auto it = constants.find({g.getValueType(), g.getInitializer()}); it != constants.end())
        g.replaceAllUsesWith(it->second);
  mergeSameFunctions(*shared);
  ASSERT_FALSE(entries.empty());
  llvm::GlobalNumberState numbers;
  for (const std::string &name : entries) {
    llvm::Function *a = shared->getFunction(name), *b = shared->getFunction("each." + name);
    ASSERT_TRUE(a && b) << name;
    EXPECT_TRUE(backend::sameFunction(*a, *b, numbers)) << name << " differs";
  }
}

// A gru's 24 steps repeat their ops: one function each, not one per step.
TEST(SharedOpsGru, MakesATenthOfTheFunctions) {
  driver::PipelineOptions o;
  o.modelName = "gru";
  driver::Compilation c;
  ASSERT_TRUE(
      driver::runPipeline(MTL_SOURCE_DIR "/examples/sequence_gru.mtl", driver::Stage::Llvm, c, o))
      << c.diags.render(false);
  const long shared = definedFunctions(*generate(c, true));
  const long each = definedFunctions(*generate(c, false));
  EXPECT_GT(each, 2000);
  EXPECT_LT(shared * 10, each) << shared << " functions shared, " << each << " one per op";
}

INSTANTIATE_TEST_SUITE_P(Models, SharedOps, ::testing::ValuesIn(allModels()),
                         [](const ::testing::TestParamInfo<std::string> &info) {
                           return test::modelName(info.param);
                         });

} // namespace shared_ops
} // namespace mtl
