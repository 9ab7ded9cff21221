// robustness_test.cpp: sema never crashes, whatever well-formed AST the parser hands it.
#include "SemaTestUtil.h"

#include <random>
#include <set>
#include <sstream>

namespace mtl::sema::test {
namespace {

TEST(Robustness, ValuesWhereNamesAreExpectedAndViceVersa) {
  Checked c = check(
      model("  input x : f32[4]\n  input y : i32[0]\n"
            "  block b(p = q, r = p / 0) { dense(-\"a\") -> [1] -> \"s\" -> 3 -> x.y -> b.c(1) }\n"
            "  shared soft(soft(1)) s = [x] -> 1 + 2\n  shared h = \"x\"\n"
            "  task t : 1 + 2 { head = [1, 2] -> \"a\" -> dense([1]) -> 3 loss = \"mse\" metrics = "
            "[a], 3 "
            "weight = x auxiliary = [true] }\n"
            "  task u : regress(9007199254740992) { head = x -> dense(9007199254740992) }\n"
            "  task v : classify(-3) { head = x.y(1) -> b }\n"
            "  data d = [1] { x = 3 y = column([1]) t = columns(a..b, 1..\"z\", n = 2) }\n"
            "  data e = csv(1, header = \"yes\", sep = 3, na = 4, skip = [1]) { x = images in "
            "[\"a\"] scale(\"b\") }\n"
            "  balance [1]\n  regularize \"a\" on x, b, nothing\n  optimizer 3\n"
            "  train { data = 3, validate = [1], test = \"q\", early_stop = early_stop(monitor = "
            "3, patience = 1e20) }"));
  ASSERT_TRUE(c.parsed) << c.text;
  EXPECT_GT(c.errors, 20u);
  EXPECT_TRUE(c.models.empty());
}

TEST(Robustness, DeepExpressions) {
  std::string sum = "1";
  for (int i = 0; i < 900; ++i)
    sum += " + 1";
  std::string neg(500, '-');
  Checked c = check(model("  input x : f32[4]\n  task t : regress(901) { head = x -> dense(" + sum +
                          ") -> leaky_relu(" + neg + "1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  EXPECT_EQ(c.model().modules[0].layers[0].units, 901);
}

TEST(Robustness, ManyDeclarations) {
  std::string body = "  input x : f32[4]\n";
  for (int i = 0; i < 2000; ++i)
    body += "  shared s" + std::to_string(i) + " = " + (i ? "s" + std::to_string(i - 1) : "x") +
            " -> relu\n";
  body += "  task t : regress(4) { head = s1999 }";
  Checked c = check(model(body));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  EXPECT_EQ(c.model().modules.size(), 2000u);
}

TEST(Robustness, LongSharedCycle) {
  std::string body = "  input x : f32[4]\n";
  for (int i = 0; i < 3000; ++i)
    body +=
        "  shared s" + std::to_string(i) + " = s" + std::to_string((i + 1) % 3000) + " -> relu\n";
  body += "  task t : regress(4) { head = s0 }";
  Checked c = check(model(body));
  EXPECT_EQ(c.errors, 1u);
  EXPECT_DIAG(c, "error: shared block 's0' uses itself through 's1', ");
}

TEST(Robustness, EmptyInputs) {
  SourceManager sm;
  DiagnosticEngine d(sm);
  EXPECT_TRUE(analyze({}, sm, d).empty());
  EXPECT_TRUE(check("").models.empty());
  EXPECT_EQ(check("").text, "");
  ast::File f; // a hand-made AST with empty chains and no locations
  ast::ModelDecl m;
  m.name.text = "m";
  ast::TaskDecl t;
  t.name.text = "t";
  t.kind.kind = ast::ExprKind::Name;
  t.kind.text = "binary";
  ast::TaskField head;
  head.key.text = "head";
  head.values.emplace_back();
  t.fields.push_back(head);
  m.items.push_back(t);
  m.items.push_back(ast::SharedDecl{{"s", {}}, std::nullopt, ast::Chain{}, {}});
  m.items.push_back(ast::BlockDecl{{"b", {}}, {}, false, ast::Chain{}, {}});
  ast::DataDecl data;
  data.name.text = "train";
  data.source.kind = ast::ExprKind::Call;
  data.source.text = "csv";
  data.source.args.emplace_back();
  data.source.args.back().value.kind = ast::ExprKind::String;
  data.source.args.back().value.text = "x.csv";
  m.items.push_back(data);
  f.items.push_back(m);
  EXPECT_TRUE(analyze({f}, sm, d).empty());
}

// What every returned model promises to lowering (Model.h's contract).
void expectWellFormed(const Model &m, const std::string &text) {
  for (size_t i = 0; i < m.values.size(); ++i) {
    const Value &v = m.values[i];
    if (v.kind == Value::InputRef) {
      ASSERT_EQ(v.input, static_cast<int>(i)) << text;
      EXPECT_EQ(v.shape, m.inputs[i].shape) << text;
      continue;
    }
    ASSERT_GE(v.arg, 0) << text;
    ASSERT_LT(v.arg, static_cast<int>(i)) << text;
    ASSERT_GE(v.module, 0) << text;
    ASSERT_LT(v.module, static_cast<int>(m.modules.size())) << text;
    const Module &mod = m.modules[v.module];
    ASSERT_FALSE(mod.layers.empty()) << text;
    EXPECT_EQ(mod.layers.front().inShape, m.values[v.arg].shape) << text;
    EXPECT_EQ(mod.layers.back().outShape, v.shape) << text;
  }
  for (const Module &mod : m.modules)
    for (size_t i = 0; i < mod.layers.size(); ++i) {
      EXPECT_FALSE(mod.layers[i].paramPrefix.empty()) << text;
      if (i > 0) {
        EXPECT_EQ(mod.layers[i].inShape, mod.layers[i - 1].outShape) << text;
      }
    }
  for (const Task &t : m.tasks) {
    ASSERT_GE(t.head, 0) << text;
    ASSERT_LT(t.head, static_cast<int>(m.values.size())) << text;
    EXPECT_EQ(m.values[t.head].shape, Shape{t.width}) << text;
    EXPECT_FALSE(t.metrics.empty()) << text;
  }
  for (const SoftGroup &g : m.softGroups)
    for (int id : g.modules)
      EXPECT_EQ(m.modules.at(id).softGroup, &g - m.softGroups.data()) << text;
  for (const Regularizer &r : m.regularizers)
    for (int id : r.modules)
      EXPECT_LT(id, static_cast<int>(m.modules.size())) << text;
}

// Mutates a valid model word by word and checks that nothing crashes.
TEST(Robustness, MutatedModels) {
  const std::string base =
      "import \"lib.mtl\"\nblock mlp(width, p = 0.1) { dense(width) -> relu -> dropout(p) }\n"
      "model m {\n input x : f32[4]\n input img : f32[1, 4, 4]\n input ids : i32[3]\n"
      " data train = csv(\"data/p.csv\", na = \"NA\") {\n  x = columns(a, b, 2..4) standardize\n"
      "  species = column(species) as class\n  sex = column(sex) in [1, 2]\n  img = "
      "columns(0..16)\n"
      "  ids = columns(0..3)\n  idt = columns(5, 6)\n  aux = columns(0..8)\n }\n"
      " data val = synthetic(rows = 10) {}\n"
      " shared soft(0.1) trunk = x -> mlp(8) -> tower\n task aux : regress(8) { head = trunk }\n "
      "shared enc = dense(4) -> relu\n"
      " task species : classify(3) { head = trunk -> dense(3) loss = cross_entropy metrics = "
      "accuracy }\n"
      " task sex : binary { head = img -> flatten -> dense(4) -> enc -> dense(1) weight = 0.5 "
      "auxiliary }\n"
      " task idt : regress(2) { head = ids -> embedding(10, 2) -> flatten -> dense(2) loss = "
      "huber(1) }\n"
      " balance static\n regularize l2(1e-4) on trunk, species\n optimizer adamw(lr = 0.01)\n"
      " train { epochs = 2, validate = val, early_stop = early_stop(monitor = species.accuracy) "
      "}\n}\n";
  const std::string lib = "block tower { dense(8) -> layer_norm }\n";
  const std::vector<std::string> pool = {"dense",
                                         "relu",
                                         "x",
                                         "trunk",
                                         "enc",
                                         "0",
                                         "-1",
                                         "1e308",
                                         "[1]",
                                         "\"s\"",
                                         "mlp",
                                         "soft(1)",
                                         "species.accuracy",
                                         "mlp(0)",
                                         "img",
                                         "ids",
                                         "tower",
                                         "true",
                                         "column(9)",
                                         "3.5",
                                         "species",
                                         "sex",
                                         "dense(1)",
                                         "flatten",
                                         "val",
                                         "train",
                                         "sgd(0)",
                                         "l1(1)",
                                         "classify(2)",
                                         "binary",
                                         "mse",
                                         "auc",
                                         "b",
                                         "2..1",
                                         "softmax"};
  const std::set<std::string> structural = {
      "{",      "}",    "{}",      "model",      "input",     "data",  "block",
      "shared", "task", "balance", "regularize", "optimizer", "train", "import",
      "=",      ":",    "->",      ",",          "on"};
  Checked unmutated = check(base, "m.mtl", {{"lib.mtl", lib}});
  ASSERT_EQ(unmutated.models.size(), 1u) << unmutated.text;
  expectWellFormed(unmutated.model(), base);
  std::vector<std::string> words;
  std::istringstream in(base);
  for (std::string w; in >> w;)
    words.push_back(w);
  std::mt19937 rng(1234);
  int parsed = 0, accepted = 0;
  for (int iter = 0; iter < 1500; ++iter) {
    std::vector<std::string> w = words;
    int edits = 1 + static_cast<int>(rng() % 2);
    for (int e = 0; e < edits; ++e) {
      size_t i = rng() % w.size();
      if (structural.count(w[i]) && rng() % 8)
        continue; // mostly keep the structure, so that the text still parses
      switch (rng() % 4) {
      case 0:
        w.erase(w.begin() + i);
        break;
      case 1:
        w.insert(w.begin() + i, w[rng() % w.size()]);
        break;
      default:
        w[i] = pool[rng() % pool.size()];
        break;
      }
    }
    std::string text;
    for (const std::string &s : w)
      text += s + (rng() % 4 ? " " : "\n");
    Checked c = check(text, "m.mtl", {{"lib.mtl", lib}});
    parsed += c.parsed;
    for (const Model &m : c.models)
      expectWellFormed(m, text);
    accepted += !c.models.empty();
    if (c.parsed && c.models.empty()) {
      EXPECT_NE(c.text.find("error"), std::string::npos) << "rejected without an error:\n" << text;
    }
  }
  // The mutations must reach sema, and pass it, often enough to mean something.
  EXPECT_GT(parsed, 300);
  EXPECT_GT(accepted, 50);
  std::printf("mutants: %d parsed, %d accepted\n", parsed, accepted);
}

} // namespace
} // namespace mtl::sema::test
