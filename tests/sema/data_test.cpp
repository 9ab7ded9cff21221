// data_test.cpp: data sources, bindings, widths, modifiers, and CSV/IDX files read at check time.
#include "SemaTestUtil.h"
#include "sema/DataFiles.h"

#include <filesystem>
#include <fstream>
#include <zlib.h>

namespace mtl::sema::test {
namespace {
namespace fs = std::filesystem;

// A folder with data files; models are checked as if written in it.
class Data : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("mtl_sema_data_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "data");
    write("data/penguins.csv",
          "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n"
          "Adelie,Torgersen,39.1,18.7,181,3750,male,2007\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string &name, const std::string &text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  void writeGz(const std::string &name, const std::string &bytes) {
    gzFile f = gzopen((dir_ / name).c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  }
  // An IDX header (no data needed at check time): type 0x08, the given dims.
  static std::string idx(const std::vector<uint32_t> &dims) {
    std::string s = {0, 0, 8, static_cast<char>(dims.size())};
    for (uint32_t d : dims)
      for (int shift = 24; shift >= 0; shift -= 8)
        s.push_back(static_cast<char>((d >> shift) & 0xff));
    return s;
  }
  std::string path(const std::string &name) const { return (dir_ / name).string(); }
  Checked run(const std::string &body) { return check(model(body), path("m.mtl")); }

  // The penguins model around a data block (data set named train).
  Checked penguins(const std::string &data, const std::string &extra = "") {
    return run("  input x : f32[4]\n" + data +
               "\n  task species : classify(3) { head = x -> dense(3) }\n"
               "  task sex : binary { head = x -> dense(1) }\n  task mass : regress { head = x "
               "-> dense(1) }\n" +
               extra);
  }

  fs::path dir_;
};

TEST_F(Data, CsvBindingsAreResolved) {
  Checked c = penguins("  data train = csv(\"data/penguins.csv\", na = \"NA\") {\n"
                       "    x = columns(bill_length_mm, \"bill_depth_mm\", 4..6) standardize\n"
                       "    species = column(species) as class\n"
                       "    sex = column(6) in [1, 2]\n"
                       "    mass = column(body_mass_g) scale(1 / 1000)\n  }");
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const Model &m = c.model();
  ASSERT_EQ(m.data.size(), 1u);
  const DataSet &d = m.data[0];
  EXPECT_EQ(d.name, "train");
  EXPECT_EQ(d.kind, DataKind::Csv);
  EXPECT_EQ(d.path, path("data/penguins.csv"));
  EXPECT_EQ(d.na, "NA");
  EXPECT_TRUE(d.header);
  EXPECT_EQ(d.separator, ',');
  ASSERT_EQ(d.bindings.size(), 4u);
  const DataBinding &x = d.bindings[0];
  EXPECT_FALSE(x.isTask);
  EXPECT_EQ(x.index, 0);
  EXPECT_TRUE(x.standardize);
  ASSERT_EQ(x.columns.size(), 4u);
  EXPECT_EQ(x.columns[0].name, "bill_length_mm");
  EXPECT_EQ(x.columns[1].name, "bill_depth_mm");
  EXPECT_EQ(x.columns[2].index, 4);
  EXPECT_EQ(x.columns[3].index, 5);
  EXPECT_TRUE(d.bindings[1].isTask);
  EXPECT_EQ(d.bindings[1].index, 0);
  EXPECT_TRUE(d.bindings[1].asClass);
  EXPECT_EQ(d.bindings[2].inSet, (std::vector<double>{1, 2}));
  EXPECT_DOUBLE_EQ(d.bindings[3].scale, 0.001);
  EXPECT_EQ(m.train.trainData, std::vector<int>{0});
}

TEST_F(Data, MissingColumnSuggestsAndOutOfRange) {
  Checked c = penguins("  data train = csv(\"data/penguins.csv\") {\n"
                       "    x = columns(bil_length, bill_depth_mm, 3, 12)\n"
                       "    species = column(specie) as class\n    sex = column(sex) as class\n"
                       "    mass = column(body_mass_g)\n  }");
  std::string file = path("m.mtl"), csv = path("data/penguins.csv");
  EXPECT_DIAG(c, file + ":4:17: error: no column named 'bil_length' in '" + csv +
                     "'; did you mean 'bill_length_mm'?\n");
  EXPECT_DIAG(c, file + ":4:47: error: column 12 is out of range; '" + csv + "' has 8 columns\n");
  EXPECT_DIAG(c, "error: no column named 'specie' in '" + csv + "'; did you mean 'species'?");
  EXPECT_EQ(c.errors, 3u) << c.text;
}

TEST_F(Data, HeaderOptionsSeparatorsSkipAndGzip) {
  write("data/blank.txt", "# a comment line\nA  B \"C D\"\n1 2 3\n");
  writeGz("data/z.csv.gz", "p;q;r;s\n1;2;3;4\n");
  write("data/noheader.csv", "1,2,3,4,5\n");
  Checked c = run("  input x : f32[3]\n  input y : f32[2]\n  input w : f32[1]\n"
                  "  data a = csv(\"data/blank.txt\", sep = \" \", skip = 1) {\n"
                  "    x = columns(A, B, \"C D\")\n  }\n"
                  "  data b = csv(\"data/z.csv.gz\", sep = \";\") { y = columns(p, s) }\n"
                  "  data c = csv(\"data/noheader.csv\", header = false) { w = column(4) }\n"
                  "  task t : regress { head = x -> dense(1) }");
  ASSERT_TRUE(c.parsed);
  EXPECT_EQ(c.errors, 1u) << c.text; // only: three data sets and none is named 'train'
  EXPECT_DIAG(c, "error: the model has 3 data sets and none is named 'train'");
  Checked bad = run("  input x : f32[2]\n"
                    "  data train = csv(\"data/z.csv.gz\", sep = \";\") { x = columns(p, t) }\n"
                    "  data more = csv(\"data/noheader.csv\", header = false) {\n"
                    "    x = columns(5, a)\n  }\n"
                    "  task t : regress { head = x -> dense(1) }");
  EXPECT_DIAG(bad, "error: no column named 't' in '" + path("data/z.csv.gz") + "'");
  EXPECT_DIAG(bad, ":5:17: error: column 5 is out of range; '" + path("data/noheader.csv") +
                       "' has 5 columns");
  EXPECT_DIAG(bad, ":5:20: error: column names need a header line, but data set 'more' has "
                   "header = false; select columns by number");
}

TEST_F(Data, MissingFilesAreNotChecked) {
  Checked c = run("  input x : f32[2]\n"
                  "  data train = csv(\"data/later.csv\") { x = columns(a, b) }\n"
                  "  task t : regress { head = x -> dense(1) }");
  EXPECT_EQ(c.errors, 1u) << c.text; // t is not bound
  EXPECT_DIAG(c, "error: data set 'train' does not bind task 't'");
  EXPECT_DIAG(c, "note: 't' is declared here");
}

TEST_F(Data, UnknownSourceHasNoFollowOns) {
  Checked c = run("  input x : f32[2]\n"
                  "  data train = parquet(\"a.parquet\") { x = images }\n"
                  "  task t : regress { head = x -> dense(1) }");
  EXPECT_DIAG(c, ":3:16: error: unknown data source 'parquet'");
  EXPECT_EQ(c.errors, 1u) << c.text; // neither "does not bind" nor a selection complaint
}

TEST_F(Data, SelectionWidthMustMatchTarget) {
  Checked c = penguins("  data train = csv(\"data/penguins.csv\") {\n"
                       "    x = columns(0..3)\n    species = columns(0, 1) as class\n"
                       "    sex = column(sex)\n    mass = column(body_mass_g)\n  }");
  EXPECT_DIAG(c, ":4:9: error: the selection gives 3 values but input 'x' (f32[4]) needs 4");
  // One error for the class target: the conversion's, which says what is wrong.
  EXPECT_NO_DIAG(c, "task 'species' (classify(3)) needs 1");
  EXPECT_DIAG(c, ":5:29: error: 'as class' needs exactly one column, got 2");
}

TEST_F(Data, BindingTargets) {
  Checked c = penguins("  data train = csv(\"data/penguins.csv\") {\n"
                       "    x = columns(0..4)\n    specis = column(species)\n"
                       "    sex = column(sex)\n    sex = column(sex)\n  }");
  EXPECT_DIAG(c, ":5:5: error: no input or task named 'specis'; did you mean 'species'?");
  EXPECT_DIAG(c, ":7:5: error: 'sex' is bound twice in data set 'train'");
  EXPECT_DIAG(c, ":6:5: note: previous binding is here");
  // The unknown name is the root cause: no "does not bind" complaints follow.
  EXPECT_NO_DIAG(c, "does not bind");
}

TEST_F(Data, ModifiersMustSuitTarget) {
  Checked c = run("  input x : f32[1]\n  input ids : i32[1]\n"
                  "  data train = csv(\"data/penguins.csv\") {\n"
                  "    x = column(year) as class\n    ids = column(year) standardize\n"
                  "    c = column(species) scale(2)\n    b = column(sex) in [1] as class\n"
                  "    r = column(year) in [1] standardize scale(3)\n"
                  "    r2 = column(year) as klass\n    b2 = column(sex) standardize standardize\n"
                  "  }\n"
                  "  task c : classify(3) { head = x -> dense(3) }\n"
                  "  task b : binary { head = ids -> embedding(4, 1) -> flatten }\n"
                  "  task b2 : regress { head = x -> dense(1) }\n"
                  "  task r : regress { head = x -> dense(1) }\n"
                  "  task r2 : regress { head = x -> dense(1) }");
  EXPECT_DIAG(c,
              ":5:22: error: 'as class' applies to classify and binary targets; 'x' is an input");
  EXPECT_DIAG(c, ":6:24: error: 'standardize' does not apply to i32 input 'ids': ids are used "
                 "as they are");
  EXPECT_DIAG(c, ":7:25: error: 'scale(...)' applies to inputs and regression targets; 'c' is "
                 "classify(3)");
  EXPECT_DIAG(c, ":8:28: error: use either 'as class' or 'in [...]', not both");
  EXPECT_DIAG(c, ":9:22: error: 'in [...]' applies to binary targets; 'r' is regress");
  EXPECT_DIAG(c, ":9:41: error: use either 'standardize' or 'scale(...)', not both");
  EXPECT_DIAG(c, ":10:26: error: unknown conversion 'klass'; did you mean 'class'?");
  EXPECT_DIAG(c, ":11:34: error: 'standardize' is given twice");
}

TEST_F(Data, MisspeltModifiersAreUnknownModifiers) {
  Checked c = run("  input x : f32[1]\n  input ids : i32[1]\n"
                  "  data train = csv(\"data/penguins.csv\") {\n"
                  "    x = column(year) standardise\n    c = column(species) sa class\n"
                  "    b = column(year) ni [1] scal(2)\n    c2 = column(species) class\n"
                  "    nope = column(year) normalize\n  }\n"
                  "  task c : classify(3) { head = x -> dense(3) }\n"
                  "  task c2 : classify(3) { head = x -> dense(3) }\n"
                  "  task b : binary { head = ids -> embedding(4, 1) -> flatten }");
  EXPECT_DIAG(c, ":5:22: error: unknown modifier 'standardise'; did you mean 'standardize'?");
  EXPECT_DIAG(c, ":6:25: error: unknown modifier 'sa'; did you mean 'as'?");
  EXPECT_DIAG(c, ":7:22: error: unknown modifier 'ni'; did you mean 'in'?");
  EXPECT_DIAG(c, ":7:29: error: unknown modifier 'scal'; did you mean 'scale'?");
  EXPECT_DIAG(c, ":8:26: error: unknown modifier 'class'; did you mean 'as class'?");
  // An unknown target does not hide the unknown modifier, nor the other way round.
  EXPECT_DIAG(c, ":9:5: error: no input or task named 'nope'");
  EXPECT_DIAG(c, ":9:25: error: unknown modifier 'normalize'; the modifiers are standardize, "
                 "scale(x), as class and in [v, ...]");
  EXPECT_EQ(c.errors, 7u) << c.text;
}

// A file read with the wrong separator has a header of one column; the
// message names the separator it more likely uses, once per data set.
TEST_F(Data, WrongSeparatorIsNamed) {
  write("data/semi.csv", "bill_length_mm;bill_depth_mm;flipper_length_mm;sex\n1;2;3;male\n");
  write("data/tabs.tsv", "a\tb\n1\t2\n");
  write("data/pipes.txt", "a|b|c\n1|2|3\n");
  write("data/blanks.txt", "a b\n1 2\n");
  write("data/spaced.csv", "body mass\n1\n");
  write("data/commas.csv", "a,b\n1,2\n");
  Checked c = run("  input x : f32[2]\n"
                  "  data train = csv(\"data/semi.csv\") {\n"
                  "    x = columns(bill_length_mm, bill_depth_mm)\n    t = column(sex)\n  }\n"
                  "  data b = csv(\"data/tabs.tsv\") { x = columns(a, b) }\n"
                  "  data c = csv(\"data/pipes.txt\") { x = columns(a, b) }\n"
                  "  data d = csv(\"data/blanks.txt\") { x = columns(a, b) }\n"
                  "  data e = csv(\"data/spaced.csv\") { x = columns(weight, 0) }\n"
                  "  data f = csv(\"data/commas.csv\", sep = \";\") { x = columns(a, b) }\n"
                  "  task t : binary { head = x -> dense(1) }");
  EXPECT_DIAG(c, ":4:17: error: no column named 'bill_length_mm' in '" + path("data/semi.csv") +
                     "': its header has one column 'bill_length_mm;bill_depth_mm;...'; is the "
                     "file separated by ';'? add sep = \";\" to csv(...)");
  EXPECT_DIAG(c, "in '" + path("data/tabs.tsv") +
                     "': its header has one column 'a\\tb'; is the file separated by tabs? add "
                     "sep = \"\\t\" to csv(...)");
  EXPECT_DIAG(c, "one column 'a|b|...'; is the file separated by '|'? add sep = \"|\"");
  EXPECT_DIAG(c, "one column 'a b'; is the file separated by blanks? add sep = \" \"");
  EXPECT_DIAG(c, "one column 'a,b'; is the file separated by ','? add sep = \",\"");
  // Blanks inside a name are no sign of a wrong separator.
  EXPECT_DIAG(c, "error: no column named 'weight' in '" + path("data/spaced.csv") + "'\n");
  EXPECT_NO_DIAG(c, "'bill_depth_mm' in");
  EXPECT_NO_DIAG(c, "'sex' in");
  EXPECT_EQ(c.errors, 6u) << c.text;
}

// Headers read as the runtime's reader reads them (runtime/src/data/Csv.cpp):
// names trimmed, blank lines before the header skipped; a binary file or one
// of CR line ends is said so, not reported as missing columns.
TEST_F(Data, CsvHeadersReadAsTheRuntimeReadsThem) {
  write("data/padded.csv", "a, b ,\"c\" \t\r\n1,2,3\r\n");
  write("data/blank.csv", "\n  \r\n\na,b\n1,2\n");
  write("data/cr.csv", "a,b,c\r1,2,3\r4,5,6\r");
  write("data/binary.csv", std::string{'\0', '\0', '\x08', '\x03', 'a', 'b', 'c'});
  write("data/quotedcr.csv", "\"a\",\"b\",\"c\"\r\"1\",\"2\",\"3\"\r");
  // Skipped lines may hold anything; a carriage return in quotes is the name's.
  write("data/skipped.csv", std::string("junk\0line\n\"a\rz\",b,c\n1,2,3\n", 26));
  Checked c =
      run("  input x : f32[2]\n"
          "  data p = csv(\"data/padded.csv\") { x = columns(a, b)  t = column(c) }\n"
          "  data q = csv(\"data/blank.csv\") { x = columns(a, b)  t = column(b) }\n"
          "  data r = csv(\"data/cr.csv\") { x = columns(a, b)  t = column(c) }\n"
          "  data s = csv(\"data/binary.csv\") { x = columns(a, b)  t = column(c) }\n"
          "  data u = csv(\"data/quotedcr.csv\") { x = columns(a, b)  t = column(c) }\n"
          "  data v = csv(\"data/skipped.csv\", skip = 1) { x = columns(b, c)  t = column(c) }\n"
          "  task t : regress { head = x -> dense(1) }\n  train { data = p }");
  EXPECT_DIAG(c, ":5:16: error: '" + path("data/cr.csv") +
                     "' ends its lines with a carriage return alone (classic Mac text); save it "
                     "with LF or CRLF line ends");
  EXPECT_DIAG(c, ":6:16: error: '" + path("data/binary.csv") +
                     "' is not CSV text: it holds NUL bytes (a binary file, or UTF-16 text "
                     "without its byte-order mark)");
  EXPECT_DIAG(c, ":7:16: error: '" + path("data/quotedcr.csv") + "' ends its lines with");
  EXPECT_EQ(c.errors, 3u) << c.text;
}

TEST(DataFiles, LikelySeparator) {
  EXPECT_EQ(likelySeparator("a;b;c", "a", ','), ';');
  EXPECT_EQ(likelySeparator("a;b|c|d", "a", ','), '|');
  EXPECT_EQ(likelySeparator("a\tb", "b", ','), '\t');
  EXPECT_EQ(likelySeparator("a;b", "a", ';'), std::nullopt); // read with ';' already
  EXPECT_EQ(likelySeparator("a  b", "b", ','), ' ');
  EXPECT_EQ(likelySeparator("a b", "c", ','), std::nullopt);
  EXPECT_EQ(likelySeparator("value", "x", ','), std::nullopt);
}

TEST_F(Data, SelectionErrors) {
  Checked c = run("  input x : f32[1]\n  data train = csv(\"data/penguins.csv\") {\n"
                  "    x = colum(year)\n  }\n  data i = idx(labels = \"l.gz\") { x = column(1) }\n"
                  "  data j = csv(\"data/penguins.csv\") { x = images }\n"
                  "  data k = csv(\"data/penguins.csv\") { x = column(1, 2) }\n"
                  "  data l = csv(\"data/penguins.csv\") { x = columns(3..3) }\n"
                  "  data n = csv(\"data/penguins.csv\") { x = column }\n"
                  "  task t : regress { head = x -> dense(1) }\n  train { data = train }");
  EXPECT_DIAG(c, ":4:9: error: unknown selection 'colum'; did you mean 'column'?");
  EXPECT_DIAG(c, ":6:39: error: 'column' selects csv columns; select from idx data with "
                 "'images' or 'labels'");
  EXPECT_DIAG(c, ":7:43: error: 'images' selects from idx data; select from csv data with "
                 "column(...) or columns(...)");
  EXPECT_DIAG(c, ":8:53: error: column(...) selects one column; use columns(...) for several");
  EXPECT_DIAG(c, ":9:51: error: column range 3..3 is empty");
  EXPECT_DIAG(c, ":10:43: error: column needs a column: column(NAME) or column(N)");
}

TEST_F(Data, SourceErrors) {
  Checked c = run("  input x : f32[1]\n"
                  "  data a = cvs(\"x.csv\") { x = column(0) }\n"
                  "  data b = csv(\"x.csv\", sep = \"ab\", skip = -1) { x = column(0) }\n"
                  "  data c = idx() {}\n"
                  "  data d = synthetic(rows = 0) {}\n"
                  "  data e = synthetic() { x = column(0) }\n"
                  "  data f = csv(\"\") { x = column(0) }\n"
                  "  task t : regress { head = x -> dense(1) }\n  train { data = d }");
  EXPECT_DIAG(c, ":3:12: error: unknown data source 'cvs'; did you mean 'csv'?");
  EXPECT_DIAG(c, ":4:31: error: sep must be one character, got \"ab\"");
  EXPECT_DIAG(c, ":4:44: error: skip must be at least 0, got -1");
  EXPECT_DIAG(c, ":5:12: error: idx needs images = PATH, labels = PATH or both");
  EXPECT_DIAG(c, ":6:29: error: rows must be at least 1, got 0");
  EXPECT_DIAG(c, ":7:26: error: synthetic data takes no bindings: it generates every input "
                 "and task target itself");
  EXPECT_DIAG(c, ":8:16: error: a path must not be empty");
}

TEST_F(Data, SyntheticBindsEverything) {
  Checked c = run("  input x : f32[3]\n  data train = synthetic(rows = 64, seed = 3) {}\n"
                  "  task t : regress { head = x -> dense(1) }");
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const DataSet &d = c.model().data[0];
  EXPECT_EQ(d.kind, DataKind::Synthetic);
  EXPECT_EQ(d.rows, 64);
  EXPECT_EQ(d.seed, 3u);
  Checked dflt = run("  input x : f32[3]\n  data train = synthetic() {}\n"
                     "  task t : regress { head = x -> dense(1) }");
  ASSERT_EQ(dflt.models.size(), 1u) << dflt.text;
  EXPECT_EQ(dflt.model().data[0].rows, 1000);
}

TEST_F(Data, IdxImagesAndLabels) {
  writeGz("data/img.gz", idx({60000, 28, 28}));
  writeGz("data/lab.gz", idx({60000}));
  write("data/bad.idx", "not idx at all");
  Checked c = run("  input img : f32[1, 28, 28]\n"
                  "  data train = idx(images = \"data/img.gz\", labels = \"data/lab.gz\") {\n"
                  "    img = images scale(1 / 255)\n    cls = labels as class\n"
                  "    foot = labels in [5, 7, 9]\n  }\n"
                  "  task cls : classify(10) { head = img -> flatten -> dense(10) }\n"
                  "  task foot : binary { head = img -> flatten -> dense(1) }");
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  const DataSet &d = c.model().data[0];
  EXPECT_EQ(d.kind, DataKind::Idx);
  EXPECT_EQ(d.images, path("data/img.gz"));
  EXPECT_EQ(d.labels, path("data/lab.gz"));
  EXPECT_EQ(d.bindings[0].from, DataBinding::Images);
  EXPECT_NEAR(d.bindings[0].scale, 1.0 / 255, 1e-15);
  EXPECT_EQ(d.bindings[1].from, DataBinding::Labels);
  EXPECT_EQ(d.bindings[2].inSet, (std::vector<double>{5, 7, 9}));

  Checked bad = run("  input img : f32[100]\n"
                    "  data train = idx(images = \"data/img.gz\", labels = \"data/bad.idx\") {\n"
                    "    img = images\n  }\n  task t : regress { head = img -> dense(1) }");
  EXPECT_DIAG(bad,
              ":4:11: error: the selection gives 784 values but input 'img' (f32[100]) needs 100");
  EXPECT_DIAG(bad, ":3:53: error: '" + path("data/bad.idx") + "' is not an IDX file");

  // Dimensions whose product overflows are no real data (the product was negative).
  writeGz("data/huge.gz", idx({2, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}));
  Checked huge = run("  input img : f32[4]\n  data train = idx(images = \"data/huge.gz\") {\n"
                     "    img = images\n  }\n  task t : regress { head = img -> dense(1) }\n"
                     "  data y = synthetic() {}\n  train { data = y }");
  EXPECT_DIAG(huge, ":3:29: error: '" + path("data/huge.gz") +
                        "' has IDX dimensions [2, 4294967295, 4294967295, 4294967295] too large "
                        "to be real");
  EXPECT_EQ(huge.errors, 1u) << huge.text;
}

TEST_F(Data, PathsResolveAgainstTheModelFile) {
  Checked c =
      check(model("  input x : f32[1]\n  data train = csv(\"../d/x.csv\") { x = column(0) }\n"
                  "  data abs = csv(\"/srv/./y.csv\") { x = column(0) }\n"
                  "  task t : regress { head = x -> dense(1) }\n  train { data = gen }\n"
                  "  data gen = synthetic() {}"),
            "models/sub/m.mtl");
  ASSERT_EQ(c.models.size(), 1u) << c.text;
  EXPECT_EQ(c.model().data[0].path, "models/d/x.csv");
  EXPECT_EQ(c.model().data[1].path, "/srv/y.csv");
  EXPECT_EQ(c.model().train.trainData, std::vector<int>{2});
}

} // namespace
} // namespace mtl::sema::test
