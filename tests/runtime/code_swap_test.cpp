// code_swap_test.cpp: a second build of a model handed to a running Trainer (mtlrt::CodeSwap).
#include "TrainerTestModel.h"
#include "mtlrt/CodeSwap.h"
#include "mtlrt/Trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

using namespace mtlrt;
using testmodel::kModel;
using testmodel::makeData;

namespace {

// The second build: the test model's own functions behind wrappers that
// count their calls. The first build's grad_step offers it after
// `offerAfter` calls, as a background compile would while steps run.
struct Builds {
  int firstGradSteps = 0, secondGradSteps = 0, secondEvals = 0;
  int offerAfter = 0;
  CodeSwap *swap = nullptr;
};
Builds builds;
mtl_model first = kModel, second = kModel;

void firstGradStep(const mtl_batch *b, const mtl_hyper *h, const float *p, float *w, float *g,
                   mtl_result *r, const mtl_parallel *par) {
  if (++builds.firstGradSteps == builds.offerAfter)
    EXPECT_TRUE(builds.swap->offer(&second).ok());
  testmodel::gradStep(b, h, p, w, g, r, par);
}
void secondGradStep(const mtl_batch *b, const mtl_hyper *h, const float *p, float *w, float *g,
                    mtl_result *r, const mtl_parallel *par) {
  ++builds.secondGradSteps;
  testmodel::gradStep(b, h, p, w, g, r, par);
}
void secondEvalStep(const mtl_batch *b, const mtl_hyper *h, const float *p, float *w, mtl_result *r,
                    const mtl_parallel *par) {
  ++builds.secondEvals;
  testmodel::evalStep(b, h, p, w, r, par);
}

TrainOptions options() {
  TrainOptions o;
  o.epochs = 3;
  o.batch = 16;
  o.seed = 5;
  o.lr = 0.05f;
  o.quiet = true;
  o.keepStepLosses = true;
  o.validate = 0.2;
  return o;
}

TrainResult fit(Trainer &trainer) {
  Result<TrainResult> r = trainer.fit(makeData(160, 2));
  EXPECT_TRUE(r.ok()) << r.error();
  return std::move(r.value());
}

Trainer make(const mtl_model &model, TrainOptions o) {
  Result<Trainer> t = Trainer::create(&model, std::move(o));
  EXPECT_TRUE(t.ok()) << t.error();
  return std::move(t.value());
}

class CodeSwapTest : public ::testing::Test {
protected:
  void SetUp() override {
    builds = {};
    first = kModel;
    first.grad_step = firstGradStep;
    second = kModel;
    second.grad_step = secondGradStep;
    second.eval_step = secondEvalStep;
  }
};

} // namespace

TEST_F(CodeSwapTest, TheTrainerRunsTheSecondBuildFromTheStepAfterItIsOffered) {
  Trainer reference = make(kModel, options());
  const TrainResult plain = fit(reference);
  auto swap = std::make_shared<CodeSwap>(first);
  builds.swap = swap.get();
  builds.offerAfter = 7; // during step 7: step 8 is the first to run it
  TrainOptions o = options();
  o.codeSwap = swap;
  Trainer trainer = make(first, o);
  const TrainResult swapped = fit(trainer);
  const int64_t steps = int64_t(swapped.stepLosses.size());
  ASSERT_EQ(steps, 3 * 8); // 128 training rows (32 held out) in batches of 16
  EXPECT_EQ(swap->takenAfter(), 7);
  EXPECT_EQ(builds.firstGradSteps, 7);
  EXPECT_EQ(builds.secondGradSteps, steps - 7);
  EXPECT_GT(builds.secondEvals, 0); // validation after each epoch runs it too
  EXPECT_EQ(&trainer.model(), &second);
  // Builds that compute the same bits train to the same bits.
  EXPECT_EQ(swapped.stepLosses, plain.stepLosses);
  EXPECT_TRUE(std::equal(trainer.params().begin(), trainer.params().end(),
                         reference.params().begin(), reference.params().end()));
}

TEST_F(CodeSwapTest, AnOfferIsTakenOnce) {
  CodeSwap swap(first);
  EXPECT_EQ(swap.take(0), nullptr);
  EXPECT_EQ(swap.takenAfter(), -1);
  ASSERT_TRUE(swap.offer(&second).ok());
  EXPECT_EQ(swap.take(3), &second);
  EXPECT_EQ(swap.takenAfter(), 3);
  EXPECT_EQ(swap.take(4), nullptr);
  EXPECT_EQ(swap.takenAfter(), 3);
}

TEST_F(CodeSwapTest, ABuildLaidOutOtherwiseIsRefused) {
  EXPECT_TRUE(sameLayout(first, second));
  // Each difference on its own: the arenas, a tensor, a task, the entry
  // points present, the run configuration.
  mtl_model bigger = second;
  bigger.workspace_per_row += 1;
  mtl_tensor_desc params[2 * testmodel::kTasks];
  std::memcpy(params, testmodel::kParamDescs, sizeof params);
  params[3].offset += 1;
  mtl_model moved = second;
  moved.params = params;
  mtl_task_desc tasks[testmodel::kTasks];
  std::memcpy(tasks, testmodel::kTaskDescs, sizeof tasks);
  tasks[1].name = "neg";
  mtl_model renamed = second;
  renamed.tasks = tasks;
  mtl_model split = second;
  split.task_grad_step = secondGradStep;
  mtl_model configured = second;
  configured.config = "{}";
  for (const mtl_model *other : {&bigger, &moved, &renamed, &split, &configured}) {
    EXPECT_FALSE(sameLayout(first, *other));
    CodeSwap swap(first);
    Status s = swap.offer(other);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().find("does not lay out"), std::string::npos) << s.error();
    EXPECT_EQ(swap.take(1), nullptr);
    EXPECT_EQ(swap.takenAfter(), -1);
  }
  // The same text at another address is the same layout.
  std::string name = kModel.name;
  mtl_model copied = second;
  copied.name = name.c_str();
  EXPECT_TRUE(sameLayout(first, copied));
}
