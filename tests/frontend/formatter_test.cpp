// formatter_test.cpp: `mtlc fmt` output: canonical layout, idempotence, AST round trips, no lost
// comment.
#include "FrontendTestUtil.h"
#include "frontend/FormatLayout.h"
#include "frontend/Formatter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace mtl {
namespace {

using test::AstDump;
using test::Parsed;

const char *const kCanonical = R"(// examples/penguins.mtl: one trunk, three tasks
model penguins {
  input x : f32[4]

  data train = csv("data/penguins.csv", na = "NA") {
    x       = columns(bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g) standardize
    species = column(species) as class // string labels become class ids
  }

  block mlp(width) { dense(width) -> relu }
  shared trunk = x -> mlp(64) -> mlp(32)

  task species : classify(3) {
    head    = trunk -> dense(3)
    loss    = cross_entropy
    weight  = 1.0
    metrics = accuracy, macro_f1
  }

  balance static
  regularize l2(0.0001)
  optimizer adam(lr = 0.001)
  train { epochs = 50, batch = 32, seed = 7, validate = 0.2, shuffle = true }
}
)";

std::string format(const std::string &text) {
  Parsed p(text);
  EXPECT_TRUE(p.file) << p.errors();
  return p.file ? formatFile(*p.file, p.sources) : "";
}

std::vector<std::string> commentTexts(const ast::File &f) {
  std::vector<std::string> out;
  for (const ast::Comment &c : f.comments) {
    std::string text;
    for (size_t i = 0; i < c.text.size(); ++i)
      if (c.text.compare(i, 2, "\r\n") != 0)
        text += c.text[i];
    if (text.rfind("//", 0) == 0)
      text.erase(text.find_last_not_of(" \t\r") + 1);
    out.push_back(text);
  }
  return out;
}

// Formatting keeps the AST and every comment (in order), and a second run changes nothing.
void expectStable(const std::string &text, const std::string &what = "input") {
  Parsed original(text);
  ASSERT_TRUE(original.file) << what << "\n" << original.errors();
  std::string once = formatFile(*original.file, original.sources);
  Parsed again(once);
  ASSERT_TRUE(again.file) << what << " formats to text that does not parse:\n"
                          << again.errors() << once;
  EXPECT_EQ(AstDump::of(*original.file), AstDump::of(*again.file)) << what << "\n" << once;
  EXPECT_EQ(commentTexts(*original.file), commentTexts(*again.file)) << what << "\n" << once;
  EXPECT_EQ(formatFile(*again.file, again.sources), once) << what;
}

TEST(Formatter, CanonicalExampleIsAFixedPoint) { EXPECT_EQ(format(kCanonical), kCanonical); }

TEST(Formatter, DesignExampleBecomesCanonical) {
  std::string messy = R"(// examples/penguins.mtl: one trunk, three tasks
model penguins {   input x:f32[ 4 ]
  data train = csv( "data/penguins.csv" , na="NA" ) {
    x = columns(bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g) standardize
    species = column(species) as class        // string labels become class ids
  }
  block mlp(width) { dense(width)->relu }
  shared trunk = x->mlp(64)->mlp(32)
  task species : classify(3) { head = trunk -> dense(3)
    loss = cross_entropy  weight = 1.0
    metrics = accuracy,macro_f1 }
  balance     static
  regularize  l2(1e-4)
  optimizer   adam(lr = 1e-3)
  train       { epochs = 50 batch = 32, seed = 7, validate = 0.2, shuffle = true, }
})";
  EXPECT_EQ(format(messy), kCanonical);
}

TEST(Formatter, GroupsAreSeparatedAndUserBlankLinesCollapse) {
  std::string text = "\n\nmodel m {\n\n\n  input x : f32[4]\n  input y : f32[2]\n"
                     "  data d = csv(\"a\") {}\n  shared t = x\n  block b { relu }\n"
                     "  task a : binary { head = t }\n  task c : binary { head = t }\n\n\n"
                     "  task e : binary { head = t }\n  balance static\n  optimizer sgd\n"
                     "  train {}\n\n}\nblock top { relu }\n";
  EXPECT_EQ(format(text), "model m {\n"
                          "  input x : f32[4]\n"
                          "  input y : f32[2]\n"
                          "\n"
                          "  data d = csv(\"a\") {}\n"
                          "\n"
                          "  shared t = x\n"
                          "  block b { relu }\n"
                          "\n"
                          "  task a : binary {\n"
                          "    head = t\n"
                          "  }\n"
                          "  task c : binary {\n"
                          "    head = t\n"
                          "  }\n"
                          "\n"
                          "  task e : binary {\n"
                          "    head = t\n"
                          "  }\n"
                          "\n"
                          "  balance static\n"
                          "  optimizer sgd\n"
                          "  train {}\n"
                          "}\n"
                          "\n"
                          "block top { relu }\n");
}

TEST(Formatter, AlignsBindingsAndTaskFields) {
  std::string text = "model m { data d = csv(\"a\") { x = column(a) long_name = column(b) as class"
                     " z = column(c) in [1,2] scale(2) }\n"
                     "task t : binary { head = x metrics = auc, f1 auxiliary } }";
  EXPECT_EQ(format(text), "model m {\n"
                          "  data d = csv(\"a\") {\n"
                          "    x         = column(a)\n"
                          "    long_name = column(b) as class\n"
                          "    z         = column(c) in [1, 2] scale(2)\n"
                          "  }\n"
                          "\n"
                          "  task t : binary {\n"
                          "    head    = x\n"
                          "    metrics = auc, f1\n"
                          "    auxiliary\n"
                          "  }\n"
                          "}\n");
}

TEST(Formatter, TrainStaysOnOneLineUpToOneHundredColumns) {
  // `  train { s = "..." }` is 18 columns plus the string's contents.
  std::string fits = "model m { train { s = \"" + std::string(82, 'a') + "\" } }";
  EXPECT_EQ(format(fits), "model m {\n  train { s = \"" + std::string(82, 'a') + "\" }\n}\n");
  std::string over = "model m { train { s = \"" + std::string(83, 'a') + "\" } }";
  EXPECT_EQ(format(over),
            "model m {\n  train {\n    s = \"" + std::string(83, 'a') + "\"\n  }\n}\n");
  std::string longer = "model m { train { epochs = 5, s = \"" + std::string(84, 'a') + "\" } }";
  EXPECT_EQ(format(longer), "model m {\n"
                            "  train {\n"
                            "    epochs = 5\n"
                            "    s      = \"" +
                                std::string(84, 'a') +
                                "\"\n"
                                "  }\n"
                                "}\n");
}

// A chain that would pass 100 columns breaks after the commas of the calls
// that do not fit, each argument under the first; the steps after a call
// stay on its last line.
TEST(Formatter, LongChainsBreakAfterTheCommasOfTheirCalls) {
  std::string out = format(
      "block cgc(shared_experts, task_experts, expert) { mix(each_task(in -> gate(task_experts + "
      "shared_experts)), each_task(repeat(task_experts, in -> expert)), repeat(shared_experts, in "
      "-> expert)) }\nmodel m { shared moe = x -> mmoe(experts = 4, expert = expert(16) -> "
      "dropout(0.25) -> dense(16), gate = [1, 2, 3])\n task a : regress { head = concat(moe -> "
      "dense(64) -> relu -> dense(64), x -> dense(64) -> relu -> dense(64)) -> dense(1) // why\n "
      "metrics = mse } }");
  EXPECT_EQ(out, "block cgc(shared_experts, task_experts, expert) {\n"
                 "  mix(each_task(in -> gate(task_experts + shared_experts)),\n"
                 "      each_task(repeat(task_experts, in -> expert)),\n"
                 "      repeat(shared_experts, in -> expert))\n"
                 "}\n"
                 "\n"
                 "model m {\n"
                 "  shared moe = x -> mmoe(experts = 4,\n"
                 "                         expert = expert(16) -> dropout(0.25) -> dense(16),\n"
                 "                         gate = [1, 2, 3])\n"
                 "\n"
                 "  task a : regress {\n"
                 "    head    = concat(moe -> dense(64) -> relu -> dense(64),\n"
                 "                     x -> dense(64) -> relu -> dense(64)) -> dense(1) // why\n"
                 "    metrics = mse\n"
                 "  }\n"
                 "}\n");
  expectStable(out);
  // What fits stays on one line; a step before one that breaks stays whole.
  EXPECT_EQ(format("block b(k) { mix(each_task(in -> gate(k)), repeat(k, in -> dense(4))) }"),
            "block b(k) { mix(each_task(in -> gate(k)), repeat(k, in -> dense(4))) }\n");
  std::string out2 = format("model m { shared ext = concat(x, x) -> ple(levels = 2, shared_experts "
                            "= 2, task_experts = 1, expert = expert(16) -> dropout(0.5)) }");
  EXPECT_EQ(out2, "model m {\n"
                  "  shared ext = concat(x, x) -> ple(levels = 2,\n"
                  "                                   shared_experts = 2,\n"
                  "                                   task_experts = 1,\n"
                  "                                   expert = expert(16) -> dropout(0.5))\n"
                  "}\n");
  expectStable(out2);
}

// A data set's source and bindings break as chains do, the bindings'
// modifiers after the last line.
TEST(Formatter, LongDataSourcesAndBindingsBreakAfterCommas) {
  const std::string images = "\"/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz\"";
  const std::string labels = "\"/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz\"";
  std::string out =
      format("model m { data train = idx(images = " + images + ", labels = " + labels +
             ") { x = images scale(1 / 255) }\n data t = csv(\"t.csv\") "
             "{ x = columns(bill_length_mm, bill_depth_mm, flipper_length_mm, "
             "body_mass_g, island_code) standardize } }");
  EXPECT_EQ(out, "model m {\n"
                 "  data train = idx(images = " +
                     images +
                     ",\n"
                     "                   labels = " +
                     labels +
                     ") {\n"
                     "    x = images scale(1 / 255)\n"
                     "  }\n"
                     "  data t = csv(\"t.csv\") {\n"
                     "    x = columns(bill_length_mm,\n"
                     "                bill_depth_mm,\n"
                     "                flipper_length_mm,\n"
                     "                body_mass_g,\n"
                     "                island_code) standardize\n"
                     "  }\n"
                     "}\n");
  expectStable(out);
}

// A chain in parentheses inside a chain keeps them: it takes one position
// (`v.0.0`), so dropping them would rename the layers.
TEST(Formatter, ParenthesisedChainsKeepTheirParentheses) {
  std::string out = format("model m { shared v = (x -> dense(4) -> relu) -> dense(2)\n task a : "
                           "regress { head = ((v -> dense(3)) -> relu) -> dense(1) } }");
  EXPECT_EQ(out, "model m {\n"
                 "  shared v = (x -> dense(4) -> relu) -> dense(2)\n"
                 "\n"
                 "  task a : regress {\n"
                 "    head = ((v -> dense(3)) -> relu) -> dense(1)\n"
                 "  }\n"
                 "}\n");
  expectStable(out);
}

TEST(Formatter, ExpressionsKeepOnlyNeededParentheses) {
  std::string out = format("model m { balance f((a + b) * c, a - (b - c), (a - b) - c, -(a + b), "
                           "a * -b, ((a)), a / (b * c), -(-a), (1) .. (2 + 3)) }");
  EXPECT_EQ(out, "model m {\n  balance f((a + b) * c, a - (b - c), a - b - c, -(a + b), a * -b, a, "
                 "a / (b * c), --a, 1..2 + 3)\n}\n");
  expectStable(out);
}

TEST(Formatter, LiteralsRoundTrip) {
  std::string out = format("model m { optimizer f(1e-3, 1e-4, 1e-5, 1e-8, 1.0, 100.0, 1e15, 1e16, "
                           "2.5e-7, 0.1, .5, 3, 0.30000000000000004, \"q\\\"\\\\\\n\\t\", true) }");
  EXPECT_EQ(out, "model m {\n  optimizer f(0.001, 0.0001, 1e-5, 1e-8, 1.0, 100.0, "
                 "1000000000000000.0, 1e16, 2.5e-7, 0.1, 0.5, 3, 0.30000000000000004, "
                 "\"q\\\"\\\\\\n\\t\", true)\n}\n");
  expectStable(out);
}

TEST(Formatter, PlacesCommentsWhereTheyBelong) {
  std::string text = "/* header */\n\nimport \"a.mtl\" // why a\n// before the model\nmodel m { "
                     "// opens\n  /* lead */ input x : f32[4] // trailing\n  input y : /* inner "
                     "*/ f32[2]\n  train { epochs = 5, // five\n batch = 2 }\n  // last word\n} "
                     "// after\n// end of file\n";
  EXPECT_EQ(format(text), "/* header */\n"
                          "\n"
                          "import \"a.mtl\" // why a\n"
                          "\n"
                          "// before the model\n"
                          "model m { // opens\n"
                          "  /* lead */\n"
                          "  input x : f32[4] // trailing\n"
                          "  /* inner */\n"
                          "  input y : f32[2]\n"
                          "\n"
                          "  train {\n"
                          "    epochs = 5 // five\n"
                          "    batch  = 2\n"
                          "  }\n"
                          "  // last word\n"
                          "} // after\n"
                          "// end of file\n");
  expectStable(text);
}

TEST(Formatter, BlockWithCommentInsideGoesMultiLine) {
  std::string out = format("block b(k) { dense(k) -> relu // why relu\n }\nmodel m { data d = "
                           "csv(\"x\") { /* none yet */ } }");
  EXPECT_EQ(out, "block b(k) {\n"
                 "  dense(k) -> relu // why relu\n"
                 "}\n"
                 "\n"
                 "model m {\n"
                 "  data d = csv(\"x\") { /* none yet */\n"
                 "  }\n"
                 "}\n");
  expectStable(out);
}

TEST(Formatter, CrlfBecomesLf) {
  std::string text = "model m { // c \r\n  input x : f32[4] /* a\r\n b */\r\n}\r\n";
  EXPECT_EQ(format(text), "model m { // c\n  input x : f32[4] /* a\n b */\n}\n");
  expectStable(text);
}

TEST(Formatter, EmptyAndCommentOnlyFiles) {
  EXPECT_EQ(format(""), "");
  EXPECT_EQ(format("\n\n  \n"), "");
  EXPECT_EQ(format("// one\n\n\n/* two\n   lines */   \n"), "// one\n\n/* two\n   lines */\n");
  EXPECT_EQ(format("model m {}"), "model m {}\n");
  EXPECT_EQ(format("model m {\n\n}"), "model m {}\n");
}

// A comment before every token and after every line: each one must survive,
// in order, wherever it had to go.
TEST(Formatter, NoCommentIsEverLost) {
  SourceManager sm;
  int id = sm.add("canon.mtl", kCanonical);
  format::SourceTokens tokens(sm, id);
  ASSERT_GT(tokens.size(), 100);
  std::vector<size_t> lineStart{0};
  for (size_t i = 0; kCanonical[i]; ++i)
    if (kCanonical[i] == '\n')
      lineStart.push_back(i + 1);
  std::string text = kCanonical;
  std::string blockStyle = text, lineStyle = text;
  for (int t = tokens.size() - 1; t >= 0; --t) {
    size_t at = lineStart[tokens.line(t) - 1] + tokens.col(t) - 1;
    blockStyle.insert(at, " /*c" + std::to_string(t) + "*/ ");
    lineStyle.insert(at, "// k" + std::to_string(t) + "\n");
  }
  for (bool block : {true, false}) {
    const std::string &variant = block ? blockStyle : lineStyle;
    expectStable(variant, variant);
    std::string out = format(variant);
    for (int t = 0; t < tokens.size(); ++t) {
      std::string mark =
          block ? "/*c" + std::to_string(t) + "*/" : "// k" + std::to_string(t) + "\n";
      EXPECT_NE(out.find(mark), std::string::npos) << mark << "\n" << out;
    }
  }
}

TEST(Formatter, ExamplesAndGoldenInputsAreStable) {
  namespace fs = std::filesystem;
  int checked = 0;
  for (const char *dir :
       {"examples", "examples/lib", "tests/diagnostics/valid", "tests/diagnostics/cases"}) {
    fs::path root = fs::path(MTL_SOURCE_DIR) / dir;
    if (!fs::is_directory(root))
      continue;
    for (const auto &entry : fs::directory_iterator(root)) {
      if (entry.path().extension() != ".mtl")
        continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      Parsed p(text.str());
      if (!p.file)
        continue; // syntax-error cases have nothing to format
      expectStable(text.str(), entry.path().string());
      ++checked;
    }
  }
  std::cout << "[ formatted " << checked << " files ]\n";
}

} // namespace
} // namespace mtl
