// recovery_test.cpp: misspelt keywords get "did you mean" and are read as the keyword; after a
// syntax error the parser resumes at the next declaration and the rest of the file is kept.
#include "FrontendTestUtil.h"

#include <gtest/gtest.h>

namespace mtl {
namespace {

using test::Parsed;

// Parsed with SyntaxErrorPolicy::RecoveredAst, as `mtlc check` does.
struct Recovered : Parsed {
  explicit Recovered(std::string text)
      : Parsed(std::move(text), "test.mtl", SyntaxErrorPolicy::RecoveredAst) {}

  // Whether an error reported now at `line`:`col` (`length` wide) would be kept.
  bool reports(int line, int col, int length = 1) {
    unsigned before = diags.errorCount();
    diags.error({id, line, col, length}, "probe");
    return diags.errorCount() != before;
  }
};

std::vector<std::string> messages(const Parsed &p) {
  std::vector<std::string> out;
  for (const Diagnostic &d : p.diags.diagnostics())
    out.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + " " + d.message);
  return out;
}

TEST(Recovery, MisspeltModelItemIsReadAsTheItem) {
  Recovered p("model m {\n"
              "  inptu x : f32[4]\n"
              "  tsak y : binary { head = x -> dense(1) }\n"
              "  optimiser adam(lr = 0.01)\n"
              "  Train { epochs = 2 }\n"
              "}\n");
  EXPECT_EQ(messages(p), (std::vector<std::string>{
                             "2:3 unknown model item 'inptu'; did you mean 'input'?",
                             "3:3 unknown model item 'tsak'; did you mean 'task'?",
                             "4:3 unknown model item 'optimiser'; did you mean 'optimizer'?",
                             "5:3 unknown model item 'Train'; did you mean 'train'?"}));
  ASSERT_TRUE(p.file);
  const ast::ModelDecl &m = p.model();
  ASSERT_EQ(m.items.size(), 4u);
  EXPECT_EQ(p.item<ast::InputDecl>(0).name.text, "x");
  EXPECT_EQ(p.item<ast::TaskDecl>(1).fields.size(), 1u);
  EXPECT_EQ(p.item<ast::OptimizerDecl>(2).optimizer.text, "adam");
  EXPECT_EQ(p.item<ast::TrainDecl>(3).settings.size(), 1u);
  // For mtlc fmt there is no AST to rewrite.
  EXPECT_FALSE(Parsed(p.sources.text(p.id)).file);
}

TEST(Recovery, MisspeltTopLevelWordsAndOn) {
  Recovered p("improt \"lib.mtl\"\n"
              "blokc b { relu }\n"
              "modle m {\n"
              "  regularize l2(0.1) no trunk\n"
              "}\n");
  EXPECT_EQ(messages(p),
            (std::vector<std::string>{"1:1 unknown declaration 'improt'; did you mean 'import'?",
                                      "2:1 unknown declaration 'blokc'; did you mean 'block'?",
                                      "3:1 unknown declaration 'modle'; did you mean 'model'?",
                                      "4:22 unexpected 'no'; did you mean 'on'?"}));
  ASSERT_TRUE(p.file);
  EXPECT_EQ(p.file->imports.size(), 1u);
  ASSERT_EQ(p.file->items.size(), 2u);
  EXPECT_EQ(p.item<ast::RegularizeDecl>(0, 1).terms[0].targets[0].text, "trunk");
}

TEST(Recovery, WordsFarFromEveryKeywordAreSyntaxErrors) {
  Recovered p("model m {\n  lossfunction x\n  input x : f32[4]\n}\n");
  EXPECT_EQ(messages(p), (std::vector<std::string>{
                             "2:3 unexpected 'lossfunction'; expected '}' or a model item"}));
  // The stray words are skipped and the input after them is kept; what they
  // might have declared is not reported as unknown.
  ASSERT_TRUE(p.file);
  EXPECT_EQ(p.model().items.size(), 1u);
  EXPECT_FALSE(p.reports(3, 9));
  EXPECT_FALSE(p.reports(1, 7));
}

TEST(Recovery, ErrorInOneDeclarationDoesNotHideTheNext) {
  Recovered p("model m {\n"
              "  input x : f32[4 4]\n"
              "  data train = csv(\"a.csv\") {\n"
              "    x = columns(a, b,, c, d)\n"
              "    y = column(label)\n"
              "    z = columns(a b)\n"
              "  }\n"
              "  task y : binary {\n"
              "    head = x -> dense(1) ->\n"
              "    loss = bce\n"
              "  }\n"
              "  optimizer adam(lr = )\n"
              "  train { epochs = 2 }\n"
              "}\n");
  EXPECT_EQ(messages(p),
            (std::vector<std::string>{"2:19 unexpected '4'; expected ',' or ']'",
                                      "4:22 unexpected ','; expected an expression",
                                      "6:19 unexpected 'b'; expected ',' or ')'",
                                      "10:10 unexpected '='; expected '}' or a name",
                                      "12:23 unexpected ')'; expected an expression"}));
  ASSERT_TRUE(p.file);
  // Kept: the data set with its one whole binding, the task (whose fields
  // the checker will keep quiet about: `loss` continued the chain, so the
  // '=' was dropped) and the train block.
  const ast::ModelDecl &m = p.model();
  ASSERT_EQ(m.items.size(), 3u);
  const auto &d = p.item<ast::DataDecl>(0);
  ASSERT_EQ(d.bindings.size(), 1u);
  EXPECT_EQ(d.bindings[0].target.text, "y");
  EXPECT_FALSE(p.reports(9, 5));
  EXPECT_EQ(p.item<ast::TrainDecl>(2).settings.size(), 1u);
}

TEST(Recovery, SkippedPartsAreKeptQuiet) {
  Recovered p("model m {\n"
              "  input x : f32[4 4]\n"
              "  data train = synthetic(rows = 1) {}\n"
              "  task y : binary {\n"
              "    head = x -> dense(1 1)\n"
              "    loss = bce\n"
              "  }\n"
              "  task z : binary { head = x -> dense(1) }\n"
              "}\n");
  ASSERT_TRUE(p.file);
  // Inside the task that lost its head, and at the model's name ("has no
  // task"), later errors would be about the lost text.
  EXPECT_FALSE(p.reports(4, 8));
  EXPECT_FALSE(p.reports(6, 12));
  EXPECT_FALSE(p.reports(1, 7));
  // Every use of the input that was left out would be reported as unknown.
  EXPECT_FALSE(p.reports(8, 28));
  // Elsewhere errors are reported as usual.
  EXPECT_TRUE(p.reports(3, 3));
  EXPECT_TRUE(p.reports(8, 33, 5));
}

TEST(Recovery, MissingCloseBraceIsFoundByIndentation) {
  Recovered p("model m {\n"
              "  data train = synthetic(rows = 1) {\n"
              "  task y : binary {\n"
              "    head = x -> dense(1)\n"
              "  optimizer adam(lr = 0.01)\n"
              "}\n");
  EXPECT_EQ(p.errors(), "test.mtl:3:3: error: expected '}' before 'task'\n"
                        "  task y : binary {\n"
                        "  ^~~~\n"
                        "test.mtl:2:36: note: to match this '{'\n"
                        "  data train = synthetic(rows = 1) {\n"
                        "                                   ^\n"
                        "test.mtl:5:3: error: expected '}' before 'optimizer'\n"
                        "  optimizer adam(lr = 0.01)\n"
                        "  ^~~~~~~~~\n"
                        "test.mtl:3:19: note: to match this '{'\n"
                        "  task y : binary {\n"
                        "                  ^\n"
                        "2 errors generated.\n");
  // Nothing was lost: every item is there, whole.
  ASSERT_TRUE(p.file);
  EXPECT_EQ(p.model().items.size(), 3u);
  EXPECT_EQ(p.item<ast::TaskDecl>(1).fields.size(), 1u);
  EXPECT_TRUE(p.reports(3, 8));
}

TEST(Recovery, BindingWithoutEqualsOnItsOwnLine) {
  // A name that starts a line starts a binding, never a modifier.
  Recovered p(
      "model m {\n  data d = csv(\"a.csv\") {\n    x = columns(a)\n    y column(b)\n  }\n}\n");
  EXPECT_EQ(messages(p), (std::vector<std::string>{"4:7 expected '=' before 'column'"}));
}

TEST(Recovery, ClosingBracketIsNotTakenForAStrayToken) {
  // Deleting ')' would read the next line's `train` as the missing value.
  Recovered p("model m {\n  optimizer adam(lr = )\n  train { epochs = 2 }\n}\n");
  EXPECT_EQ(messages(p), (std::vector<std::string>{"2:23 unexpected ')'; expected an expression"}));
  ASSERT_TRUE(p.file);
  EXPECT_EQ(p.item<ast::TrainDecl>(0).settings.size(), 1u);
}

TEST(Recovery, ADeclarationWithAWrongLiteralIsLeftOutAndTheRestChecked) {
  // An integer too large, a number too large, a bad escape: the innermost
  // declaration holding one is left out, as a damaged one is, and its names are quiet.
  Recovered p("import \"lib\\q.mtl\"\n"
              "block wide(n) { dense(1e999) }\n"
              "model m {\n"
              "  input x : f32[99999999999999999999]\n"
              "  shared h = x -> dense(1e400)\n"
              "  task t : regress { head = h -> dense(1) }\n"
              "}\n");
  EXPECT_EQ(messages(p),
            (std::vector<std::string>{
                "1:12 unknown escape sequence '\\q' in string; use \\\\, \\\", \\n or \\t",
                "2:23 number '1e999' is too large (the largest is about 1.8e308)",
                "4:17 integer '99999999999999999999' is too large; the limit is 2^53",
                "5:25 number '1e400' is too large (the largest is about 1.8e308)"}));
  ASSERT_TRUE(p.file);
  EXPECT_TRUE(p.file->imports.empty());
  ASSERT_EQ(p.file->items.size(), 1u); // the model, without the block
  ASSERT_EQ(p.model().items.size(), 1u);
  EXPECT_EQ(p.item<ast::TaskDecl>(0).name.text, "t");
  EXPECT_FALSE(p.reports(6, 29, 1)); // `h`, which the left-out shared value declared
  EXPECT_TRUE(p.reports(6, 37));
  EXPECT_FALSE(Parsed(p.sources.text(p.id)).file); // mtlc fmt: no AST after errors
}

TEST(Recovery, StrayTopLevelTextLeavesNoAst) {
  // What skipped top-level text declared is unknown, so nothing is checked.
  Recovered p("input x : f32[4]\nmodel m { input x : f32[4] }\n");
  EXPECT_EQ(messages(p), (std::vector<std::string>{
                             "1:1 unexpected 'input'; expected one of end of file, 'import', "
                             "'model', 'block'"}));
  EXPECT_FALSE(p.file);
}

} // namespace
} // namespace mtl
