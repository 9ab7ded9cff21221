// ir_text_test.cpp: the textual IR of every example, at every stage, reads
// back into the same graph and signature.
//
// For `mtlc emit ir`, `grad` and `opt` (lowering, autodiff, the passes),
// print → parse → print must give the same text, with and without source
// file names, and the signature rebuilt from the text's names must be the
// one the pipeline built.
#include "ModelFiles.h"
#include "autodiff/Step.h"
#include "driver/Pipeline.h"
#include "ir/Builder.h"
#include "ir/Parser.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

namespace mtl {
namespace ir_text {

void expectSameSignature(const ir::StepSignature &a, const ir::StepSignature &b) {
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.targets, b.targets);
  EXPECT_EQ(a.taskWeights, b.taskWeights);
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.loss, b.loss);
  EXPECT_EQ(a.penalty, b.penalty);
  EXPECT_EQ(a.taskLosses, b.taskLosses);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.gradients, b.gradients);
}

class IrText : public ::testing::TestWithParam<std::string> {};

TEST_P(IrText, EveryStageRoundTrips) {
  for (driver::Stage stage : {driver::Stage::Lower, driver::Stage::Grad, driver::Stage::Passes}) {
    SCOPED_TRACE("stage " + std::to_string(static_cast<int>(stage)));
    driver::Compilation c;
    driver::PipelineOptions o;
    o.modelName = test::modelOf(GetParam());
    ASSERT_TRUE(driver::runPipeline(test::modelPath(GetParam()), stage, c, o))
        << c.diags.render(false);
    const std::string named = ir::print(c.step.graph, &c.sources);
    ir::ParsedStep again = ir::parseStep(named, "emitted.ir", &c.sources);
    ASSERT_TRUE(again.ok()) << again.errors.front();
    EXPECT_EQ(ir::print(again.graph, &c.sources), named);
    expectSameSignature(again.signature, c.step.signature);

    const std::string bare = ir::print(c.step.graph);
    ir::ParsedStep bareAgain = ir::parseStep(bare, "bare.ir");
    ASSERT_TRUE(bareAgain.ok()) << bareAgain.errors.front();
    EXPECT_EQ(ir::print(bareAgain.graph), bare);
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, IrText, ::testing::ValuesIn(test::modelFiles()),
                         [](const auto &info) { return test::modelName(info.param); });

} // namespace ir_text
} // namespace mtl

namespace mtl {
namespace ir_text {

// A parameter that does not reach the loss gets a zero gradient, named after
// the others; the text still reads back with the gradients in the
// parameters' order, as the pipeline's signature has them.
TEST(IrTextSignature, GradientsReadBackInParameterOrder) {
  ir::Graph g;
  ir::Builder b(g);
  ir::ValueId idle = b.param("idle", {3}); // defined first, no path to the loss
  ir::ValueId w = b.param("w", {2});
  ir::StepSignature sig;
  sig.loss = b.reduceSum(b.unary(ir::OpKind::Square, w));
  g.setResult("loss", sig.loss);
  ASSERT_TRUE(autodiff::differentiateStep(g, sig, false).empty());
  ASSERT_EQ(sig.gradients.size(), 2u);
  ASSERT_EQ(sig.gradients[0].first, idle);
  const std::string text = ir::print(g);
  ir::ParsedStep again = ir::parseStep(text, "idle.ir");
  ASSERT_TRUE(again.ok()) << again.errors.front();
  EXPECT_EQ(ir::print(again.graph), text);
  EXPECT_EQ(again.signature.gradients, sig.gradients);
}

} // namespace ir_text
} // namespace mtl
