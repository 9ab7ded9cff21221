// names_test.cpp: namespaces, duplicates, reserved names, inputs and constant expressions.
#include "SemaTestUtil.h"

namespace mtl::sema::test {
namespace {

TEST(Names, DuplicateOfTheSameKind) {
  Checked c = check(model("  input x : f32[4]\n"
                          "  task species : binary { head = x -> dense(1) }\n"
                          "  task species : binary { head = x -> dense(1) }"));
  EXPECT_DIAG(c, "m.mtl:4:8: error: duplicate task 'species'\n"
                 "  task species : binary { head = x -> dense(1) }\n"
                 "       ^~~~~~~\n"
                 "m.mtl:3:8: note: previous definition is here\n");
  EXPECT_EQ(c.errors, 1u) << c.text;
  EXPECT_TRUE(c.models.empty());
}

TEST(Names, OneNamespaceForInputsBlocksSharedAndTasks) {
  Checked c = check(model("  input x : f32[4]\n  block x { relu }\n  shared x = dense(1)\n"
                          "  task x : regress { head = x -> dense(1) }"));
  EXPECT_DIAG(c, "m.mtl:3:9: error: duplicate name 'x' (already the name of an input)");
  EXPECT_DIAG(c, "m.mtl:4:10: error: duplicate name 'x' (already the name of an input)");
  EXPECT_DIAG(c, "m.mtl:5:8: error: duplicate name 'x' (already the name of an input)");
}

TEST(Names, DataSetsHaveTheirOwnNamespace) {
  Checked c = check(model("  input train : f32[2]\n  data train = synthetic() {}\n"
                          "  task t : regress { head = train -> dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  Checked dup =
      check(model("  input x : f32[2]\n  data d = synthetic() {}\n  data d = synthetic() {}\n"
                  "  task t : regress { head = x -> dense(1) }\n  train { data = d }"));
  EXPECT_DIAG(dup, "m.mtl:4:8: error: duplicate data set 'd'");
}

TEST(Names, LayerNamesAreReserved) {
  Checked c = check("block relu { dense(1) }\n" +
                    model("  input dense : f32[4]\n  task softmax : regress { head = dense -> "
                          "flatten -> dense(1) }"));
  EXPECT_DIAG(c, "m.mtl:1:7: error: 'relu' is a layer name and cannot name a block");
  EXPECT_DIAG(c, "m.mtl:3:9: error: 'dense' is a layer name and cannot name an input");
  EXPECT_DIAG(c, "m.mtl:4:8: error: 'softmax' is a layer name and cannot name a task");
}

TEST(Names, KeywordsMayBeNames) {
  Checked c = check(model("  input data : f32[4]\n  shared scale = data -> dense(2)\n"
                          "  task train : regress(2) { head = scale }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
}

TEST(Names, DuplicateTopLevelBlocksAcrossFiles) {
  Checked c = check("import \"lib.mtl\"\nblock tower { relu }\n", "m.mtl",
                    {{"lib.mtl", "block tower { dense(1) }\n"}});
  EXPECT_DIAG(c, "lib.mtl:1:7: error: duplicate block 'tower'");
  EXPECT_DIAG(c, "m.mtl:2:7: note: previous definition is here");
}

TEST(Names, ModelSettingsAppearOnce) {
  Checked c =
      check(model("  input x : f32[4]\n  task t : regress { head = x -> dense(1) }\n"
                  "  optimizer adam\n  optimizer sgd(0.1)\n  balance static\n  balance static\n"
                  "  train { epochs = 1 }\n  train { epochs = 2 }"));
  EXPECT_DIAG(c, "m.mtl:5:3: error: duplicate 'optimizer'; a model has one");
  EXPECT_DIAG(c, "m.mtl:7:3: error: duplicate 'balance'; a model has one");
  EXPECT_DIAG(c, "m.mtl:9:3: error: duplicate 'train'; a model has one");
  EXPECT_EQ(c.errors, 3u) << c.text;
}

TEST(Names, DuplicateModels) {
  std::string m = model("  input x : f32[4]\n  task t : regress { head = x -> dense(1) }");
  Checked c = check(m + m);
  EXPECT_DIAG(c, "m.mtl:5:7: error: duplicate model 'm'");
  EXPECT_EQ(c.models.size(), 1u);
}

TEST(Names, SeveralModelsAreCheckedIndependently) {
  Checked c =
      check("model a {\n  input x : f32[4]\n  task t : regress { head = x -> dense(1) }\n}\n"
            "model b {\n  input x : f32[4]\n  task t : regress { head = x -> dens(1) }\n}\n");
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_EQ(c.model().name, "a");
  EXPECT_EQ(c.model().sourcePath, "m.mtl");
  EXPECT_DIAG(c, "m.mtl:7:34: error: unknown layer 'dens'");
}

TEST(Names, Inputs) {
  Checked c =
      check(model("  input a : f32[10]\n  input img : f32[1, 28, 28]\n  input ids : i32[8]\n"
                  "  input t : f32\n"
                  "  task r : regress { head = a -> dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  ASSERT_EQ(m.inputs.size(), 4u);
  EXPECT_EQ(m.inputs[0].shape, Shape{10});
  EXPECT_EQ(m.inputs[1].shape, (Shape{1, 28, 28}));
  EXPECT_EQ(m.inputs[2].dtype, DType::I32);
  EXPECT_EQ(m.inputs[3].shape, Shape{1}); // f32 is f32[1]
  EXPECT_EQ(m.inputs[3].dtype, DType::F32);
  for (size_t i = 0; i < m.inputs.size(); ++i) {
    EXPECT_EQ(m.values[i].kind, Value::InputRef);
    EXPECT_EQ(m.values[i].input, static_cast<int>(i));
    EXPECT_EQ(m.values[i].shape, m.inputs[i].shape);
  }
}

TEST(Names, InputErrors) {
  EXPECT_DIAG(check(model("  input x : f3[4]\n  task t : regress { head = x -> dense(1) }")),
              "m.mtl:2:13: error: unknown type 'f3'; did you mean 'f32'?");
  EXPECT_DIAG(check(model("  input x : f64[4]\n  task t : regress { head = x -> dense(1) }")),
              "error: unknown type 'f64'; inputs are 'f32' or 'i32'");
  EXPECT_DIAG(
      check(model("  input x : f32[4, 0]\n  task t : regress { head = x -> flatten -> dense(1) }")),
      "m.mtl:2:16: error: every dimension must be between 1 and 2147483648, got 0");
  EXPECT_DIAG(check(model("  input x : f32[2147483648, 2147483648]\n"
                          "  task t : regress { head = x -> flatten -> dense(1) }")),
              "error: input has more than 2^40 elements per row");
  // A bad input does not cascade into its uses.
  Checked c = check(model("  input x : f64[4]\n  task t : regress { head = x -> dense(9) }"));
  EXPECT_EQ(c.errors, 1u) << c.text;
}

TEST(ConstEval, ArithmeticWhereNumbersAreExpected) {
  Checked c =
      check(model("  input x : f32[4]\n  task t : regress(4) { head = x -> dense(2 * (3 + 1) "
                  "- 4) -> dropout(1 / 4) -> leaky_relu(-0.5) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const std::vector<Layer> &l = c.model().modules[0].layers;
  EXPECT_EQ(l[0].units, 4);
  EXPECT_DOUBLE_EQ(l[1].rate, 0.25);
  EXPECT_DOUBLE_EQ(l[2].alpha, -0.5);
}

TEST(ConstEval, Errors) {
  auto head = [](const std::string &chain) {
    return check(model("  input x : f32[4]\n  task t : regress(4) { head = x -> " + chain + " }"));
  };
  EXPECT_DIAG(head("dropout(1 / (2 - 2))"), "m.mtl:3:49: error: division by zero");
  EXPECT_DIAG(head("leaky_relu(1e300 * 1e300)"),
              "error: arithmetic overflow: the result is not finite");
  EXPECT_DIAG(head("dropout(\"a\")"), "error: expected a number, got a string");
  EXPECT_DIAG(head("dropout([1])"), "error: expected a number, got a list");
  EXPECT_DIAG(head("dropout(p)"), "error: expected a number, got 'p'");
  EXPECT_DIAG(head("dropout(f(1))"), "error: expected a number, got a call to 'f'");
  EXPECT_DIAG(head("dropout(true)"), "error: expected a number, got 'true'");
  // Both sides of an operator are checked.
  Checked both = head("dropout(\"a\" + [1])");
  EXPECT_EQ(both.errors, 2u) << both.text;
}

} // namespace
} // namespace mtl::sema::test
