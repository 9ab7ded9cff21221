// ast_builder_test.cpp: every construct of the grammar becomes the right AST node at the right
// place.
#include "FrontendTestUtil.h"

#include <gtest/gtest.h>

namespace mtl {
namespace {

using test::Parsed;
using test::sexpr;

// Checks a location's line and column (and, where given, its width).
void expectAt(const SourceLoc &loc, int line, int col, int length = 0) {
  EXPECT_TRUE(loc.valid());
  EXPECT_EQ(loc.line, line);
  EXPECT_EQ(loc.col, col);
  if (length) {
    EXPECT_EQ(loc.length, length);
  }
}

TEST(AstBuilder, Inputs) {
  Parsed p("model m {\n"
           "  input x : f32[4]\n"
           "  input img : f32[1, 28, 28]\n"
           "  input s : i32\n"
           "}\n");
  ASSERT_TRUE(p.file) << p.errors();
  const ast::ModelDecl &m = p.model();
  EXPECT_EQ(m.name.text, "m");
  expectAt(m.loc, 1, 1, 7);
  expectAt(m.closeLoc, 5, 1);
  ASSERT_EQ(m.items.size(), 3u);
  const auto &x = p.item<ast::InputDecl>(0);
  EXPECT_EQ(x.name.text, "x");
  EXPECT_EQ(x.dtype.text, "f32");
  EXPECT_EQ(x.dims, std::vector<int64_t>{4});
  expectAt(x.loc, 2, 3, 16);
  expectAt(x.name.loc, 2, 9);
  expectAt(x.dtype.loc, 2, 13);
  expectAt(x.shapeLoc, 2, 16, 3);
  EXPECT_EQ(p.item<ast::InputDecl>(1).dims, (std::vector<int64_t>{1, 28, 28}));
  EXPECT_TRUE(p.item<ast::InputDecl>(2).dims.empty());
  EXPECT_FALSE(p.item<ast::InputDecl>(2).shapeLoc.valid());
}

TEST(AstBuilder, DataBindingsAndModifiers) {
  Parsed p("model m {\n"
           "  data train = csv(\"a.csv\", na = \"NA\", sep = \",\") {\n"
           "    x = columns(0..4) standardize\n"
           "    y = column(label) as class\n"
           "    z = column(v) scale(0.5) in [1, 2]\n"
           "  }\n"
           "}\n");
  ASSERT_TRUE(p.file) << p.errors();
  const auto &d = p.item<ast::DataDecl>(0);
  EXPECT_EQ(d.name.text, "train");
  expectAt(d.loc, 2, 3);
  expectAt(d.name.loc, 2, 8);
  EXPECT_EQ(sexpr(d.source), "(call csv \"a.csv\" na=\"NA\" sep=\",\")");
  expectAt(d.source.loc, 2, 16);
  ASSERT_EQ(d.source.args.size(), 3u);
  expectAt(d.source.args[0].loc, 2, 20);
  expectAt(d.source.args[1].loc, 2, 29);
  expectAt(d.source.args[1].name.loc, 2, 29);
  expectAt(d.source.args[1].value.loc, 2, 34);

  ASSERT_EQ(d.bindings.size(), 3u);
  const ast::Binding &x = d.bindings[0];
  EXPECT_EQ(x.target.text, "x");
  expectAt(x.loc, 3, 5);
  EXPECT_EQ(sexpr(x.source), "(call columns i0..i4)");
  expectAt(x.source.args[0].value.loc, 3, 17);
  expectAt(x.source.args[0].rangeEnd->loc, 3, 20);
  ASSERT_EQ(x.modifiers.size(), 1u);
  EXPECT_EQ(x.modifiers[0].kind, ast::Modifier::Standardize);
  expectAt(x.modifiers[0].loc, 3, 23);

  const ast::Binding &y = d.bindings[1];
  ASSERT_EQ(y.modifiers.size(), 1u);
  EXPECT_EQ(y.modifiers[0].kind, ast::Modifier::As);
  EXPECT_EQ(y.modifiers[0].asName.text, "class");
  expectAt(y.modifiers[0].loc, 4, 23);
  expectAt(y.modifiers[0].asName.loc, 4, 26);

  const ast::Binding &z = d.bindings[2];
  ASSERT_EQ(z.modifiers.size(), 2u);
  EXPECT_EQ(z.modifiers[0].kind, ast::Modifier::Scale);
  ASSERT_EQ(z.modifiers[0].values.size(), 1u);
  EXPECT_EQ(sexpr(z.modifiers[0].values[0]), "n0.5");
  expectAt(z.modifiers[0].values[0].loc, 5, 25);
  EXPECT_EQ(z.modifiers[1].kind, ast::Modifier::In);
  ASSERT_EQ(z.modifiers[1].values.size(), 2u);
  EXPECT_EQ(sexpr(z.modifiers[1].values[1]), "i2");
  expectAt(z.modifiers[1].loc, 5, 30);
}

TEST(AstBuilder, Blocks) {
  Parsed p("block mlp(width, p = 0.1) { dense(width) -> relu -> dropout(p) }\n"
           "block id { x }\n"
           "block e() { x }\n"
           "model m { block inner(k) { dense(k) } }\n");
  ASSERT_TRUE(p.file) << p.errors();
  ASSERT_EQ(p.file->items.size(), 4u);
  const auto &mlp = std::get<ast::BlockDecl>(p.file->items[0]);
  EXPECT_EQ(mlp.name.text, "mlp");
  expectAt(mlp.loc, 1, 1, 9);
  EXPECT_TRUE(mlp.hasParens);
  ASSERT_EQ(mlp.params.size(), 2u);
  EXPECT_EQ(mlp.params[0].name.text, "width");
  expectAt(mlp.params[0].name.loc, 1, 11);
  EXPECT_FALSE(mlp.params[0].defaultValue);
  ASSERT_TRUE(mlp.params[1].defaultValue);
  EXPECT_EQ(sexpr(*mlp.params[1].defaultValue), "n0.1");
  expectAt(mlp.params[1].defaultValue->loc, 1, 22);
  ASSERT_EQ(mlp.body.steps.size(), 3u);
  expectAt(mlp.body.loc, 1, 29);
  EXPECT_EQ(sexpr(mlp.body.steps[0]), "(call dense width)");
  EXPECT_EQ(sexpr(mlp.body.steps[1]), "relu");
  expectAt(mlp.body.steps[1].loc, 1, 45, 4);

  const auto &id = std::get<ast::BlockDecl>(p.file->items[1]);
  EXPECT_FALSE(id.hasParens);
  EXPECT_TRUE(id.params.empty());
  const auto &e = std::get<ast::BlockDecl>(p.file->items[2]);
  EXPECT_TRUE(e.hasParens);
  EXPECT_TRUE(e.params.empty());
  const auto &inner = std::get<ast::BlockDecl>(p.model(3).items.at(0));
  EXPECT_EQ(inner.name.text, "inner");
  expectAt(inner.loc, 4, 11);
}

TEST(AstBuilder, SharedWithAndWithoutSharing) {
  Parsed p("model m {\n"
           "  shared trunk = x -> dense(8)\n"
           "  shared soft(0.001) tower = trunk -> dense(4)\n"
           "}\n");
  ASSERT_TRUE(p.file) << p.errors();
  const auto &trunk = p.item<ast::SharedDecl>(0);
  EXPECT_EQ(trunk.name.text, "trunk");
  EXPECT_FALSE(trunk.sharing);
  expectAt(trunk.loc, 2, 3);
  expectAt(trunk.name.loc, 2, 10);
  expectAt(trunk.chain.loc, 2, 18);
  ASSERT_EQ(trunk.chain.steps.size(), 2u);
  const auto &tower = p.item<ast::SharedDecl>(1);
  EXPECT_EQ(tower.name.text, "tower");
  ASSERT_TRUE(tower.sharing);
  EXPECT_EQ(sexpr(*tower.sharing), "(call soft n0.001)");
  expectAt(tower.sharing->loc, 3, 10);
  expectAt(tower.name.loc, 3, 22);
}

// A chain stands where a call's argument or a parenthesised value may: one
// step is just that step, more are a Chain of them.
TEST(AstBuilder, ChainsInArgumentsAndParentheses) {
  Parsed p("model m {\n"
           "  shared h = mix(x -> gate(4), e) + 0.5 * (y -> dense(2) -> relu)\n"
           "  shared g = (x)\n"
           "}\n");
  ASSERT_TRUE(p.file) << p.errors();
  const auto &h = p.item<ast::SharedDecl>(0);
  ASSERT_EQ(h.chain.steps.size(), 1u);
  EXPECT_EQ(sexpr(h.chain.steps[0]),
            "(+ (call mix (-> x (call gate i4)) e) (* n0.5 (-> y (call dense i2) relu)))");
  const ast::Expr &gate = h.chain.steps[0].operands[0].args[0].value;
  expectAt(gate.loc, 2, 18, 12);
  EXPECT_EQ(sexpr(p.item<ast::SharedDecl>(1).chain.steps[0]), "x");
}

TEST(AstBuilder, TaskFields) {
  Parsed p("model m {\n"
           "  task species : classify(3) {\n"
           "    head = trunk -> dense(3)\n"
           "    loss = cross_entropy\n"
           "    metrics = accuracy, macro_f1\n"
           "    auxiliary\n"
           "  }\n"
           "}\n");
  ASSERT_TRUE(p.file) << p.errors();
  const auto &t = p.item<ast::TaskDecl>(0);
  EXPECT_EQ(t.name.text, "species");
  expectAt(t.loc, 2, 3);
  expectAt(t.name.loc, 2, 8);
  EXPECT_EQ(sexpr(t.kind), "(call classify i3)");
  expectAt(t.kind.loc, 2, 18);
  ASSERT_EQ(t.fields.size(), 4u);
  EXPECT_EQ(t.fields[0].key.text, "head");
  expectAt(t.fields[0].loc, 3, 5);
  ASSERT_EQ(t.fields[0].values.size(), 1u);
  EXPECT_EQ(t.fields[0].values[0].steps.size(), 2u);
  const ast::TaskField &metrics = t.fields[2];
  ASSERT_EQ(metrics.values.size(), 2u);
  expectAt(metrics.values[0].loc, 5, 15);
  expectAt(metrics.values[1].loc, 5, 25);
  EXPECT_EQ(sexpr(metrics.values[1].steps[0]), "macro_f1");
  EXPECT_EQ(t.fields[3].key.text, "auxiliary");
  EXPECT_TRUE(t.fields[3].values.empty());
  expectAt(t.fields[3].loc, 6, 5);
}

TEST(AstBuilder, TrainingItems) {
  Parsed p("model m {\n"
           "  balance gradnorm(1.5)\n"
           "  regularize l2(1e-4) on trunk, tower, l1(1e-6)\n"
           "  optimizer adam(lr = 1e-3, betas = [0.9, 0.999])\n"
           "  train { epochs = 50 batch = 32, shuffle = true, }\n"
           "}\n");
  ASSERT_TRUE(p.file) << p.errors();
  const auto &bal = p.item<ast::BalanceDecl>(0);
  expectAt(bal.loc, 2, 3);
  EXPECT_EQ(sexpr(bal.method), "(call gradnorm n1.5)");
  expectAt(bal.method.loc, 2, 11);

  const auto &reg = p.item<ast::RegularizeDecl>(1);
  expectAt(reg.loc, 3, 3);
  ASSERT_EQ(reg.terms.size(), 2u);
  EXPECT_EQ(reg.terms[0].penalty.args.at(0).value.number, 1e-4);
  ASSERT_EQ(reg.terms[0].targets.size(), 2u);
  EXPECT_EQ(reg.terms[0].targets[1].text, "tower");
  expectAt(reg.terms[0].targets[0].loc, 3, 26);
  expectAt(reg.terms[0].targets[1].loc, 3, 33);
  EXPECT_EQ(sexpr(reg.terms[1].penalty), "(call l1 n1e-06)");
  EXPECT_TRUE(reg.terms[1].targets.empty());
  expectAt(reg.terms[1].loc, 3, 40);

  const auto &opt = p.item<ast::OptimizerDecl>(2);
  EXPECT_EQ(sexpr(opt.optimizer), "(call adam lr=n0.001 betas=(list n0.9 n0.999))");
  expectAt(opt.loc, 4, 3);

  const auto &train = p.item<ast::TrainDecl>(3);
  expectAt(train.loc, 5, 3);
  ASSERT_EQ(train.settings.size(), 3u);
  EXPECT_EQ(train.settings[0].key.text, "epochs");
  expectAt(train.settings[0].loc, 5, 11);
  EXPECT_EQ(sexpr(train.settings[1].value), "i32");
  expectAt(train.settings[1].key.loc, 5, 23);
  EXPECT_EQ(sexpr(train.settings[2].value), "true");
}

TEST(AstBuilder, ExpressionPrecedenceAndParentheses) {
  Parsed p("model m { balance -a * b + c / (d - e) - -f }");
  ASSERT_TRUE(p.file) << p.errors();
  const ast::Expr &e = p.item<ast::BalanceDecl>(0).method;
  EXPECT_EQ(sexpr(e), "(- (+ (* (neg a) b) (/ c (- d e))) (neg f))");
  // A parenthesised expression keeps the location of its parenthesis.
  const ast::Expr &paren = e.operands[0].operands[1].operands[1];
  EXPECT_EQ(paren.op, '-');
  expectAt(paren.loc, 1, 32, 7);
  Parsed q("model m { balance a - b - c * d * e }");
  ASSERT_TRUE(q.file) << q.errors();
  EXPECT_EQ(sexpr(q.item<ast::BalanceDecl>(0).method), "(- (- a b) (* (* c d) e))");
}

TEST(AstBuilder, Literals) {
  Parsed p("model m { optimizer f(1, 2.5, 1e3, .5, \"a\\\"b\\\\c\\nd\\te\", true, false, "
           "species.accuracy, [], [1], 007) }");
  ASSERT_TRUE(p.file) << p.errors();
  const ast::Expr &call = p.item<ast::OptimizerDecl>(0).optimizer;
  ASSERT_EQ(call.args.size(), 11u);
  auto value = [&](size_t i) -> const ast::Expr & { return call.args[i].value; };
  EXPECT_EQ(value(0).kind, ast::ExprKind::Int);
  EXPECT_EQ(value(1).kind, ast::ExprKind::Number);
  EXPECT_EQ(value(2).kind, ast::ExprKind::Number);
  EXPECT_EQ(value(2).number, 1000.0);
  EXPECT_EQ(value(3).number, 0.5);
  EXPECT_EQ(value(4).kind, ast::ExprKind::String);
  EXPECT_EQ(value(4).text, "a\"b\\c\nd\te");
  EXPECT_TRUE(value(5).boolean);
  EXPECT_EQ(value(6).kind, ast::ExprKind::Bool);
  EXPECT_FALSE(value(6).boolean);
  EXPECT_EQ(value(7).kind, ast::ExprKind::Name);
  EXPECT_EQ(value(7).text, "species.accuracy");
  EXPECT_EQ(value(8).kind, ast::ExprKind::List);
  EXPECT_TRUE(value(8).operands.empty());
  EXPECT_EQ(sexpr(value(9)), "(list i1)");
  EXPECT_EQ(sexpr(value(10)), "i7");
  expectAt(value(0).loc, 1, 23, 1);
  expectAt(value(1).loc, 1, 26, 3);
}

TEST(AstBuilder, KeywordsServeAsNames) {
  Parsed p("model model {\n"
           "  input input : f32[2]\n"
           "  data data = csv(\"d.csv\") {\n"
           "    scale = column(scale) standardize\n"
           "    in = column(in)\n"
           "  }\n"
           "  task task : regress { train = input -> dense(1) }\n"
           "}\n");
  ASSERT_TRUE(p.file) << p.errors();
  EXPECT_EQ(p.model().name.text, "model");
  EXPECT_EQ(p.item<ast::InputDecl>(0).name.text, "input");
  const auto &d = p.item<ast::DataDecl>(1);
  ASSERT_EQ(d.bindings.size(), 2u);
  EXPECT_EQ(d.bindings[0].target.text, "scale");
  EXPECT_EQ(d.bindings[0].modifiers.size(), 1u);
  EXPECT_EQ(d.bindings[1].target.text, "in");
  EXPECT_EQ(sexpr(d.bindings[1].source), "(call column in)");
  EXPECT_EQ(p.item<ast::TaskDecl>(2).fields.at(0).key.text, "train");
}

TEST(AstBuilder, ImportsAndComments) {
  Parsed p("import \"lib/a.mtl\"\n"
           "import \"b.mtl\" // second\n"
           "/* about m */ model m {}\n");
  ASSERT_TRUE(p.file) << p.errors();
  ASSERT_EQ(p.file->imports.size(), 2u);
  EXPECT_EQ(p.file->imports[0].path, "lib/a.mtl");
  expectAt(p.file->imports[0].loc, 1, 1);
  expectAt(p.file->imports[1].loc, 2, 1);
  ASSERT_EQ(p.file->comments.size(), 2u);
  EXPECT_EQ(p.file->comments[0].text, "// second");
  expectAt(p.file->comments[0].loc, 2, 16);
  EXPECT_EQ(p.file->comments[1].text, "/* about m */");
  expectAt(p.file->comments[1].loc, 3, 1);
  EXPECT_EQ(p.file->fileId, p.id);
}

TEST(AstBuilder, EmptyAndCommentOnlyFiles) {
  for (const char *text : {"", "   \n\t\r\n", "// nothing\n/* at\n all */"}) {
    Parsed p(text);
    ASSERT_TRUE(p.file) << p.errors();
    EXPECT_TRUE(p.file->items.empty());
    EXPECT_TRUE(p.file->imports.empty());
    EXPECT_EQ(p.diags.errorCount(), 0u);
  }
  Parsed c("// nothing\n/* at\n all */");
  EXPECT_EQ(c.file->comments.size(), 2u);
}

TEST(AstBuilder, LocationsCountCharactersNotBytes) {
  Parsed p("model m { data d = csv(\"é\") { x = column(x) } }");
  ASSERT_TRUE(p.file) << p.errors();
  const auto &d = p.item<ast::DataDecl>(0);
  expectAt(d.source.args.at(0).loc, 1, 24, 3);
  expectAt(d.bindings.at(0).loc, 1, 31);
}

} // namespace
} // namespace mtl
