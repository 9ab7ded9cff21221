// syntax_errors_test.cpp: syntax and literal errors are located and worded for people; no input
// crashes.
#include "FrontendTestUtil.h"

#include <gtest/gtest.h>

#include <random>

namespace mtl {
namespace {

using test::Parsed;

// The first line of the rendered diagnostics.
std::string firstLine(const Parsed &p) { return p.errors().substr(0, p.errors().find('\n')); }

TEST(SyntaxErrors, MissingTokenIsNamedWithCaret) {
  Parsed p("model m {\n  input x f32[4]\n}\n");
  EXPECT_FALSE(p.file);
  EXPECT_EQ(p.errors(), "test.mtl:2:11: error: expected ':' before 'f32'\n"
                        "  input x f32[4]\n"
                        "          ^~~\n"
                        "1 error generated.\n");
}

struct Case {
  const char *text;
  const char *firstError;
};

class SyntaxErrorWording : public testing::TestWithParam<Case> {};

TEST_P(SyntaxErrorWording, FirstErrorMatches) {
  Parsed p(GetParam().text);
  EXPECT_FALSE(p.file);
  EXPECT_EQ(firstLine(p), GetParam().firstError) << p.errors();
}

INSTANTIATE_TEST_SUITE_P(
    Frontend, SyntaxErrorWording,
    testing::Values(
        Case{"model m { input x : f32[4 }",
             "test.mtl:1:27: error: unexpected '}'; expected ',' or ']'"},
        Case{"model m {\n  input x : f32[4]\n", "test.mtl:3:1: error: unexpected end of file; "
                                                "expected '}' or a model item"},
        Case{"model m { task t : binary { head = x -> } }",
             "test.mtl:1:41: error: unexpected '}'; expected an expression"},
        Case{"model m { optimizer adam(lr = ", "test.mtl:1:31: error: unexpected end of file; "
                                               "expected an expression"},
        Case{"model m { input x : f32[] }", "test.mtl:1:25: error: expected an integer before ']'"},
        Case{"model m { input x : f32[2.5] }",
             "test.mtl:1:25: error: unexpected '2.5'; expected an integer"},
        Case{"import x", "test.mtl:1:8: error: unexpected 'x'; expected a string"},
        Case{"model { }", "test.mtl:1:7: error: unexpected '{'; expected a name"},
        Case{"model m {}\n}", "test.mtl:2:1: error: unexpected '}'; expected one of end of file, "
                              "'model', 'block'"},
        Case{"model m { regularize l2(1) on }",
             "test.mtl:1:31: error: unexpected '}'; expected a name"},
        Case{"model m { input x : f32[4]; }",
             "test.mtl:1:27: error: unexpected ';'; expected '}' or a model item"},
        Case{"model m { data d = csv(\"a.csv) {} }",
             "test.mtl:1:24: error: unterminated string; a string must end with '\"' on the line "
             "where it starts"},
        Case{"model m {\n  /* never closed\n  input x : f32[4]\n}",
             "test.mtl:2:3: error: unterminated comment; '/*' has no matching '*/'"},
        Case{"model m { input x : f32[4] }\n\x01", "test.mtl:2:1: error: invalid character (byte "
                                                   "0x01) in model source"},
        Case{"model m { input x : f32[4] } \xff", "test.mtl:1:30: error: invalid UTF-8 byte 0xff; "
                                                  "model source must be UTF-8 text"},
        Case{"model m { input x : f32[4] } \xc0\x80", "test.mtl:1:30: error: invalid UTF-8 byte "
                                                      "0xc0; model source must be UTF-8 text"},
        Case{
            "model m { input x : f32[99999999999999999999] }",
            "test.mtl:1:25: error: integer '99999999999999999999' is too large; the limit is 2^53"},
        Case{"model m { optimizer sgd(lr = 1e999) }",
             "test.mtl:1:30: error: number '1e999' is too large (the largest is about 1.8e308)"},
        Case{"model tron\u00e7 { }", "test.mtl:1:11: error: unexpected '\u00e7'; outside strings "
                                     "and comments a model is ASCII: a name is letters a-z "
                                     "and A-Z, digits and '_'"},
        Case{"model m { task t : regress { head = x \u2192 dense(1) } }",
             "test.mtl:1:39: error: unexpected '\u2192'; outside strings and comments a model is "
             "ASCII: write '->'"},
        Case{"model m {\u00a0}", "test.mtl:1:10: error: unexpected '\u00a0'; outside strings and "
                                 "comments a model is ASCII: write a space"},
        Case{"model m { data d = csv(\"a\\qb\") {} }",
             "test.mtl:1:26: error: unknown escape sequence '\\q' in string; use \\\\, \\\", \\n "
             "or \\t"}));

TEST(SyntaxErrors, EveryLineWithAnErrorIsReportedOnce) {
  Parsed p("model m {\n"
           "  task y : regress { head = x -> dense(1) ] }\n"
           "  optimizer adam(lr = 0.001))\n"
           "  train { epochs = 5,, batch = 8 }\n"
           "}\n");
  EXPECT_FALSE(p.file);
  std::string text = p.errors();
  EXPECT_NE(text.find("test.mtl:2:43: error: unexpected ']'"), std::string::npos) << text;
  EXPECT_NE(text.find("test.mtl:3:29: error: unexpected ')'"), std::string::npos) << text;
  EXPECT_NE(text.find("test.mtl:4:22: error: unexpected ','"), std::string::npos) << text;
  // Recovery would trip over the rest of a broken line; one error per line is enough.
  std::vector<Diagnostic> diags = p.diags.diagnostics();
  for (size_t i = 1; i < diags.size(); ++i)
    EXPECT_NE(diags[i].loc.line, diags[i - 1].loc.line);
}

TEST(SyntaxErrors, NestingLimit) {
  auto nested = [](int depth) {
    return "model m { balance f(" + std::string(depth, '(') + "1" + std::string(depth, ')') + ") }";
  };
  Parsed ok(nested(100));
  EXPECT_TRUE(ok.file) << ok.errors();
  Parsed deep(nested(200));
  EXPECT_FALSE(deep.file);
  EXPECT_EQ(firstLine(deep), "test.mtl:1:147: error: brackets nested more than 128 deep");
  EXPECT_EQ(deep.diags.errorCount(), 1u);
}

TEST(SyntaxErrors, OperatorLimitCountsWholeExpressions) {
  auto chain = [](const std::string &operand, int n, const char *op = " + ") {
    std::string s = "model m { balance " + operand;
    for (int i = 0; i < n; ++i)
      s += op + operand;
    return s + " }";
  };
  Parsed ok(chain("1", 1000));
  ASSERT_TRUE(ok.file) << ok.errors();
  // Strings, keywords used as names and calls between the operators still
  // build one deep tree, so they must not reset the count.
  for (const std::string &operand : {std::string("1"), std::string("\"a\""), std::string("train"),
                                     std::string("f(k = 1, [2, 3])")}) {
    Parsed deep(chain(operand, 20000));
    EXPECT_FALSE(deep.file) << operand;
    EXPECT_NE(deep.errors().find("expression has more than 1000 operators"), std::string::npos)
        << operand;
  }
  Parsed negs("model m { balance " + std::string(5000, '-') + "x }");
  EXPECT_FALSE(negs.file);
  // Separate settings each have their own budget.
  std::string many = "model m { train {";
  for (int i = 0; i < 50; ++i) {
    many += " s" + std::to_string(i) + " = 1";
    for (int k = 0; k < 100; ++k)
      many += " + 1";
  }
  Parsed settings(many + " } }");
  EXPECT_TRUE(settings.file) << settings.errors();
}

TEST(SyntaxErrors, GarbageNeverCrashes) {
  std::mt19937 rng(42);
  const std::string alphabet = "model{}()[]:=,->*/+-.. \n\"\\/#@x1e5";
  for (int round = 0; round < 200; ++round) {
    std::string text;
    int length = static_cast<int>(rng() % 400);
    for (int i = 0; i < length; ++i)
      text += round % 2 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    Parsed p(text);
    if (!p.file) {
      EXPECT_GT(p.diags.errorCount(), 0u) << "round " << round;
    }
    EXPECT_NO_THROW(p.errors());
  }
}

TEST(SyntaxErrors, NulBytesAndControlCharacters) {
  std::string text = "model m {\n  input x : f32[4]";
  text += '\0';
  text += "\n}\n";
  Parsed p(text);
  EXPECT_FALSE(p.file);
  EXPECT_EQ(firstLine(p), "test.mtl:2:19: error: invalid character (byte 0x00) in model source");
}

// Invalid UTF-8 and control bytes are shown as U+FFFD, one per byte, so the
// terminal only ever receives valid UTF-8, and the caret stays under its column.
TEST(SyntaxErrors, EchoedLineIsValidUtf8) {
  Parsed p("model m { input x : f32[4] } \x01\x7f");
  EXPECT_EQ(p.errors(), "test.mtl:1:30: error: invalid character (byte 0x01) in model source\n"
                        "model m { input x : f32[4] } \xef\xbf\xbd\xef\xbf\xbd\n"
                        "                             ^\n"
                        "1 error generated.\n");
  Parsed bad("model m { data d = csv(\"\xc3\xa9\") {} } \xff\tz");
  EXPECT_EQ(bad.errors(), "test.mtl:1:34: error: invalid UTF-8 byte 0xff; model source must be "
                          "UTF-8 text\n"
                          "model m { data d = csv(\"\xc3\xa9\") {} } \xef\xbf\xbd z\n"
                          "                                 ^\n"
                          "1 error generated.\n");
}

TEST(SyntaxErrors, InWithoutBrackets) {
  Parsed p("model m {\n  data d = csv(\"a.csv\") {\n    y = column(c) in 1, 2\n  }\n}\n");
  EXPECT_EQ(firstLine(p), "test.mtl:3:22: error: expected '[' after 'in'; 'in' takes a list in "
                          "brackets (write in [1, 2])");
  Parsed q("model m {\n  data d = csv(\"a.csv\") {\n    y = column(c) in (5)\n  }\n}\n");
  EXPECT_EQ(firstLine(q), "test.mtl:3:22: error: expected '[' after 'in'; 'in' takes a list in "
                          "brackets (write in [1, 2])");
}

} // namespace
} // namespace mtl
