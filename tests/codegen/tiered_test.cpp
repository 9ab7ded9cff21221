// tiered_test.cpp: a tiered compile (PipelineOptions::tiered): -O0 code at once, the requested
// level on a thread of its own, handed to the trainer, with the same results as an untiered
// compile.
#include "CompiledText.h"
#include "RandomRows.h"
#include "driver/Pipeline.h"
#include "mtlrt/CodeSwap.h"
#include "mtlrt/Trainer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>

namespace mtl {
namespace tiered {

constexpr const char *kModel = R"(
model tiered {
  input x : f32[4]
  shared trunk = x -> dense(16) -> relu -> dense(8) -> tanh
  task a : binary { head = trunk -> dense(1) }
  optimizer adam(lr = 0.01)
}
)";

std::string modelFile() {
  const std::string path = test::testFile("tiered");
  std::ofstream(path) << kModel;
  return path;
}

driver::PipelineOptions options(bool tiered) {
  driver::PipelineOptions o;
  o.tiered = tiered; // no disk cache: every function is compiled
  return o;
}

// Losses of every step of 4 epochs, and the parameters they end with.
std::pair<std::vector<float>, std::vector<float>>
train(const mtl_model &model, std::shared_ptr<mtlrt::CodeSwap> swap = nullptr) {
  mtlrt::TrainOptions o;
  o.seed = 3;
  o.threads = 2;
  o.batch = 16;
  o.epochs = 4;
  o.lr = 0.01f;
  o.validate = 0.25;
  o.quiet = true;
  o.keepStepLosses = true;
  o.codeSwap = std::move(swap);
  auto trainer = mtlrt::Trainer::create(&model, o);
  EXPECT_TRUE(trainer.ok()) << trainer.error();
  auto r = trainer->fit(test::randomRows(96));
  EXPECT_TRUE(r.ok()) << r.error();
  const std::span<const float> p = std::as_const(*trainer).params();
  return {r->stepLosses, std::vector<float>(p.begin(), p.end())};
}

TEST(Tiered, TheTrainerTakesTheSecondBuildAndTrainsAsAnUntieredCompile) {
  const std::string path = modelFile();
  driver::Compilation plain, tiered;
  ASSERT_TRUE(driver::runPipeline(path, driver::Stage::Jit, plain, options(false)))
      << plain.diags.render(false);
  EXPECT_EQ(plain.background, nullptr);
  ASSERT_TRUE(driver::runPipeline(path, driver::Stage::Jit, tiered, options(true)))
      << tiered.diags.render(false);
  ASSERT_NE(tiered.background, nullptr);
  ASSERT_NE(tiered.compiled, nullptr);
  EXPECT_TRUE(mtlrt::sameLayout(*tiered.compiled, *plain.compiled));

  // Waits for the -O2 build (offered when its compile ends), so the trainer
  // takes it before the first step.
  std::shared_ptr<mtlrt::CodeSwap> swap = tiered.background->swap();
  // Unused: the compile ended before finish() was called (a loaded machine).
  const auto outcome = tiered.background->finish(true, false);
  EXPECT_TRUE(outcome == driver::BackgroundCompile::Outcome::Waited ||
              outcome == driver::BackgroundCompile::Outcome::Unused);
  const auto expected = train(*plain.compiled);
  const auto got = train(*tiered.compiled, swap);
  EXPECT_EQ(swap->takenAfter(), 0);
  ASSERT_EQ(got.first.size(), 4u * 5u); // 72 training rows in batches of 16
  EXPECT_EQ(got.first, expected.first);
  EXPECT_EQ(got.second, expected.second);

  // The -O0 build alone trains to the same bits too.
  EXPECT_EQ(train(*tiered.compiled).second, expected.second);
}

// A run that ends at once (digits' -O2 compile takes a few hundred ms)
// cancels the compile, which then offers nothing. A compilation dropped
// without finish() cancels and joins in its destructor; under the sanitizers
// (scripts/sanitize.sh) a thread left running or reading freed memory fails.
TEST(Tiered, ACompileNoLongerNeededIsCancelledAndOffersNothing) {
  const std::string digits = std::string(MTL_SOURCE_DIR) + "/examples/digits.mtl";
  driver::Compilation c;
  ASSERT_TRUE(driver::runPipeline(digits, driver::Stage::Jit, c, options(true)))
      << c.diags.render(false);
  ASSERT_NE(c.background, nullptr);
  std::shared_ptr<mtlrt::CodeSwap> swap = c.background->swap();
  EXPECT_EQ(c.background->finish(false, false), driver::BackgroundCompile::Outcome::Cancelled);
  EXPECT_EQ(swap->take(0), nullptr);
  for (int i = 0; i < 2; ++i) {
    driver::Compilation dropped;
    ASSERT_TRUE(driver::runPipeline(digits, driver::Stage::Jit, dropped, options(true)));
  }
}

TEST(Tiered, OnlyTheJitStageAtALevelAboveZeroIsTiered) {
  const std::string path = modelFile();
  driver::Compilation atZero, optimized;
  driver::PipelineOptions o = options(true);
  o.target.optLevel = 0;
  ASSERT_TRUE(driver::runPipeline(path, driver::Stage::Jit, atZero, o));
  EXPECT_EQ(atZero.background, nullptr);
  ASSERT_TRUE(driver::runPipeline(path, driver::Stage::Optimize, optimized, options(true)));
  EXPECT_EQ(optimized.background, nullptr);
}

} // namespace tiered
} // namespace mtl
