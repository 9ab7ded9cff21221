// narrow_products_test.cpp: the input gradients of heads of at most 8
// outputs (products over at most 8 steps) are computed inside the loop that
// sums the trunk's gradient (passes/Fusion.h). The model of
// tests/codegen/models/narrow_heads.mtl (its JIT against the interpreter is
// in jit_vs_interpreter_test.cpp, JitNarrowProducts) must fuse exactly
// those, and at a batch where that loop splits its rows over the threads,
// two threads must give the bits of one. With task gradients (a balancing
// method that combines them, or `mtlc build`), each head's product is also
// read by its task's gradient, in task_grad_step: there none fuses, and the
// train step, which reads each once, still fuses them (each step decides).
#include "JitBatch.h"
#include "StepRun.h"
#include "mtlrt/Init.h"
#include "mtlrt/ThreadPool.h"
#include "passes/DeadCode.h"
#include "passes/Fusion.h"
#include "passes/MemoryPlan.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace mtl {
namespace narrow_products {

constexpr const char *kModel = "tests/codegen/models/narrow_heads.mtl";

/// The weights of the products that a step with these roots fuses, or keeps.
void productsOfStep(const ir::Graph &g, const std::vector<ir::ValueId> &roots,
                    std::set<std::string> &fused, std::set<std::string> &kept) {
  std::vector<bool> needed = passes::neededFor(g, roots);
  std::vector<bool> marks = passes::fuseElementwise(g, roots, needed);
  for (size_t v = 0; v < g.size(); ++v) {
    const ir::Op &op = g.op(static_cast<ir::ValueId>(v));
    if (op.kind == ir::OpKind::MatMul && needed[v])
      (marks[v] ? fused : kept).insert(g.op(op.operands[1]).name);
  }
}

TEST(NarrowProducts, HeadsOfAtMostEightOutputsFuseTheirInputGradients) {
  const std::set<std::string> narrow = {"one.0.weight", "flag.0.weight", "three.0.weight",
                                        "eight.0.weight"};
  std::set<std::string> all = narrow;
  all.insert("nine.0.weight");
  for (bool taskGradients : {false, true}) {
    SCOPED_TRACE(taskGradients ? "with task gradients" : "without task gradients");
    test::Compiled own;
    test::compile(kModel, own, nullptr, "native", taskGradients);
    ASSERT_TRUE(own.ok) << own.c.diags.render(false);
    const ir::Graph &g = own.c.step.graph;
    const ir::StepSignature &sig = own.c.step.signature;
    ASSERT_EQ(sig.taskGradients.empty(), !taskGradients);
    // The train step keeps the losses, the outputs and the parameters' gradients.
    std::vector<ir::ValueId> train = sig.taskLosses;
    train.push_back(sig.loss);
    train.insert(train.end(), sig.outputs.begin(), sig.outputs.end());
    for (const auto &[param, gradient] : sig.gradients)
      train.push_back(gradient);
    std::set<std::string> fused, kept;
    productsOfStep(g, train, fused, kept);
    EXPECT_EQ(fused, narrow);
    EXPECT_EQ(kept, std::set<std::string>{"nine.0.weight"});
    if (!taskGradients)
      continue;
    // Every result at once, as task_grad_step keeps each task's gradient too.
    fused.clear();
    kept.clear();
    productsOfStep(g, passes::resultValues(sig), fused, kept);
    EXPECT_EQ(fused, std::set<std::string>{});
    EXPECT_EQ(kept, all);
  }
}

TEST(NarrowProducts, TwoThreadsGiveTheBitsOfOne) {
  // 2,100 rows of the 64-wide trunk: 134,400 elements, past the 65,536
  // (Emitter::kParallelWork) at which the fused loop splits its rows.
  constexpr int64_t kRows = 2100;
  test::Compiled own;
  test::compile(kModel, own, nullptr, "native", false);
  ASSERT_TRUE(own.ok) << own.c.diags.render(false);
  const mtl_model &m = *own.c.compiled;
  std::mt19937 rng(5);
  test::Batch batch = test::makeBatch(m, own.c.step, kRows, rng);
  std::vector<float> params(size_t(m.params_size));
  ASSERT_TRUE(mtlrt::initParams(m, params.data(), 9).ok());
  mtl_batch mb{kRows, batch.inputPtrs.data(), batch.targetPtrs.data()};
  mtlrt::ThreadPool pool(2);
  mtl_parallel parallel = pool.abi();
  test::StepRun one = test::runStep(m, mb, params.data(), nullptr);
  test::StepRun two = test::runStep(m, mb, params.data(), &parallel);
  EXPECT_EQ(two.loss, one.loss);
  EXPECT_EQ(two.grads, one.grads);
  EXPECT_EQ(two.outputs, one.outputs);
}

} // namespace narrow_products
} // namespace mtl
