// ast_printer_test.cpp: the `mtlc emit ast` dump: every node kind, its key fields and its location.
#include "FrontendTestUtil.h"
#include "frontend/AstPrinter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>

namespace mtl {
namespace {

using test::Parsed;

const char *const kSource = "import \"lib.mtl\"\n"
                            "block mlp(w, p = 0.5) { dense(w) -> relu }\n"
                            "block e() { x }\n"
                            "model m {\n"
                            "  input x : f32[2, 3]\n"
                            "  input n : i32\n"
                            "  data d = csv(\"a\\tb.csv\", na = \"NA\") {\n"
                            "    x = columns(0..4) standardize\n"
                            "    y = column(y) as class scale(2) in [1, -2]\n"
                            "  }\n"
                            "  shared soft(0.001) t = x -> mlp(4)\n"
                            "  task y : classify(3) {\n"
                            "    head = t -> dense(3)\n"
                            "    metrics = acc, f1\n"
                            "    auxiliary\n"
                            "  }\n"
                            "  balance -a * (b + 1.5)\n"
                            "  regularize l2(1e-4) on t, l1(true)\n"
                            "  optimizer adam(lr = 1e-3)\n"
                            "  train { epochs = 5, tags = [\"a\", \"b\"] }\n"
                            "}\n"
                            "// done\n"
                            "/* multi\n"
                            "line */\n";

const char *const kDump = "File test.mtl\n"
                          "  Import \"lib.mtl\" <1:1>\n"
                          "  Block mlp <2:1>\n"
                          "    Param w <2:11>\n"
                          "    Param p <2:14>\n"
                          "      Default Number 0.5 <2:18>\n"
                          "    Chain <2:25>\n"
                          "      Call dense <2:25>\n"
                          "        Arg Name w <2:31>\n"
                          "      Name relu <2:37>\n"
                          "  Block e() <3:1>\n"
                          "    Chain <3:13>\n"
                          "      Name x <3:13>\n"
                          "  Model m <4:1>\n"
                          "    Input x : f32[2, 3] <5:3>\n"
                          "    Input n : i32 <6:3>\n"
                          "    Data d <7:3>\n"
                          "      Source Call csv <7:12>\n"
                          "        Arg String \"a\\tb.csv\" <7:16>\n"
                          "        Arg na = String \"NA\" <7:28>\n"
                          "      Binding x <8:5>\n"
                          "        Source Call columns <8:9>\n"
                          "          Arg Int 0 <8:17>\n"
                          "            RangeEnd Int 4 <8:20>\n"
                          "        Modifier standardize <8:23>\n"
                          "      Binding y <9:5>\n"
                          "        Source Call column <9:9>\n"
                          "          Arg Name y <9:16>\n"
                          "        Modifier as class <9:19>\n"
                          "        Modifier scale <9:28>\n"
                          "          Int 2 <9:34>\n"
                          "        Modifier in <9:37>\n"
                          "          Int 1 <9:41>\n"
                          "          Neg <9:44>\n"
                          "            Int 2 <9:45>\n"
                          "    Shared t <11:3>\n"
                          "      Sharing Call soft <11:10>\n"
                          "        Arg Number 0.001 <11:15>\n"
                          "      Chain <11:26>\n"
                          "        Name x <11:26>\n"
                          "        Call mlp <11:31>\n"
                          "          Arg Int 4 <11:35>\n"
                          "    Task y <12:3>\n"
                          "      Kind Call classify <12:12>\n"
                          "        Arg Int 3 <12:21>\n"
                          "      Field head <13:5>\n"
                          "        Chain <13:12>\n"
                          "          Name t <13:12>\n"
                          "          Call dense <13:17>\n"
                          "            Arg Int 3 <13:23>\n"
                          "      Field metrics <14:5>\n"
                          "        Chain <14:15>\n"
                          "          Name acc <14:15>\n"
                          "        Chain <14:20>\n"
                          "          Name f1 <14:20>\n"
                          "      Field auxiliary <15:5>\n"
                          "    Balance <17:3>\n"
                          "      Binary * <17:11>\n"
                          "        Neg <17:11>\n"
                          "          Name a <17:12>\n"
                          "        Binary + <17:16>\n"
                          "          Name b <17:17>\n"
                          "          Number 1.5 <17:21>\n"
                          "    Regularize <18:3>\n"
                          "      Term <18:14>\n"
                          "        Call l2 <18:14>\n"
                          "          Arg Number 0.0001 <18:17>\n"
                          "        On t <18:26>\n"
                          "      Term <18:29>\n"
                          "        Call l1 <18:29>\n"
                          "          Arg Bool true <18:32>\n"
                          "    Optimizer <19:3>\n"
                          "      Call adam <19:13>\n"
                          "        Arg lr = Number 0.001 <19:18>\n"
                          "    Train <20:3>\n"
                          "      Setting epochs <20:11>\n"
                          "        Int 5 <20:20>\n"
                          "      Setting tags <20:23>\n"
                          "        List <20:30>\n"
                          "          String \"a\" <20:31>\n"
                          "          String \"b\" <20:36>\n"
                          "  Comment // done <22:1>\n"
                          "  Comment /* multi\\nline */ <23:1>\n";

TEST(AstPrinter, DumpsEveryNodeKindWithLocations) {
  Parsed p(kSource);
  ASSERT_TRUE(p.file) << p.errors();
  EXPECT_EQ(printAst(*p.file, p.sources), kDump);
}

TEST(AstPrinter, OneNodePerLineIndentedByDepth) {
  Parsed p(kSource);
  ASSERT_TRUE(p.file) << p.errors();
  std::istringstream lines(printAst(*p.file, p.sources));
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "File test.mtl");
  // Each later line: an even indent, a capitalised kind, and <line:col> last.
  std::regex shape("^(  )+[A-Z][A-Za-z()]*( .*)? <[0-9]+:[0-9]+>$");
  int count = 0;
  size_t depth = 0;
  while (std::getline(lines, line)) {
    EXPECT_TRUE(std::regex_match(line, shape)) << line;
    size_t indent = line.find_first_not_of(' ');
    EXPECT_LE(indent, depth + 2) << "a child is one level deeper than its parent: " << line;
    depth = indent;
    ++count;
  }
  EXPECT_GT(count, 60);
}

TEST(AstPrinter, LocationsAreTheAstLocations) {
  Parsed p("model m {\n  task t : binary { head = x -> dense(1) }\n}\n");
  ASSERT_TRUE(p.file) << p.errors();
  const auto &task = p.item<ast::TaskDecl>(0);
  std::string dump = printAst(*p.file, p.sources);
  auto at = [](const SourceLoc &loc) {
    std::ostringstream out;
    out << '<' << loc.line << ':' << loc.col << '>';
    return out.str();
  };
  EXPECT_NE(dump.find("    Task t " + at(task.loc) + "\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("      Field head " + at(task.fields[0].loc) + "\n"), std::string::npos);
  EXPECT_NE(dump.find("          Call dense " + at(task.fields[0].values[0].steps[1].loc)),
            std::string::npos);
}

TEST(AstPrinter, DeepExpressionsAndUnknownFiles) {
  std::string text = "model m { balance 1";
  for (int i = 0; i < 1000; ++i)
    text += " - 1";
  Parsed p(text + " }");
  ASSERT_TRUE(p.file) << p.errors();
  std::string dump = printAst(*p.file, p.sources);
  EXPECT_EQ(std::count(dump.begin(), dump.end(), '\n'), 3 + 2001);
  ast::File detached = *p.file;
  detached.fileId = -1;
  EXPECT_EQ(printAst(detached, p.sources).rfind("File\n", 0), 0u);
}

TEST(AstPrinter, EmptyFile) {
  Parsed p("");
  ASSERT_TRUE(p.file);
  EXPECT_EQ(printAst(*p.file, p.sources), "File test.mtl\n");
}

} // namespace
} // namespace mtl
