// csv_test.cpp: the CSV reader on the real data files' quirks and on malformed input.
#include "TestFiles.h"
#include "mtlrt/Csv.h"

#include <fmt/format.h>

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <fstream>
#include <string>

using namespace mtlrt;

using mtl::test::fixture;
using mtl::test::writeTempFile;

namespace {

CsvOptions opts(std::string path, bool header = true, char separator = ',', std::string na = "",
                int64_t skip = 0) {
  CsvOptions options;
  options.path = std::move(path);
  options.header = header;
  options.separator = separator;
  options.na = std::move(na);
  options.skip = skip;
  return options;
}

CsvTable readOk(const CsvOptions &options) {
  auto table = readCsv(options);
  EXPECT_TRUE(table.ok()) << table.error();
  return table.ok() ? std::move(table).value() : CsvTable{};
}

std::string readError(const CsvOptions &options) {
  auto table = readCsv(options);
  EXPECT_FALSE(table.ok());
  return table.ok() ? std::string() : table.error();
}

} // namespace

TEST(Result, HoldsValueOrError) {
  Result<int> good = 3;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  Result<int> bad = fail("f.csv: broken");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "f.csv: broken");
  Status status = Ok{};
  EXPECT_TRUE(status.ok());
}

TEST(Csv, PenguinsHeaderAndNa) {
  CsvOptions options = opts(fixture("penguins.csv"), true, ',', "NA", 0);
  CsvTable table = readOk(options);
  ASSERT_EQ(table.columns.size(), 8u);
  EXPECT_EQ(table.columns[0], "species");
  EXPECT_EQ(table.columns[7], "year");
  ASSERT_EQ(table.rowCount(), 344u);
  EXPECT_EQ(table.headerLine, 1);
  EXPECT_EQ(table.lines[0], 2);
  EXPECT_EQ(table.lines[343], 345);
  EXPECT_EQ(table.cell(0, 2), "39.1");
  EXPECT_EQ(table.cell(3, 2), ""); // line 5: NA
  auto bill = numericColumn(table, 2, options.path);
  ASSERT_TRUE(bill.ok()) << bill.error();
  EXPECT_FLOAT_EQ((*bill)[0], 39.1f);
  EXPECT_TRUE(std::isnan((*bill)[3]));
  auto species = classColumn(table, 0, options.path);
  ASSERT_TRUE(species.ok());
  EXPECT_EQ(species->names, (std::vector<std::string>{"Adelie", "Chinstrap", "Gentoo"}));
  EXPECT_EQ(species->ids[0], 0);
  EXPECT_EQ(species->ids[343], 1);
  auto sex = classColumn(table, 6, options.path);
  ASSERT_TRUE(sex.ok());
  EXPECT_EQ(sex->names, (std::vector<std::string>{"female", "male"}));
  EXPECT_EQ(std::count(sex->ids.begin(), sex->ids.end(), -1), 11);
  EXPECT_EQ(sex->ids[0], 1);
}

TEST(Csv, PenguinsWithoutNaMarkerRejectsNa) {
  CsvOptions options = opts(fixture("penguins.csv"));
  CsvTable table = readOk(options);
  auto bill = numericColumn(table, 2, options.path);
  ASSERT_FALSE(bill.ok());
  EXPECT_EQ(bill.error(), options.path + ":5: column 'bill_length_mm': 'NA' is not a number");
}

TEST(Csv, WineSkipsCountLineAndHasIntegerClasses) {
  CsvOptions options = opts(fixture("wine_data.csv"), false, ',', "", 1);
  CsvTable table = readOk(options);
  ASSERT_EQ(table.rowCount(), 178u);
  ASSERT_EQ(table.columns.size(), 14u);
  EXPECT_EQ(table.columns[0], "");
  EXPECT_EQ(table.lines[0], 2);
  EXPECT_EQ(table.cell(0, 0), "14.23");
  auto classes = classColumn(table, 13, options.path);
  ASSERT_TRUE(classes.ok());
  EXPECT_EQ(classes->names, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(std::count(classes->ids.begin(), classes->ids.end(), 1), 71);
  // Read with a header, the count line's 5 fields clash with the 14-field rows.
  EXPECT_EQ(readError(opts(fixture("wine_data.csv"))),
            fixture("wine_data.csv") +
                ":2: row has 14 fields, expected 5 (the header has 5 columns)");
}

TEST(Csv, LinnerudIsSpaceSeparated) {
  CsvOptions options = opts(fixture("linnerud_exercise.csv"), true, ' ');
  CsvTable table = readOk(options);
  EXPECT_EQ(table.columns, (std::vector<std::string>{"Chins", "Situps", "Jumps"}));
  ASSERT_EQ(table.rowCount(), 20u);
  EXPECT_EQ(table.row(0), (std::vector<std::string>{"5", "162", "60"}));
  auto header = readCsvHeader(opts(fixture("linnerud_physiological.csv"), true, ' '));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(*header, (std::vector<std::string>{"Weight", "Waist", "Pulse"}));
}

TEST(Csv, DigitsIsGzippedWithoutHeader) {
  CsvOptions options = opts(fixture("digits.csv.gz"), false);
  CsvTable table = readOk(options);
  ASSERT_EQ(table.rowCount(), 1797u);
  ASSERT_EQ(table.columns.size(), 65u);
  auto labels = classColumn(table, 64, options.path);
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->names.size(), 10u);
  EXPECT_EQ(labels->ids[0], 0);
  EXPECT_EQ(labels->ids[1796], 8);
  auto header = readCsvHeader(options);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->size(), 65u);
}

TEST(Csv, HeaderOnlyReadOfPenguins) {
  auto header = readCsvHeader(opts(fixture("penguins.csv")));
  ASSERT_TRUE(header.ok()) << header.error();
  EXPECT_EQ(header->size(), 8u);
  EXPECT_EQ((*header)[5], "body_mass_g");
}

TEST(Csv, QuotingCrlfBomAndBlankLines) {
  std::string text = "\xEF\xBB\xBFname,note,n\r\n"
                     "\r\n"
                     "\"Smith, J\",\"said \"\"hi\"\"\",1\r\n"
                     "   \r\n"
                     "\"multi\nline\",plain text , 2\r\n"
                     "x,\"\",3"; // no final newline, quoted empty cell
  std::string path = writeTempFile("mtlrt_csv_quoting.csv", text);
  CsvTable table = readOk(opts(path));
  EXPECT_EQ(table.columns, (std::vector<std::string>{"name", "note", "n"}));
  ASSERT_EQ(table.rowCount(), 3u);
  EXPECT_EQ(table.row(0), (std::vector<std::string>{"Smith, J", "said \"hi\"", "1"}));
  EXPECT_EQ(table.row(1), (std::vector<std::string>{"multi\nline", "plain text", "2"}));
  EXPECT_EQ(table.row(2), (std::vector<std::string>{"x", "", "3"}));
  EXPECT_EQ(table.lines, (std::vector<int64_t>{3, 5, 7}));
  // The same bytes gzipped read the same.
  CsvTable zipped = readOk(opts(writeTempFile("mtlrt_csv_quoting.csv.gz", text, true)));
  EXPECT_EQ(zipped.text, table.text);
  EXPECT_EQ(zipped.ends, table.ends);
  auto header = readCsvHeader(opts(path));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ((*header)[0], "name");
}

TEST(Csv, BlankSeparatedWithTabsAndPadding) {
  std::string path =
      writeTempFile("mtlrt_csv_blanks.txt", "  a\tb   c  \n1 \t 2 3\n\n 4 \"5 6\" 7 \n");
  CsvTable table = readOk(opts(path, true, ' '));
  EXPECT_EQ(table.columns, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(table.rowCount(), 2u);
  EXPECT_EQ(table.row(0), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(table.row(1), (std::vector<std::string>{"4", "5 6", "7"}));
  EXPECT_EQ(table.lines[1], 4);
}

TEST(Csv, OtherSeparatorAndNaMarker) {
  std::string path = writeTempFile("mtlrt_csv_semi.csv", "a;b\n1,5;?\n;2\n");
  CsvTable table = readOk(opts(path, true, ';', "?"));
  EXPECT_EQ(table.row(0), (std::vector<std::string>{"1,5", ""}));
  auto b = numericColumn(table, 1, path);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(std::isnan((*b)[0]));
  EXPECT_EQ((*b)[1], 2.0f);
}

TEST(Csv, RaggedRowNamesLineAndCounts) {
  std::string path = writeTempFile("mtlrt_csv_ragged.csv", "a,b,c\n1,2,3\n\n4,5\n");
  EXPECT_EQ(readError(opts(path)),
            path + ":4: row has 2 fields, expected 3 (the header has 3 columns)");
  std::string noHeader = writeTempFile("mtlrt_csv_ragged2.csv", "1,2\n3,4,5\n");
  EXPECT_EQ(readError(opts(noHeader, false)),
            noHeader + ":2: row has 3 fields, expected 2 (as the first row, line 1)");
}

TEST(Csv, EmptyFiles) {
  std::string empty = writeTempFile("mtlrt_csv_empty.csv", "");
  EXPECT_EQ(readError(opts(empty)), empty + ": file is empty");
  std::string blank = writeTempFile("mtlrt_csv_blank.csv", "\n  \r\n\n");
  EXPECT_EQ(readError(opts(blank)), blank + ": file is empty");
  auto header = readCsvHeader(opts(empty));
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.error(), empty + ": file is empty");
  std::string onlyHeader = writeTempFile("mtlrt_csv_header.csv", "a,b\n");
  CsvTable table = readOk(opts(onlyHeader));
  EXPECT_EQ(table.columns.size(), 2u);
  EXPECT_EQ(table.rowCount(), 0u);
  std::string shortFile = writeTempFile("mtlrt_csv_short.csv", "title\n");
  EXPECT_EQ(readError(opts(shortFile, true, ',', "", 3)),
            shortFile + ": cannot skip 3 lines: the file has only 1");
  EXPECT_EQ(readError(opts(shortFile, true, ',', "", 1)),
            shortFile + ": file is empty after skipping 1 line");
}

TEST(Csv, UnterminatedQuoteNamesItsLine) {
  std::string path = writeTempFile("mtlrt_csv_quote.csv", "a,b\n1,2\n3,\"open\n4,5\n6,7\n");
  EXPECT_EQ(readError(opts(path)),
            path + ":3: unterminated quoted field (the quote opened on this line is never closed)");
  EXPECT_FALSE(readCsvHeader(opts(writeTempFile("mtlrt_csv_quote2.csv", "\"a,b\n1,2\n"))).ok());
  std::string after = writeTempFile("mtlrt_csv_after.csv", "a,b\n\"x\"y,2\n");
  EXPECT_EQ(readError(opts(after)), after +
                                        ":2: unexpected 'y' after a closing quote (a field that "
                                        "starts with a quote must end with one)");
}

TEST(Csv, DuplicateHeaderNames) {
  std::string path = writeTempFile("mtlrt_csv_dup.csv", "a, b ,c,b\n1,2,3,4\n");
  EXPECT_EQ(readError(opts(path)),
            path + ":1: duplicate column name 'b' (columns 1 and 3, numbered from 0)");
  auto header = readCsvHeader(opts(path));
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.error(), readError(opts(path)));
  // Unnamed columns may repeat, and without a header names do not matter.
  CsvTable unnamed = readOk(opts(writeTempFile("mtlrt_csv_unnamed.csv", "a,,b,\n1,2,3,4\n")));
  EXPECT_EQ(unnamed.columns, (std::vector<std::string>{"a", "", "b", ""}));
  EXPECT_EQ(readOk(opts(path, false)).rowCount(), 2u);
  // After skipped lines the header's own line is named.
  std::string skipped = writeTempFile("mtlrt_csv_dup2.csv", "title\nx,x\n1,2\n");
  EXPECT_EQ(readError(opts(skipped, true, ',', "", 1)),
            skipped + ":2: duplicate column name 'x' (columns 0 and 1, numbered from 0)");
}

TEST(Csv, BinaryAndUtf16Text) {
  std::string nul = writeTempFile("mtlrt_csv_nul.csv", std::string("a,b\n1,2\n3,4\0 5\n", 15));
  EXPECT_EQ(readError(opts(nul)),
            nul + ":3: a NUL byte in field 2: the file is binary or UTF-16 text, not CSV");
  const std::string utf16Text("a\0,\0b\0\n\0", 8); // "a,b\n" in UTF-16LE
  std::string utf16 = writeTempFile("mtlrt_csv_utf16.csv", "\xFF\xFE" + utf16Text);
  std::string message =
      utf16 + ":1: the file is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as "
              "UTF-8";
  EXPECT_EQ(readError(opts(utf16)), message);
  auto header = readCsvHeader(opts(utf16));
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.error(), message);
  // Without a byte-order mark, UTF-16 text holds NUL bytes.
  std::string bare = writeTempFile("mtlrt_csv_utf16le.csv", utf16Text);
  EXPECT_EQ(readError(opts(bare)),
            bare + ":1: a NUL byte in field 1: the file is binary or UTF-16 text, not CSV");
}

// Lines that end with a carriage return alone (classic Mac text) are one
// line to the reader: said so, not "no data rows" or a missing column.
TEST(Csv, CarriageReturnLineEnds) {
  std::string cr = writeTempFile("mtlrt_csv_cr.csv", "a,b,c\r1,2,3\r4,5,6\r");
  const std::string message = cr + ":1: a carriage return inside field 3: the file's lines end "
                                   "with a carriage return alone (classic Mac text); save it "
                                   "with LF or CRLF line ends";
  EXPECT_EQ(readError(opts(cr)), message);
  auto header = readCsvHeader(opts(cr));
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.error(), message);
  // After a quoted field too.
  std::string quotedCr = writeTempFile("mtlrt_csv_crq2.csv", "\"a\",\"b\"\r\"1\",\"2\"\r");
  EXPECT_EQ(readError(opts(quotedCr)),
            quotedCr + ":1: a carriage return alone ends the line: the file's lines end with a "
                       "carriage return alone (classic Mac text); save it with LF or CRLF line "
                       "ends");
  // In quotes a carriage return is the field's own.
  auto quoted = readCsv(opts(writeTempFile("mtlrt_csv_crq.csv", "a,b\n\"x\ry\",2\n")));
  ASSERT_TRUE(quoted.ok()) << quoted.error();
  EXPECT_EQ(quoted->cell(0, 0), "x\ry");
}

TEST(Csv, FileNamedGzMustBeGzip) {
  std::string plain = writeTempFile("mtlrt_csv_plain.csv.gz", "a,b\n1,2\n");
  EXPECT_EQ(readError(opts(plain)), plain + ": not a gzip file (the name ends in .gz, but the file "
                                            "does not start with the gzip signature 1f 8b)");
  EXPECT_FALSE(readCsvHeader(opts(plain)).ok());
  // An empty file is reported as empty, whatever its name; so is empty gzip data.
  std::string empty = writeTempFile("mtlrt_csv_empty.csv.gz", "");
  EXPECT_EQ(readError(opts(empty)), empty + ": file is empty");
  std::string emptyGzip = writeTempFile("mtlrt_csv_empty-data.csv.gz", "", true);
  EXPECT_EQ(readError(opts(emptyGzip)), emptyGzip + ": file is empty");
  // Other names are read as they are, compressed or not.
  EXPECT_EQ(readOk(opts(writeTempFile("mtlrt_csv_zipped.csv", "a,b\n1,2\n", true))).rowCount(), 1u);
}

TEST(Csv, MissingAndBadFiles) {
  std::string missing = ::testing::TempDir() + "mtlrt_no_such_file.csv";
  EXPECT_EQ(readError(opts(missing)), missing + ": cannot open: No such file or directory");
  std::string dir = ::testing::TempDir();
  EXPECT_NE(readError(opts(dir)).find("is a directory"), std::string::npos);
  // A gzip file cut short, and one with garbage in its compressed data.
  std::string big;
  for (int i = 0; i < 20000; ++i)
    big += std::to_string(i * 7919 % 10007) + "," + std::to_string(i) + "\n";
  std::string full = writeTempFile("mtlrt_csv_full.csv.gz", big, true);
  std::ifstream in(full, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::string cut = writeTempFile("mtlrt_csv_cut.csv.gz", bytes.substr(0, bytes.size() / 2));
  EXPECT_EQ(readError(opts(cut, false)),
            cut + ": truncated gzip file (the compressed data ends early)");
  std::string corrupt = bytes;
  for (size_t i = 100; i < 400; ++i)
    corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5A);
  std::string bad = writeTempFile("mtlrt_csv_corrupt.csv.gz", corrupt);
  std::string message = readError(opts(bad, false));
  EXPECT_EQ(message.rfind(bad + ": corrupt gzip data: ", 0), 0u) << message;
  EXPECT_EQ(readError(opts(full, true, ',', "", -1)),
            full + ": skip must not be negative (got -1)");
  EXPECT_EQ(readError(opts(full, true, '"')), full + ": a quote cannot separate fields");
}

TEST(CsvColumns, NumbersAndBadCells) {
  std::string path = writeTempFile("mtlrt_csv_nums.csv", "x,y\n1.5,+2\n-3e2, 4 \n,7\n1e-50,abc\n");
  CsvTable table = readOk(opts(path));
  auto x = numericColumn(table, 0, path);
  ASSERT_TRUE(x.ok()) << x.error();
  EXPECT_EQ((*x)[0], 1.5f);
  EXPECT_EQ((*x)[1], -300.0f);
  EXPECT_TRUE(std::isnan((*x)[2])); // an empty cell is missing
  EXPECT_EQ((*x)[3], 0.0f);
  auto y = numericColumn(table, 1, path);
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.error(), path + ":5: column 'y': 'abc' is not a number");
  // Non-finite numbers are errors, each named with its line and column,
  // unless the file declares the spelling a missing value.
  for (const char *cell : {"inf", "-inf", "nan", "NaN", "+inf", "infinity"}) {
    std::string odd = writeTempFile("mtlrt_csv_odd.csv", fmt::format("a,b\n1,2\n3,{}\n", cell));
    auto b = numericColumn(readOk(opts(odd)), 1, odd);
    ASSERT_FALSE(b.ok()) << cell;
    EXPECT_EQ(b.error(), fmt::format("{}:3: column 'b': '{}' is not a finite number; if it marks "
                                     "a missing value, declare it with na = \"{}\" in csv(...)",
                                     odd, cell, cell));
    auto declared = numericColumn(readOk(opts(odd, true, ',', cell)), 1, odd);
    ASSERT_TRUE(declared.ok()) << declared.error();
    EXPECT_TRUE(std::isnan((*declared)[1]));
  }
  auto out = numericColumn(table, 2, path);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error(),
            path + ": column 2 is out of range (the file has 2 columns, numbered from 0)");
  std::string huge = writeTempFile("mtlrt_csv_huge.csv", "v\n1e50\n");
  auto h = numericColumn(readOk(opts(huge)), 0, huge);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error(), huge + ":2: column 'v': 1e50 is out of range for a 32-bit float");
}

TEST(CsvColumns, FindColumnSuggests) {
  CsvOptions options = opts(fixture("penguins.csv"), true, ',', "NA");
  CsvTable table = readOk(options);
  auto found = findColumn(table, "sex", options.path);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, 6u);
  auto typo = findColumn(table, "bil_length", options.path);
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.error(), options.path +
                              ": no column named 'bil_length' (columns: species, island, "
                              "bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, "
                              "sex, year); did you mean 'bill_length_mm'?");
  auto far = findColumn(table, "colour", options.path);
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.error().find("did you mean"), std::string::npos);
  CsvTable digits = readOk(opts(fixture("digits.csv.gz"), false));
  auto unnamed = findColumn(digits, "label", "digits.csv.gz");
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.error(), "digits.csv.gz: no column named 'label': the file is read without a "
                             "header, so select columns by number (from 0)");
}

TEST(CsvColumns, ClassLabels) {
  std::string path =
      writeTempFile("mtlrt_csv_labels.csv", "s,i,neg,mixed\nb,3,1,10\na,,-1,x\nc,0,2,9\n,1,0,10\n");
  CsvTable table = readOk(opts(path));
  auto s = classColumn(table, 0, path);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(s->ids, (std::vector<int32_t>{1, 0, 2, -1}));
  auto i = classColumn(table, 1, path);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->names, (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(i->ids, (std::vector<int32_t>{3, -1, 0, 1}));
  auto neg = classColumn(table, 2, path);
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.error(), path + ":3: column 'neg': class label -1 is negative (integer labels "
                                "are class ids, which start at 0)");
  auto mixed = classColumn(table, 3, path); // not all integers: sorted as text
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->names, (std::vector<std::string>{"10", "9", "x"}));
  EXPECT_EQ(mixed->ids, (std::vector<int32_t>{0, 2, 1, 0}));
  auto ordered = classColumn(table, 0, path, {"c", "b", "a"});
  ASSERT_TRUE(ordered.ok());
  EXPECT_EQ(ordered->ids, (std::vector<int32_t>{1, 2, 0, -1}));
  auto unknown = classColumn(table, 0, path, {"a", "b"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error(),
            path + ":4: column 's': class 'c' is not one of the task's 2 classes (a, b)");
  // Integer labels match a vocabulary by value.
  std::string padded = writeTempFile("mtlrt_csv_padded.csv", "k\n02\n+1\n0\n");
  auto byValue = classColumn(readOk(opts(padded)), 0, padded, {"0", "1", "2"});
  ASSERT_TRUE(byValue.ok()) << byValue.error();
  EXPECT_EQ(byValue->ids, (std::vector<int32_t>{2, 1, 0}));
}

TEST(CsvColumns, SeveralColumnsAreReadRowByRowAsEachAlone) {
  std::string path =
      writeTempFile("mtlrt_csv_cols.csv", "a,b,c\n1,2,3\n4,,6\n 7 ,8,\"9\"\n-1e-3,5e2,\n");
  CsvTable table = readOk(opts(path));
  auto both = numericColumns(table, {2, 0}, path);
  ASSERT_TRUE(both.ok()) << both.error();
  auto c = numericColumn(table, 2, path), a = numericColumn(table, 0, path);
  ASSERT_TRUE(c.ok() && a.ok());
  ASSERT_EQ(both->size(), 8u);
  for (size_t r = 0; r < 4; ++r) { // NaN for a missing cell, in both
    EXPECT_EQ(std::isnan((*both)[2 * r]), std::isnan((*c)[r])) << r;
    if (!std::isnan((*c)[r]))
      EXPECT_EQ((*both)[2 * r], (*c)[r]) << r;
    EXPECT_EQ((*both)[2 * r + 1], (*a)[r]) << r;
  }
  EXPECT_TRUE(std::isnan((*both)[6]));
  EXPECT_EQ((*both)[7], -1e-3f);
}

TEST(CsvColumns, SeveralColumnsFailAsTheFirstFailingColumnAlone) {
  // Column b's bad cell is on an earlier line than column a's: a column at a
  // time names a's when a comes first, and so must a read row by row.
  std::string path = writeTempFile("mtlrt_csv_cols_bad.csv", "a,b\n1,x\n2,3\ninf,4\n");
  CsvTable table = readOk(opts(path));
  auto ab = numericColumns(table, {0, 1}, path);
  ASSERT_FALSE(ab.ok());
  EXPECT_EQ(ab.error(), numericColumn(table, 0, path).error());
  EXPECT_EQ(ab.error().rfind(path + ":4: column 'a': 'inf' is not a finite number", 0), 0u)
      << ab.error();
  auto ba = numericColumns(table, {1, 0}, path);
  ASSERT_FALSE(ba.ok());
  EXPECT_EQ(ba.error(), path + ":2: column 'b': 'x' is not a number");
  // A non-finite number alone is refused too, wherever its column comes.
  std::string inf = writeTempFile("mtlrt_csv_cols_inf.csv", "a,b\n1,2\ninf,4\n");
  auto ba2 = numericColumns(readOk(opts(inf)), {1, 0}, inf);
  ASSERT_FALSE(ba2.ok());
  EXPECT_EQ(ba2.error().rfind(inf + ":3: column 'a': 'inf' is not a finite number", 0), 0u)
      << ba2.error();
  auto out = numericColumns(table, {5, 0}, path);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error(),
            path + ": column 5 is out of range (the file has 2 columns, numbered from 0)");
}
