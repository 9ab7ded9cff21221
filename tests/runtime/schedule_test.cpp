// schedule_test.cpp: learning-rate schedules and gradient clipping against values worked by hand.
#include "TrainerTestModel.h"
#include "mtlrt/Trainer.h"
#include "train/Schedule.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mtlrt;

TEST(Schedule, CosineWarmsUpThenAnneals) {
  // 4 epochs of 10 steps, 2 warm-up epochs: steps 1..20 rise as t/20, steps
  // 21..40 are s = 0..19 of S = 20: ½(1 + cos(π s / 20)).
  Schedule s = Schedule::parse("cosine(warmup = 2)").value();
  EXPECT_DOUBLE_EQ(s.factor(1, 1, 10, 4), 0.05);
  EXPECT_DOUBLE_EQ(s.factor(10, 1, 10, 4), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(20, 2, 10, 4), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(21, 3, 10, 4), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(31, 4, 10, 4), 0.5); // s = 10: cos(π/2) = 0
  EXPECT_NEAR(s.factor(40, 4, 10, 4), 0.5 * (1 + std::cos(M_PI * 19 / 20)), 1e-15);
  // Without warm-up the first step has the full rate.
  EXPECT_DOUBLE_EQ(Schedule::parse("cosine").value().factor(1, 1, 10, 4), 1.0);
}

TEST(Schedule, StepDecaysEveryEEpochs) {
  Schedule s = Schedule::parse("step(every = 3, gamma = 0.5)").value();
  EXPECT_DOUBLE_EQ(s.factor(1, 1, 10, 9), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(30, 3, 10, 9), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(31, 4, 10, 9), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(70, 7, 10, 9), 0.25);
  EXPECT_DOUBLE_EQ(Schedule::parse("constant").value().factor(70, 7, 10, 9), 1.0);
}

TEST(Schedule, PlateauShrinksAfterPatienceEpochsWithoutABest) {
  Schedule s = Schedule::parse("plateau(patience = 1, factor = 0.5)").value();
  for (double loss : {1.0, 0.9, 0.95}) // a best, a best, one epoch without
    s.endEpoch(loss);
  EXPECT_DOUBLE_EQ(s.factor(1, 1, 1, 1), 1.0);
  s.endEpoch(0.97); // a second epoch without: more than patience
  EXPECT_DOUBLE_EQ(s.factor(1, 1, 1, 1), 0.5);
  EXPECT_EQ(s.state(), (std::vector<double>{0.5, 0.9, 0}));
  s.endEpoch(0.96);
  s.endEpoch(0.98);
  EXPECT_DOUBLE_EQ(s.factor(1, 1, 1, 1), 0.25);
  // The state restores exactly; a state out of range is refused.
  Schedule t = Schedule::parse("plateau(patience = 1, factor = 0.5)").value();
  ASSERT_TRUE(t.setState(s.state()));
  EXPECT_EQ(t.state(), s.state());
  EXPECT_FALSE(t.setState({2, 0, 0}));
  EXPECT_FALSE(t.setState({0.5}));
}

TEST(Schedule, MalformedTextIsNamed) {
  EXPECT_EQ(Schedule::parse("cosin").error(),
            "unknown schedule 'cosin'; use constant, cosine(warmup = N), step(every = N, gamma "
            "= G) or plateau(patience = N, factor = F)");
  EXPECT_EQ(Schedule::parse("step(gamma = 2)").error(),
            "schedule 'step(gamma = 2)': gamma must lie in (0, 1], got 2");
  EXPECT_EQ(Schedule::parse("step(gamma = 0)").error(),
            "schedule 'step(gamma = 0)': gamma must lie in (0, 1], got 0");
  EXPECT_EQ(Schedule::parse("step(every = 0, gamma = 0.5)").error(),
            "schedule 'step(every = 0, gamma = 0.5)': every must be a whole number of at least 1, "
            "got 0");
  EXPECT_EQ(
      Schedule::parse("step(every = 1e10)").error(),
      "schedule 'step(every = 1e10)': every must be a whole number of at most 1e+09, got 1e10");
  EXPECT_EQ(
      Schedule::parse("cosine(warmup = 1.5)").error(),
      "schedule 'cosine(warmup = 1.5)': warmup must be a whole number of at least 0, got 1.5");
  EXPECT_FALSE(Schedule::parse("plateau(patience = 3").ok());
  EXPECT_EQ(Schedule::parse("cosine(warm = 3)").error(),
            "schedule 'cosine(warm = 3)': cosine has no argument 'warm'; write cosine(warmup = N)");
}

TEST(Schedule, ClipGradNormScalesTheTrainedTensors) {
  // Two tensors, gradients (3, 4) and (12): the norm of all is 13; the
  // second frozen (scale 0), the norm is 5.
  mtl_tensor_desc params[2] = {{"a", 1, {2, 0, 0, 0}, 0, 2, 0, 0, nullptr, 0},
                               {"b", 1, {1, 0, 0, 0}, 2, 1, 0, 0, nullptr, 0}};
  mtl_model model{};
  model.num_params = 2;
  model.params = params;
  float grads[3] = {3, 4, 12};
  EXPECT_DOUBLE_EQ(clipGradNorm(model, grads, nullptr, 26), 13);
  EXPECT_EQ(grads[0], 3); // below the limit: unchanged
  const float scales[2] = {1, 0};
  EXPECT_DOUBLE_EQ(clipGradNorm(model, grads, scales, 1), 5);
  EXPECT_FLOAT_EQ(grads[0], float(3 / (5 + 1e-6)));
  EXPECT_FLOAT_EQ(grads[1], float(4 / (5 + 1e-6)));
  EXPECT_EQ(grads[2], 12); // frozen: not counted, not scaled
  float bad[3] = {NAN, 1, 1};
  EXPECT_TRUE(std::isnan(clipGradNorm(model, bad, nullptr, 1)));
  EXPECT_EQ(bad[1], 1); // a non-finite norm changes nothing
  // A buffer's place holds its next value (a running variance), not a
  // gradient: not counted, not scaled.
  params[1].buffer = 1;
  float withBuffer[3] = {3, 4, 12};
  EXPECT_DOUBLE_EQ(clipGradNorm(model, withBuffer, nullptr, 1), 5);
  EXPECT_EQ(withBuffer[2], 12);
}

TEST(Schedule, PlateauWithoutValidationDataIsAnError) {
  TrainOptions o;
  o.quiet = true;
  o.epochs = 1;
  o.schedule = "plateau(patience = 2)";
  Result<Trainer> trainer = Trainer::create(&testmodel::kModel, o);
  ASSERT_TRUE(trainer.ok()) << trainer.error();
  Result<TrainResult> r = trainer->fit(testmodel::makeData(40, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "schedule 'plateau(patience = 2)' follows the validation loss and needs "
                       "validation data: set validate to a fraction or a data set");
  o.validate = 0.25; // with validation it runs
  EXPECT_TRUE(Trainer::create(&testmodel::kModel, o)->fit(testmodel::makeData(40, 1)).ok());
  // A fraction that holds out no row of the data says so.
  r = Trainer::create(&testmodel::kModel, o)->fit(testmodel::makeData(1, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "schedule 'plateau(patience = 2)' follows the validation loss and needs "
                       "validation data: validate = 0.25 of the 1 training row holds out none; "
                       "use more rows, a larger fraction or a validation data set");
  o.schedule = "cosine(warmup = x)";
  EXPECT_EQ(Trainer::create(&testmodel::kModel, o).error(),
            "schedule 'cosine(warmup = x)': warmup needs a number, got 'x'");
}

// Settings counted in epochs must fit the run's epochs, whichever overrides
// set them (a built program's --epochs, --schedule, --unfreeze-after, the REPL).
TEST(Schedule, SettingsCountedInEpochsFitTheRun) {
  TrainOptions o;
  o.quiet = true;
  o.epochs = 3;
  o.schedule = "cosine(warmup = 2)";
  EXPECT_TRUE(Trainer::create(&testmodel::kModel, o).ok());
  o.schedule = "cosine(warmup = 3)";
  EXPECT_EQ(Trainer::create(&testmodel::kModel, o).error(),
            "the schedule 'cosine(warmup = 3)' leaves no epoch after its warmup in the run's 3 "
            "epochs; warm up for fewer (--schedule 'cosine(warmup = N)') or train for more "
            "(--epochs)");
  o.schedule = "constant";
  o.freeze = {"y"};
  o.unfreezeAfter = 2;
  EXPECT_TRUE(Trainer::create(&testmodel::kModel, o).ok());
  o.unfreezeAfter = 0; // frozen for the whole run
  EXPECT_TRUE(Trainer::create(&testmodel::kModel, o).ok());
  o.unfreezeAfter = 3;
  EXPECT_EQ(Trainer::create(&testmodel::kModel, o).error(),
            "unfreeze_after = 3 leaves nothing to train unfrozen in the run's 3 epochs; unfreeze "
            "earlier (--unfreeze-after) or train for more (--epochs)");
  o.freeze.clear();
  o.unfreezeAfter = 2;
  EXPECT_EQ(Trainer::create(&testmodel::kModel, o).error(),
            "unfreeze_after = 2 thaws nothing: no parameter group is frozen (--freeze GROUP, or "
            "freeze = [...] in the model's train item)");
}
