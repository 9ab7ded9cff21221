// csv_tokens_test.cpp: how the CSV reader splits bytes into cells, case by
// case, against expected cells written here and against Python's csv module
// on the same bytes (where python3 is installed).
//
// Python's reader (the "excel" dialect) is an independent implementation of
// the same RFC 4180 quoting. The reader differs from it on purpose in three
// documented ways (runtime/include/mtlrt/Csv.h), which the cases marked
// `python = false` pin instead: unquoted cells are trimmed of blanks, blank
// lines are skipped, and an `na` marker reads as an empty cell. Python's
// empty rows (its blank lines) are dropped before comparing.
#include "mtlrt/Csv.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace mtlrt;

namespace {

using Rows = std::vector<std::vector<std::string>>;

struct Case {
  const char *name;
  std::string bytes;
  Rows cells;
  char sep = ',';
  std::string na = "";
  bool python = true; ///< compare with Python's csv module too
};

const std::vector<Case> &cases() {
  static const std::vector<Case> all = {
      {"plain", "a,b,c\n1,2,3\n", {{"a", "b", "c"}, {"1", "2", "3"}}},
      {"separator_in_quotes", "\"a,b\",c\n", {{"a,b", "c"}}},
      {"escaped_quotes", "\"say \"\"hi\"\"\",x\n", {{"say \"hi\"", "x"}}},
      {"quotes_mid_cell", "x,\"a\"\"b\"\n", {{"x", "a\"b"}}},
      {"line_break_in_quotes", "\"two\nlines\",y\nz,w\n", {{"two\nlines", "y"}, {"z", "w"}}},
      {"crlf_in_quotes", "\"two\r\nlines\",y\r\n", {{"two\r\nlines", "y"}}},
      {"empty_cells", "a,,c\n,,\n", {{"a", "", "c"}, {"", "", ""}}},
      {"empty_quoted_cell", "\"\",x\n", {{"", "x"}}},
      {"crlf", "a,b\r\nc,d\r\n", {{"a", "b"}, {"c", "d"}}},
      {"no_final_newline", "a,b\nc,d", {{"a", "b"}, {"c", "d"}}},
      {"bom",
       "\xEF\xBB\xBF"
       "a,b\n",
       {{"a", "b"}}},
      {"semicolons", "a;b;\"c;d\"\n", {{"a", "b", "c;d"}}, ';'},
      {"tabs", "a\tb\t\"c\td\"\n", {{"a", "b", "c\td"}}, '\t'},
      {"trailing_separator", "a,b,\n", {{"a", "b", ""}}},
      {"comma_after_quote", "\"a\",b\n", {{"a", "b"}}},
      // The reader's own rules.
      {"unquoted_cells_trimmed", " 1 , 2\t,3\n", {{"1", "2", "3"}}, ',', "", false},
      {"quoted_blanks_kept", "\" a \",b\n", {{" a ", "b"}}},
      {"blank_lines_skipped", "a,b\n\n\nc,d\n", {{"a", "b"}, {"c", "d"}}, ',', "", false},
      {"na_marker_is_empty", "NA,1\n\"NA\",2\n", {{"", "1"}, {"", "2"}}, ',', "NA", false},
      {"blank_runs_separate", "  a   b\t c  \n", {{"a", "b", "c"}}, ' ', "", false},
  };
  return all;
}

std::string writeCase(const Case &c) {
  std::string path = ::testing::TempDir() + "mtlrt_csv_tokens_" + c.name + ".csv";
  std::ofstream(path, std::ios::binary) << c.bytes;
  return path;
}

Rows readRows(const std::string &path, const Case &c) {
  CsvOptions o;
  o.path = path;
  o.header = false;
  o.separator = c.sep;
  o.na = c.na;
  Result<CsvTable> table = readCsv(o);
  EXPECT_TRUE(table.ok()) << c.name << ": " << table.error();
  Rows rows;
  for (size_t r = 0; table.ok() && r < table->rowCount(); ++r)
    rows.push_back(table->row(r));
  return rows;
}

/// Python's csv.reader on the file, as JSON rows (without empty rows); empty
/// when python3 cannot run.
std::string pythonRows(const std::string &path, char sep) {
  std::string command =
      "python3 -c 'import csv, json, sys; "
      "f = open(sys.argv[1], newline=\"\", encoding=\"utf-8-sig\"); "
      "print(json.dumps([r for r in csv.reader(f, delimiter=sys.argv[2]) if r]))' " +
      path + " '" + std::string(1, sep) + "' 2>/dev/null";
  FILE *p = popen(command.c_str(), "r");
  if (!p)
    return {};
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  return pclose(p) == 0 ? out : std::string();
}

} // namespace

TEST(CsvTokens, EveryCaseGivesItsCells) {
  for (const Case &c : cases())
    EXPECT_EQ(readRows(writeCase(c), c), c.cells) << c.name;
}

TEST(CsvTokens, PythonsCsvModuleAgrees) {
  if (std::system("python3 -c 'import csv, json' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3 is not installed";
  int compared = 0;
  for (const Case &c : cases()) {
    if (!c.python)
      continue;
    std::string json = pythonRows(writeCase(c), c.sep);
    ASSERT_FALSE(json.empty()) << c.name << ": python3 failed";
    EXPECT_EQ(nlohmann::json::parse(json).get<Rows>(), c.cells) << c.name << " (Python)";
    ++compared;
  }
  EXPECT_GE(compared, 15);
}
