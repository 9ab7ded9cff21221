// balance_weights_test.cpp: the loss-weighting methods (DWA, RLW, FAMO,
// GradNorm), each against its weights worked out by hand or its defining
// property.
#include "BalanceVectors.h"
#include "balance/Method.h"
#include "balance/Methods.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mtlrt;
using namespace mtlrt::balance;
using namespace mtlrt::balance::test;

namespace {

// ---- DWA, RLW ----

TEST(Dwa, HandComputedWeights) {
  // r = (1/2, 2/2) = (0.5, 1); at temperature 2: λ = 2 (e^0.25, e^0.5) / (e^0.25 + e^0.5).
  Vec w = dwa(Vec{1, 2}, Vec{2, 2}, 2.0);
  double a = std::exp(0.25), b = std::exp(0.5);
  expectNear(w, {2 * a / (a + b), 2 * b / (a + b)}, 1e-15);
  EXPECT_NEAR(sum(w), 2.0, 1e-15);
  // A zero loss two epochs back counts as r = 1: equal ratios, equal weights.
  expectNear(dwa(Vec{1, 3}, Vec{0, 3}, 2.0), {1, 1}, 1e-15);
}

TEST(Rlw, DeterministicPerStepAndOnTheSimplex) {
  Vec a = rlw(4, 9, 3), b = rlw(4, 9, 3), c = rlw(4, 9, 4);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NEAR(sum(a), 1.0, 1e-15);
  // softmax of N(0,1) draws from Rng(9, 3), in task order.
  Rng rng(9, 3);
  Vec z(4);
  for (double &x : z)
    x = std::exp(rng.normal());
  for (size_t t = 0; t < 4; ++t)
    EXPECT_NEAR(a[t], z[t] / sum(z), 1e-15);
}

// ---- FAMO ----

TEST(Famo, InitialWeightsAndFirstUpdate) {
  Famo famo(2);
  expectNear(famo.taskShares(), {0.5, 0.5}, 0);
  expectNear(famo.weights(Vec{2, 2}), {0.5, 0.5}, 1e-15);
  // z = (1/2, 1/2), L = (1, 3): c = 1/2 + 1/6 = 2/3; λ = (3/4, 1/4) (eps 1e-8 aside).
  expectNear(famo.weights(Vec{1, 3}), {0.75, 0.25}, 1e-8);

  // Task 1's loss falls from 1 to 0.9, task 2's from 1 to 0.5:
  // δ = (ln(1/0.9), ln 2); grad_1 = z1 (δ1 - z·δ) = (δ1 - δ2)/4 < 0, grad_2 = -grad_1.
  // Adam's first step is lr · grad / (|grad| + 1e-8) ≈ lr · sign(grad):
  // ξ = (0.025, -0.025), z1 = 1 / (1 + e^-0.05).
  famo.update(Vec{1, 1}, Vec{0.9, 0.5});
  expectNear(famo.state().logits, {0.025, -0.025}, 1e-8);
  EXPECT_NEAR(famo.taskShares()[0], 1 / (1 + std::exp(-0.05)), 1e-8);
  EXPECT_GT(famo.taskShares()[0], 0.5); // the slower task gains weight

  // The paper's plain step: ξ1 = -lr · grad_1 = 0.025 (δ2 - δ1) / 4.
  FamoOptions paper;
  paper.adam = false;
  Famo plain(2, paper);
  plain.update(Vec{1, 1}, Vec{0.9, 0.5});
  double d1 = std::log(1 / 0.9), d2 = std::log(2.0);
  expectNear(plain.state().logits, {0.025 * (d2 - d1) / 4, -0.025 * (d2 - d1) / 4}, 1e-9);
}

TEST(Famo, StateRestoresTheSequence) {
  Famo a(3);
  a.update(Vec{1, 2, 3}, Vec{0.9, 1.5, 2.9});
  Famo b(3);
  b.setState(a.state());
  a.update(Vec{0.9, 1.5, 2.9}, Vec{0.8, 1.4, 2.0});
  b.update(Vec{0.9, 1.5, 2.9}, Vec{0.8, 1.4, 2.0});
  EXPECT_EQ(a.state().logits, b.state().logits);
  EXPECT_EQ(a.weights(Vec{1, 1, 1}), b.weights(Vec{1, 1, 1}));
}

TEST(Famo, ATaskWithoutLabelsIsLeftOut) {
  // Task 2 has no labels in the batch (NaN): weight 0, and the others as if
  // it were not there: z = 1/3 each, L = (1, 3): λ = (3/4, 0, 1/4).
  Famo famo(3);
  const double nan = std::nan("");
  expectNear(famo.weights(Vec{1, nan, 3}), {0.75, 0, 0.25}, 1e-8);
  // Its δ is 0, so its logit moves only by the mean shift; the others' as
  // with δ = (ln 2, 0, 0): grad = z (δ - z·δ) = (2/9, -1/9, -1/9) ln 2, and
  // the first Adam step moves each logit by -lr sign(grad).
  famo.update(Vec{1, nan, 1}, Vec{0.5, 0.7, 1});
  expectNear(famo.state().logits, {-0.025, 0.025, 0.025}, 1e-8);
  // None labelled: no weights at all, and no NaN.
  expectNear(famo.weights(Vec{nan, nan, nan}), {0, 0, 0}, 0);
}

// ---- GradNorm ----

TEST(GradNorm, OneStepByHand) {
  // w = (1,1), ||∇L|| = (1,2), first losses: r = (1,1). G = (1,2), Ḡ = 1.5,
  // target = 1.5: ∂/∂w = (sign(-0.5)·1, sign(0.5)·2) = (-1, 2);
  // w = (1.025, 0.95), renormalised to sum 2: (2.05, 1.9) / 1.975.
  GradNorm gn(2);
  gn.update(Vec{1, 2}, Vec{1, 1});
  expectNear(gn.weights(), {2.05 / 1.975, 1.9 / 1.975}, 1e-15);
  EXPECT_NEAR(sum(gn.weights()), 2.0, 1e-15);
}

TEST(GradNorm, SlowerTaskGetsMoreWeight) {
  GradNorm gn(2);
  gn.update(Vec{1, 1}, Vec{1, 1});
  for (int step = 0; step < 20; ++step)
    gn.update(Vec{1, 1}, Vec{1.0, 0.5}); // task 1 has not trained, task 2 halved
  EXPECT_GT(gn.weights()[0], gn.weights()[1]);
  EXPECT_NEAR(sum(gn.weights()), 2.0, 1e-12);

  GradNorm copy(2);
  copy.setState(gn.state());
  gn.update(Vec{0.7, 1.3}, Vec{1.0, 0.4});
  copy.update(Vec{0.7, 1.3}, Vec{1.0, 0.4});
  EXPECT_EQ(gn.weights(), copy.weights());
}

TEST(GradNorm, AlphaZeroPullsTheNormsToTheirMeanWhateverTheRates) {
  // α = 0 (the paper's equal norms): the training rates do not matter.
  auto after = [](double alpha, Vec secondLosses) {
    GradNorm gn(2, GradNormOptions{alpha});
    gn.update(Vec{1, 2}, Vec{1, 1});
    gn.update(Vec{1, 2}, secondLosses);
    return gn.weights();
  };
  EXPECT_EQ(after(0, Vec{1, 0.5}), after(0, Vec{0.5, 1}));
  EXPECT_NE(after(1.5, Vec{1, 0.5}), after(1.5, Vec{0.5, 1}));
}

TEST(Method, ArgumentsAreFloatsThatTrainingKeeps) {
  // A denormal is 0 while training (DWA's temperature fell back to 2);
  // cagrad and gradnorm take 0, the others only positive values.
  EXPECT_EQ(parseMethod("gradnorm(alpha = 0)")->arg, 0.0);
  EXPECT_EQ(parseMethod("cagrad(0)")->arg, 0.0);
  EXPECT_EQ(parseMethod("dwa(1e-30)")->arg, 1e-30);
  EXPECT_EQ(parseMethod("dwa(temperature = 1e-320)").error(),
            "balance method 'dwa': temperature must be a positive float from 1.2e-38 to 3.4e+38, "
            "got 1e-320");
  EXPECT_EQ(parseMethod("dwa(0)").error(), "balance method 'dwa': temperature must be a positive "
                                           "float from 1.2e-38 to 3.4e+38, got 0");
  EXPECT_EQ(parseMethod("gradnorm(-1)").error(),
            "balance method 'gradnorm': alpha must be 0 or a positive float from 1.2e-38 to "
            "3.4e+38, got -1");
  EXPECT_FALSE(parseMethod("cagrad(c = 1e-45)").ok());
}

} // namespace
