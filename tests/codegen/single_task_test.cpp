// single_task_test.cpp: an experiment's single-task baseline (sema::singleTaskModel) against the
// same task written alone: the same parameters in the same order, and training that matches step
// for step. The model has per-task gates, a soft-shared tower, a regularizer on one task and
// a weight other than 1, all of which the cut must drop or reset.
#include "CompiledText.h"
#include "RandomRows.h"
#include "driver/Pipeline.h"
#include "mtlrt/Trainer.h"
#include "sema/SingleTask.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>

namespace mtl {
namespace single_task {

constexpr const char *kBoth = R"(
model gates {
  input x : f32[4]
  shared e1 = x -> dense(6) -> relu
  shared e2 = x -> dense(6) -> tanh
  shared a_gate = x -> dense(2) -> softmax
  shared b_gate = x -> dense(2) -> softmax
  shared soft(0.01) tower = e1 -> dense(5) -> relu
  task a : regress {
    head = mix(a_gate, e1, e2) -> dense(1)
    weight = 0.25
  }
  task b : binary {
    head = concat(mix(b_gate, e1, e2), tower) -> dense(1)
    weight = 3
  }
  balance dwa
  regularize l2(0.001) on a, l1(0.0001)
  optimizer adam(lr = 0.01)
}
)";

// Task b as a person would write it alone.
constexpr const char *kOnlyB = R"(
model gates {
  input x : f32[4]
  shared e1 = x -> dense(6) -> relu
  shared e2 = x -> dense(6) -> tanh
  shared b_gate = x -> dense(2) -> softmax
  shared soft(0.01) tower = e1 -> dense(5) -> relu
  task b : binary {
    head = concat(mix(b_gate, e1, e2), tower) -> dense(1)
  }
  regularize l1(0.0001)
  optimizer adam(lr = 0.01)
}
)";

TEST(SingleTask, IsTheTaskWrittenAloneStepForStep) {
  const std::string path = ::testing::TempDir() + "single_task_both.mtl";
  std::ofstream(path) << kBoth;
  driver::Compilation derived;
  driver::PipelineOptions options;
  options.adjust = [](sema::Model &m) { m = sema::singleTaskModel(m, 1); };
  ASSERT_TRUE(driver::runPipeline(path, driver::Stage::Jit, derived, options))
      << derived.diags.render(false);
  test::CompiledText alone(kOnlyB, "single_task_alone");
  ASSERT_NE(alone.c.compiled, nullptr);

  const mtl_model &a = *derived.compiled, &b = *alone.c.compiled;
  ASSERT_EQ(a.num_params, b.num_params);
  for (int32_t p = 0; p < a.num_params; ++p) {
    EXPECT_STREQ(a.params[p].name, b.params[p].name);
    EXPECT_EQ(a.params[p].offset, b.params[p].offset);
  }
  ASSERT_EQ(a.num_tasks, 1);
  EXPECT_STREQ(a.tasks[0].name, "b");
  EXPECT_EQ(a.tasks[0].weight, 1.0);
  EXPECT_EQ(derived.model->balance.text, "static");
  EXPECT_EQ(derived.model->regularizers.size(), 1u); // l2 on a went with a

  mtlrt::TrainOptions o;
  o.seed = 5;
  o.threads = 1;
  o.batch = 8;
  o.epochs = 3;
  o.lr = 0.01f;
  o.quiet = true;
  o.keepStepLosses = true;
  auto ta = mtlrt::Trainer::create(&a, o), tb = mtlrt::Trainer::create(&b, o);
  ASSERT_TRUE(ta.ok()) << ta.error();
  ASSERT_TRUE(tb.ok()) << tb.error();
  auto ra = ta->fit(test::randomRows(64)), rb = tb->fit(test::randomRows(64));
  ASSERT_TRUE(ra.ok()) << ra.error();
  ASSERT_TRUE(rb.ok()) << rb.error();
  ASSERT_EQ(ra->stepLosses.size(), 24u);
  EXPECT_EQ(ra->stepLosses, rb->stepLosses);
  const std::span<const float> pa = std::as_const(*ta).params(), pb = std::as_const(*tb).params();
  EXPECT_TRUE(std::equal(pa.begin(), pa.end(), pb.begin(), pb.end()));
}

TEST(SingleTask, KeepsTheOtherTasksValuesOutOfTheModel) {
  const std::string path = ::testing::TempDir() + "single_task_a.mtl";
  std::ofstream(path) << kBoth;
  driver::Compilation c;
  ASSERT_TRUE(driver::runPipeline(path, driver::Stage::Check, c)) << c.diags.render(false);
  sema::Model both = c.models[0];
  both.train.freeze = {"a*", "b_gate", "e1.0.*", "tower.b.*"};
  both.train.lrScales = {{"b", 0.1}, {"e2", 0.5}};
  both.train.initMap = {"a.* <- x.*", "tower.b.* <- y.*", "e1.* <- enc.*"};
  const sema::Model m = sema::singleTaskModel(both, 0);
  // Entries about what went with b (its gate, its tower copy, its head) go too.
  EXPECT_EQ(m.train.freeze, (std::vector<std::string>{"a*", "e1.0.*"}));
  ASSERT_EQ(m.train.lrScales.size(), 1u);
  EXPECT_EQ(m.train.lrScales[0].first, "e2");
  EXPECT_EQ(m.train.initMap, (std::vector<std::string>{"a.* <- x.*", "e1.* <- enc.*"}));
  // A freeze of b's alone leaves nothing frozen, and so nothing to thaw.
  both.train.freeze = {"b_gate"};
  both.train.unfreezeAfter = 2;
  const sema::Model unfrozen = sema::singleTaskModel(both, 0);
  EXPECT_TRUE(unfrozen.train.freeze.empty());
  EXPECT_EQ(unfrozen.train.unfreezeAfter, 0);
  std::vector<std::string> modules;
  for (const sema::Module &mod : m.modules)
    modules.push_back(mod.name);
  // Task a reads its gate, e1 and e2 (modules come in the order the heads
  // first use them); b's gate and the tower are b's alone.
  EXPECT_EQ(modules, (std::vector<std::string>{"a_gate", "e1", "e2", "a"}));
  EXPECT_TRUE(m.softGroups.empty());
  ASSERT_EQ(m.regularizers.size(), 2u);
  EXPECT_EQ(m.regularizers[0].modules, (std::vector<int>{3})); // l2 on a: a's head, renumbered
  EXPECT_TRUE(m.regularizers[1].modules.empty());              // l1 on everything
  for (const sema::Value &v : m.values) {
    EXPECT_LT(v.module, int(m.modules.size()));
    EXPECT_LT(v.arg, int(m.values.size()));
    for (int arg : v.args)
      EXPECT_LT(arg, int(m.values.size()));
  }
}

} // namespace single_task
} // namespace mtl
