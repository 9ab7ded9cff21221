// parser_test.cpp: the textual IR parser: what it accepts, and a located
// error for each way a line can be wrong.
#include "ir/Parser.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

using namespace mtl;
using namespace mtl::ir;

namespace {

/// The first error of parsing `text`, or "" when it parses.
std::string firstError(const std::string &text) {
  ParsedStep step = parseStep(text, "t.ir");
  return step.ok() ? std::string() : step.errors.front();
}

const char *kStep = R"(%x = input : f32[B, 2]  // m.mtl:3:5
%target.t = input : f32[B, 1]
%weight.t = input : f32[]
%w = param : f32[1, 2]
%4 = linear %x, %w : f32[B, 1]  // m.mtl:7:9
%5 = loss %4, %target.t {loss = huber, delta = 0.5} : f32[]
%6 = mul %weight.t, %5 : f32[]
%7 = constant {value = -1.5e-07} : f32[]
%8 = mul %6, %7 : f32[]
result output.t = %4
result loss.t = %5
result loss = %8
result grad.w = %w
)";

} // namespace

TEST(IrParser, ReadsWhatThePrinterWrites) {
  SourceManager sources;
  ParsedStep step = parseStep(kStep, "t.ir", &sources);
  ASSERT_TRUE(step.ok()) << step.errors.front();
  EXPECT_EQ(print(step.graph, &sources), kStep);
  ASSERT_EQ(sources.fileCount(), 1);
  EXPECT_EQ(sources.name(0), "m.mtl");
  const Graph &g = step.graph;
  EXPECT_EQ(g.op(4).loc.line, 7);
  EXPECT_EQ(g.op(4).loc.col, 9);
  EXPECT_EQ(g.op(5).attrs.loss, LossKind::Huber);
  EXPECT_EQ(g.op(5).attrs.delta, 0.5);
  EXPECT_EQ(g.op(7).attrs.value, -1.5e-07);
  const StepSignature &sig = step.signature;
  EXPECT_EQ(sig.inputs, std::vector<ValueId>{0});
  EXPECT_EQ(sig.targets, std::vector<ValueId>{1});
  EXPECT_EQ(sig.taskWeights, std::vector<ValueId>{2});
  EXPECT_EQ(sig.outputs, std::vector<ValueId>{4});
  EXPECT_EQ(sig.taskLosses, std::vector<ValueId>{5});
  EXPECT_EQ(sig.loss, 8);
  EXPECT_EQ(sig.penalty, -1);
  EXPECT_EQ(sig.step, -1);
  ASSERT_EQ(sig.gradients.size(), 1u);
  EXPECT_EQ(sig.gradients[0], std::make_pair(ValueId{3}, ValueId{3}));
}

TEST(IrParser, LocationsWithoutAFileAreInFileZero) {
  ParsedStep step = parseStep("%x = input : f32[B]  // 3:5\nresult loss = %x\n", "t.ir");
  ASSERT_TRUE(step.ok()) << step.errors.front();
  EXPECT_EQ(step.graph.op(0).loc.file, 0);
  EXPECT_EQ(step.graph.op(0).loc.line, 3);
  EXPECT_EQ(print(step.graph), "%x = input : f32[B]  // 3:5\nresult loss = %x\n");
}

TEST(IrParser, CommentsBlankLinesAndCarriageReturnsAreSkipped) {
  ParsedStep step = parseStep("// a graph\r\n\r\n%x = input : f32[B]\r\nresult loss = %x\r\n", "t");
  ASSERT_TRUE(step.ok()) << step.errors.front();
  EXPECT_EQ(print(step.graph), "%x = input : f32[B]\nresult loss = %x\n");
}

TEST(IrParser, EachMistakeIsLocated) {
  EXPECT_EQ(firstError("%x = input : f32[B]\n%2 = neg %x : f32[B]\n"),
            "t.ir:2:2: this op is number 1: write %1");
  EXPECT_EQ(firstError("%0 = input : f32[B]\n"),
            "t.ir:1:2: inputs, parameters and buffers are named, not numbered");
  EXPECT_EQ(firstError("%x = input : f32[B]\n%y = neg %x : f32[B]\n"),
            "t.ir:2:2: only inputs, parameters and buffers are named; write %1");
  EXPECT_EQ(firstError("%x = input : f32[B]\n%x = input : f32[B]\n"),
            "t.ir:2:2: %x is defined twice");
  EXPECT_EQ(firstError("%x = input : f32[B]\n%1 = nag %x : f32[B]\n"),
            "t.ir:2:6: unknown op 'nag'");
  EXPECT_EQ(firstError("%x = input : f32[B]\n%1 = neg %3 : f32[B]\n"),
            "t.ir:2:10: %3 is not defined above");
  EXPECT_EQ(firstError("%x = input : f32[B]\n%1 = neg %y : f32[B]\n"),
            "t.ir:2:10: no input or parameter %y is defined above");
  EXPECT_EQ(firstError("%x = input : f32[B]\n%1 = neg %x {alpha = 1} : f32[B]\n"),
            "t.ir:2:13: 'neg' takes no attributes");
  EXPECT_EQ(firstError("%x = input : f32[B]\n%1 = leaky_relu %x {slope = 1} : f32[B]\n"),
            "t.ir:2:21: unknown attribute 'slope'");
  EXPECT_EQ(firstError("%x = input : f32[B]\n%1 = leaky_relu %x {alpha = one} : f32[B]\n"),
            "t.ir:2:29: 'one' is not a number");
  EXPECT_EQ(firstError("%x = input : f32[B]\n%1 = reduce_sum %x : f32[]\n"),
            "t.ir:2:19: 'reduce_sum' needs its attributes, written {axis = all}");
  EXPECT_EQ(firstError("%x = input : f32[B]\n%1 = reduce_sum %x {axis = all, size = 2} : f32[]\n"),
            "t.ir:2:20: the attributes of 'reduce_sum' are written {axis = all}");
  EXPECT_EQ(firstError("%x = input : f32[B]\n%1 = reduce_sum %x {axis = rows} : f32[]\n"),
            "t.ir:2:28: axis 'rows' is not all, last or leading");
  // A product's activation is its only attribute, and optional.
  EXPECT_EQ(firstError("%x = input : f32[B, 2]\n%w = param : f32[2, 2]\n"
                       "%2 = linear %x, %w {activation = tanh} : f32[B, 2]\n"),
            "t.ir:3:34: activation 'tanh' is not relu");
  EXPECT_EQ(firstError("%x = input : f32[B, 2]\n%w = param : f32[2, 2]\n"
                       "%2 = matmul %x, %w {activation = relu} : f32[B, 2]\n"),
            "t.ir:3:20: 'matmul' takes no attributes");
  EXPECT_EQ(firstError("%x = input : f32[B, 1, 4, 4]\n"
                       "%1 = max_pool %x {kernel = 2, stride = 2, activation = relu} : "
                       "f32[B, 1, 2, 2]\n"),
            "t.ir:2:18: the attributes of 'max_pool' are written {kernel = 2, stride = 2}");
  EXPECT_EQ(firstError("%x = input : f32[B, 1, 4, 4]\n%g = input : f32[B, 1, 2, 2]\n"
                       "%2 = max_pool_grad %g, %x {activation = relu, kernel = 2, stride = 2} : "
                       "f32[B, 1, 4, 4]\n"),
            "t.ir:3:27: the attributes of 'max_pool_grad' are written {kernel = 2, stride = 2, "
            "activation = relu}");
  EXPECT_EQ(firstError("%x = input : f64[B]\n"),
            "t.ir:1:14: expected a type such as f32[B, 4], got 'f64'");
  EXPECT_EQ(firstError("%x = input : f32[4, B]\n"),
            "t.ir:1:21: 'B' is not a dimension (B first, then sizes >= 0)");
  EXPECT_EQ(firstError("%x = input : f32[B]  // here\n"),
            "t.ir:1:25: 'here' is not a location (FILE:LINE:COL or LINE:COL)");
  EXPECT_EQ(firstError("%x = input : f32[B] junk\n"),
            "t.ir:1:20: unexpected text after the end of the line");
  EXPECT_EQ(firstError("%x = input : f32[B]\nresult loss = %9\n"),
            "t.ir:2:15: %9 is not defined above");
}

TEST(IrParser, TheGraphIsVerified) {
  // Parsed line by line, then checked as a whole: a wrong type is the
  // verifier's error, named by the file.
  ParsedStep step = parseStep("%x = input : f32[B, 2]\n%1 = neg %x : f32[B, 3]\n", "t.ir");
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.errors.front().rfind("t.ir: ", 0), 0u) << step.errors.front();
}

TEST(IrParser, AnActivationNeedsWindowsThatDoNotOverlap) {
  // Parsed (max_pool_grad takes an activation), then refused by the verifier:
  // code generation stores each element once only without overlaps.
  ParsedStep step = parseStep("%x = input : f32[B, 1, 4, 4]\n%g = input : f32[B, 1, 3, 3]\n"
                              "%2 = max_pool_grad %g, %x {kernel = 2, stride = 1, activation = "
                              "relu} : f32[B, 1, 4, 4]\n",
                              "t.ir");
  ASSERT_FALSE(step.ok());
  EXPECT_NE(step.errors.front().find("windows that do not overlap"), std::string::npos)
      << step.errors.front();
}

TEST(IrParser, AStepNeedsItsTotalLoss) {
  // Every pass plans a step from its results, the total loss first.
  ParsedStep step = parseStep("%x = input : f32[B, 1]\n", "t.ir");
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.errors.front(), "t.ir: a step needs its total loss: write `result loss = %N`");
  EXPECT_FALSE(parseStep("", "t.ir").ok());
}

TEST(IrParser, TasksNeedTheirLossTargetAndWeight) {
  ParsedStep step = parseStep("%x = input : f32[B, 1]\nresult output.t = %x\n", "t.ir");
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.errors.front(), "t.ir: task 't' needs the result loss.t and the inputs target.t "
                                 "and weight.t");
  step = parseStep("%x = input : f32[B, 1]\nresult grad.w = %x\n", "t.ir");
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.errors.front(), "t.ir: result 'grad.w' names no parameter");
}
