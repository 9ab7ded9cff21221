// blocks_test.cpp: block parameters, defaults, expansion, recursion, limits and notes.
#include "SemaTestUtil.h"

namespace mtl::sema::test {
namespace {

TEST(Blocks, ExpandWithPositionalNamedAndDefaultArguments) {
  Checked c = check(model("  input x : f32[4]\n"
                          "  block mlp(width, p = 0.0) { dense(width) -> relu -> dropout(p) }\n"
                          "  shared trunk = x -> mlp(64) -> mlp(width = 32, p = 0.5)\n"
                          "  task t : regress { head = trunk -> dense(1) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  EXPECT_EQ(
      layersOf(m, "trunk"),
      (std::vector<std::string>{"trunk.0=dense[64]", "trunk.1=relu[64]", "trunk.2=dropout[64]",
                                "trunk.3=dense[32]", "trunk.4=relu[32]", "trunk.5=dropout[32]"}));
  const Module &trunk = m.modules[moduleIndex(m, "trunk")];
  EXPECT_DOUBLE_EQ(trunk.layers[2].rate, 0.0);
  EXPECT_DOUBLE_EQ(trunk.layers[5].rate, 0.5);
  EXPECT_EQ(layersOf(m, "t"), std::vector<std::string>{"t.0=dense[1]"});
}

TEST(Blocks, DefaultsMayUseEarlierParametersAndArithmetic) {
  Checked c = check(model("  input x : f32[4]\n"
                          "  block wide(w, h = w * 2 + 1) { dense(h) -> dense(w / 2) }\n"
                          "  task t : regress(4) { head = x -> wide(8) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  EXPECT_EQ(layersOf(c.model(), "t"), (std::vector<std::string>{"t.0=dense[17]", "t.1=dense[4]"}));
}

TEST(Blocks, NestedBlocksAndBlocksWithoutParameters) {
  Checked c = check(model("  input x : f32[4]\n"
                          "  block tower { dense(16) -> relu }\n"
                          "  block two(w) { tower -> dense(w) -> tower() }\n"
                          "  task t : regress(16) { head = x -> two(3) }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  EXPECT_EQ(layersOf(c.model(), "t"),
            (std::vector<std::string>{"t.0=dense[16]", "t.1=relu[16]", "t.2=dense[3]",
                                      "t.3=dense[16]", "t.4=relu[16]"}));
}

TEST(Blocks, MisspeltBlockIsNamedAsLayerOrBlock) {
  Checked c = check(model("  input x : f32[4]\n"
                          "  block mlp(width) { dense(width) -> relu }\n"
                          "  task t : regress { head = x -> mpl(8) -> dense(1) }"));
  EXPECT_DIAG(c, "m.mtl:4:34: error: unknown layer or block 'mpl'; did you mean 'mlp'?");
  EXPECT_EQ(c.errors, 1u) << c.text;
}

TEST(Blocks, ErrorInsideExpansionHasNote) {
  Checked c = check(model("  input x : f32[4]\n"
                          "  block mlp(width) { dense(width) -> relu }\n"
                          "  task t : regress { head = x -> mlp(0) -> dense(1) }"));
  EXPECT_TRUE(c.models.empty());
  EXPECT_DIAG(c, "m.mtl:3:28: error: units must be at least 1, got 0\n"
                 "  block mlp(width) { dense(width) -> relu }\n"
                 "                           ^~~~~\n"
                 "m.mtl:4:34: note: in expansion of block 'mlp' here\n"
                 "  task t : regress { head = x -> mlp(0) -> dense(1) }\n"
                 "                                 ^~~~~~\n");
  EXPECT_EQ(c.errors, 1u) << c.text;
}

TEST(Blocks, NestedExpansionNotesInnermostFirst) {
  Checked c = check(model("  input x : f32[4]\n"
                          "  block inner(w) { dense(w) }\n"
                          "  block outer(w) { inner(w - 1) }\n"
                          "  task t : regress { head = x -> outer(1) -> dense(1) }"));
  EXPECT_DIAG(c, "m.mtl:3:26: error: units must be at least 1, got 0\n");
  size_t inner = c.text.find("note: in expansion of block 'inner' here");
  size_t outer = c.text.find("note: in expansion of block 'outer' here");
  ASSERT_NE(inner, std::string::npos) << c.text;
  ASSERT_NE(outer, std::string::npos) << c.text;
  EXPECT_LT(inner, outer);
}

TEST(Blocks, ErrorThatDoesNotDependOnArgumentsIsReportedOnce) {
  Checked c = check(model("  input x : f32[4]\n"
                          "  block mlp(width) { dens(width) -> relu }\n"
                          "  task a : regress { head = x -> mlp(3) -> dense(1) }\n"
                          "  task b : regress { head = x -> mlp(4) -> dense(1) }"));
  EXPECT_DIAG(c, "m.mtl:3:22: error: unknown layer or block 'dens'; did you mean 'dense'?\n"
                 "  block mlp(width) { dens(width) -> relu }\n");
  EXPECT_EQ(c.errors, 1u) << c.text;
  EXPECT_NO_DIAG(c, "note: in expansion");
  EXPECT_TRUE(c.models.empty());
}

TEST(Blocks, ArgumentErrors) {
  std::string blocks =
      "  input x : f32[4]\n  block mlp(width, p = 0.1) { dense(width) -> dropout(p) }\n";
  EXPECT_DIAG(check(model(blocks + "  task t : regress { head = x -> mlp -> dense(1) }")),
              "m.mtl:4:34: error: missing argument 'width' for block 'mlp'");
  EXPECT_DIAG(
      check(model(blocks + "  task t : regress { head = x -> mlp(1, 0.1, 2) -> dense(1) }")),
      "error: block 'mlp' expects 1 to 2 arguments (width, p), got 3");
  EXPECT_DIAG(
      check(model(blocks + "  task t : regress { head = x -> mlp(widht = 2) -> dense(1) }")),
      "error: unknown argument 'widht' for block 'mlp'; did you mean 'width'?");
  EXPECT_DIAG(check(model("  input x : f32[4]\n  block b { relu }\n"
                          "  task t : regress(4) { head = x -> b(2) }")),
              "error: block 'b' expects no arguments, got 1");
}

TEST(Blocks, UnknownParameterInBody) {
  Checked c = check(model("  input x : f32[4]\n  block mlp(width) { dense(widht) }\n"
                          "  task t : regress { head = x -> mlp(3) -> dense(1) }"));
  EXPECT_DIAG(c, "m.mtl:3:28: error: unknown parameter 'widht' in block 'mlp'; did you mean "
                 "'width'?");
  EXPECT_EQ(c.errors, 1u) << c.text;
}

TEST(Blocks, DuplicateParameter) {
  Checked c = check(model("  input x : f32[4]\n  block b(w, w) { dense(w) }\n"
                          "  task t : regress { head = x -> b(1, 1) }"));
  EXPECT_DIAG(c, "m.mtl:3:14: error: duplicate parameter 'w' in block 'b'\n");
  EXPECT_DIAG(c, "m.mtl:3:11: note: previous definition is here");
}

TEST(Blocks, Recursion) {
  Checked self = check(model("  input x : f32[4]\n  block b { dense(4) -> b }\n"
                             "  task t : regress(4) { head = x -> b }"));
  EXPECT_DIAG(self, "m.mtl:3:25: error: block 'b' calls itself\n");
  EXPECT_EQ(self.errors, 1u) << self.text;
  Checked mutual = check(model("  input x : f32[4]\n  block a { b }\n  block b { relu -> c }\n"
                               "  block c { a }\n  task t : regress(4) { head = x -> a }"));
  EXPECT_DIAG(mutual, "m.mtl:5:13: error: block 'a' calls itself through 'b' and 'c'\n");
  EXPECT_EQ(mutual.errors, 1u) << mutual.text;
  EXPECT_TRUE(mutual.models.empty());
}

TEST(Blocks, NestingDepthIsCapped) {
  std::string body = "  input x : f32[4]\n  block b0 { relu }\n";
  for (int i = 1; i <= 70; ++i)
    body += "  block b" + std::to_string(i) + " { b" + std::to_string(i - 1) + " }\n";
  body += "  task t : regress(4) { head = x -> b70 }";
  Checked c = check(model(body));
  EXPECT_DIAG(c, "error: blocks are nested more than 64 deep here");
  EXPECT_TRUE(c.models.empty());
}

TEST(Blocks, ExpansionSizeIsCapped) {
  // 10 levels that each use the next ten times: 10^10 layers if expanded.
  std::string body = "  input x : f32[4]\n  block b0 { relu }\n";
  for (int i = 1; i <= 10; ++i) {
    std::string p = "b";
    p += std::to_string(i - 1);
    body += "  block b" + std::to_string(i) + " { " + p;
    for (int k = 1; k < 10; ++k)
      body += " -> " + p;
    body += " }\n";
  }
  body += "  task t : regress(4) { head = x -> b10 }";
  Checked c = check(model(body));
  EXPECT_DIAG(c, "error: the model expands to more than 100000 layers and block calls");
  EXPECT_EQ(c.errors, 1u);
  EXPECT_TRUE(c.models.empty());
}

TEST(Blocks, BodyMayOnlyUseLayersAndBlocks) {
  Checked c = check(model("  input x : f32[4]\n  shared enc = dense(4)\n"
                          "  block b { enc -> relu }\n  task t : regress(4) { head = x -> b }"));
  EXPECT_DIAG(c, "m.mtl:4:13: error: 'enc' is a shared block; a block body can only use "
                 "layers, other blocks and its input 'in'");
  Checked p = check(model("  input x : f32[4]\n  block b(w) { w(2) }\n"
                          "  task t : regress(4) { head = x -> b(1) }"));
  EXPECT_DIAG(p, "error: 'w' is a parameter of block 'b', not a layer");
  // A parameter that stands as a layer takes layers.
  Checked n = check(model("  input x : f32[4]\n  block b(w) { w }\n"
                          "  task t : regress(4) { head = x -> b(1) }"));
  EXPECT_DIAG(n, "m.mtl:4:39: error: 'w' of block 'b' takes layers (a layer, a block or a chain of "
                 "them, as in 'w = dense(16) -> relu'): it stands as a layer in its body or is "
                 "given for another block's; got a number");
}

TEST(Blocks, TopLevelAndImportedBlocks) {
  std::string lib = "block tower(w) { dense(w) -> relu }\n";
  Checked c = check("import \"lib.mtl\"\nblock head2 { tower(2) }\n" +
                        model("  input x : f32[4]\n  task t : regress(2) { head = x -> head2 }"),
                    "m.mtl", {{"lib.mtl", lib}});
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  EXPECT_EQ(layersOf(c.model(), "t"), (std::vector<std::string>{"t.0=dense[2]", "t.1=relu[2]"}));
}

TEST(Blocks, TopLevelBlocksDoNotSeeModelBlocks) {
  Checked c =
      check("block outer { inner }\n" + model("  input x : f32[4]\n  block inner { relu }\n"
                                              "  task t : regress(4) { head = x -> outer }"));
  EXPECT_DIAG(c, "m.mtl:1:15: error: unknown layer or block 'inner'");
  EXPECT_TRUE(c.models.empty());
}

TEST(Blocks, ModelBlockShadowsTopLevelBlock) {
  Checked c = check("block b { dense(9) }\n" + model("  input x : f32[4]\n  block b { dense(2) }\n"
                                                     "  task t : regress(2) { head = x -> b }"));
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  EXPECT_EQ(layersOf(c.model(), "t"), std::vector<std::string>{"t.0=dense[2]"});
}

TEST(Blocks, ErrorsInUnusedLibraryBlocksAreReported) {
  Checked c = check("block lib { dense(2) -> rleu }\n");
  EXPECT_DIAG(c, "m.mtl:1:25: error: unknown layer or block 'rleu'; did you mean 'relu'?");
  EXPECT_TRUE(c.models.empty());
  Checked ok = check("block lib(w) { dense(w) -> relu }\n");
  EXPECT_EQ(ok.text, "");
}

} // namespace
} // namespace mtl::sema::test
