// dataset_test.cpp: assembling inputs and targets from CSV, IDX and synthetic data sets.
#include "TestFiles.h"
#include "mtlrt/Dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

using namespace mtlrt;

using mtl::test::fixture;

namespace {

DataSpec csvSpec(const std::string &file, bool header = true, char separator = ',',
                 std::string na = "", int64_t skip = 0) {
  DataSpec spec;
  spec.name = "train";
  spec.kind = DataSpec::Csv;
  spec.csv.path = fixture(file);
  spec.csv.header = header;
  spec.csv.separator = separator;
  spec.csv.na = std::move(na);
  spec.csv.skip = skip;
  return spec;
}

BindingSpec binding(std::string target, bool isTask, int slot, std::vector<ColumnSel> columns,
                    int64_t width = -1) {
  BindingSpec b;
  b.target = std::move(target);
  b.isTask = isTask;
  b.slot = slot;
  b.width = width < 0 ? static_cast<int64_t>(columns.size()) : width;
  b.columns = std::move(columns);
  return b;
}

ColumnSel byName(std::string name) { return ColumnSel{std::move(name), -1}; }
ColumnSel byIndex(int64_t index) { return ColumnSel{"", index}; }

std::vector<ColumnSel> indexRange(int64_t from, int64_t to) {
  std::vector<ColumnSel> columns;
  for (int64_t i = from; i < to; ++i)
    columns.push_back(byIndex(i));
  return columns;
}

int64_t countNan(const std::vector<float> &values) {
  return std::count_if(values.begin(), values.end(), [](float v) { return std::isnan(v); });
}

/// The penguins model of the design notes: x from four measurements, species
/// and sex as classes, body mass as a scaled regression target.
DataSpec penguins() {
  DataSpec spec = csvSpec("penguins.csv", true, ',', "NA");
  spec.bindings.push_back(binding("x", false, 0,
                                  {byName("bill_length_mm"), byName("bill_depth_mm"),
                                   byName("flipper_length_mm"), byName("body_mass_g")}));
  spec.bindings[0].standardize = true;
  spec.bindings.push_back(binding("species", true, 0, {byName("species")}));
  spec.bindings[1].asClass = true;
  spec.bindings.push_back(binding("sex", true, 1, {byName("sex")}));
  spec.bindings[2].asClass = true;
  spec.bindings.push_back(binding("mass", true, 2, {byName("body_mass_g")}));
  spec.bindings[3].scale = 0.001;
  return spec;
}

const std::vector<InputSpec> penguinInputs = {{"x", 4, 0, {}}};
const std::vector<TaskSpec> penguinTasks = {{"species", TaskSpec::Classify, 3, {}},
                                            {"sex", TaskSpec::Binary, 1, {}},
                                            {"mass", TaskSpec::Regress, 1, {}}};

std::string loadError(const DataSpec &spec, const std::vector<InputSpec> &inputs,
                      const std::vector<TaskSpec> &tasks) {
  auto data = loadDataset(spec, inputs, tasks);
  EXPECT_FALSE(data.ok());
  return data.ok() ? std::string() : data.error();
}

} // namespace

TEST(Dataset, Penguins) {
  auto data = loadDataset(penguins(), penguinInputs, penguinTasks);
  ASSERT_TRUE(data.ok()) << data.error();
  EXPECT_EQ(data->rows, 342); // lines 5 and 273 have no measurements
  ASSERT_EQ(data->notes.size(), 1u);
  EXPECT_EQ(data->notes[0],
            fixture("penguins.csv") + ": dropped 2 rows with missing input values (lines 5, 273)");
  EXPECT_EQ(data->inputWidths, (std::vector<int64_t>{4}));
  EXPECT_EQ(data->targetWidths, (std::vector<int64_t>{1, 1, 1}));
  ASSERT_EQ(data->inputs[0].size(), 342u * 4);
  EXPECT_FLOAT_EQ(data->inputs[0][0], 39.1f);
  EXPECT_FLOAT_EQ(data->inputs[0][3], 3750.0f);
  EXPECT_EQ(data->sourceRows[3], 6);
  EXPECT_EQ(data->classNames[0], (std::vector<std::string>{"Adelie", "Chinstrap", "Gentoo"}));
  EXPECT_EQ(data->classNames[1], (std::vector<std::string>{"female", "male"}));
  EXPECT_TRUE(data->classNames[2].empty());
  EXPECT_EQ(data->targets[0][0], 0.0f);
  EXPECT_EQ(data->targets[0][341], 1.0f);
  EXPECT_EQ(data->targets[1][0], 1.0f);
  EXPECT_EQ(countNan(data->targets[1]), 9); // 11 missing sexes, 2 in dropped rows
  EXPECT_FLOAT_EQ(data->targets[2][0], 3.75f);
  EXPECT_EQ(data->standardizeInputs, (std::vector<uint8_t>{1}));
  EXPECT_EQ(data->standardizeTargets, (std::vector<uint8_t>{0, 0, 0}));
}

TEST(Dataset, TwoLoadsOfOneFileHoldTheirInputsOnce) {
  // What an experiment does with its models' data: each loads the file, and
  // the inputs that came out equal share one array.
  auto a = loadDataset(penguins(), penguinInputs, penguinTasks);
  auto b = loadDataset(penguins(), penguinInputs, penguinTasks);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(b->inputs[0].sharesWith(a->inputs[0]));
  EXPECT_EQ(shareEqualInputs(*b, *a), 342u * 4 * sizeof(float));
  EXPECT_TRUE(b->inputs[0].sharesWith(a->inputs[0]));
  EXPECT_EQ(shareEqualInputs(*b, *a), 0u); // shared already

  // Writing to a shared array copies it first: the other keeps its values.
  Dataset changed = *a;
  EXPECT_TRUE(changed.inputs[0].sharesWith(a->inputs[0]));
  changed.inputs[0].write()[0] = 40.0f;
  EXPECT_FLOAT_EQ(a->inputs[0][0], 39.1f);
  EXPECT_FLOAT_EQ(b->inputs[0][0], 39.1f);
  EXPECT_FLOAT_EQ(changed.inputs[0][0], 40.0f);
  EXPECT_EQ(shareEqualInputs(changed, *a), 0u); // values that differ stay apart
  EXPECT_FALSE(changed.inputs[0].sharesWith(a->inputs[0]));

  // Equal bit for bit, the NaN of a gap included; another length never.
  Dataset gaps, same, shorter;
  gaps.inputs = {std::vector<float>{1, NAN, 3}};
  same.inputs = {std::vector<float>{1, NAN, 3}};
  shorter.inputs = {std::vector<float>{1, NAN}};
  EXPECT_EQ(shareEqualInputs(same, gaps), 3u * sizeof(float));
  EXPECT_EQ(shareEqualInputs(shorter, gaps), 0u);
  EXPECT_TRUE(same.inputs[0].sharesWith(gaps.inputs[0]));
  EXPECT_FALSE(shorter.inputs[0].sharesWith(gaps.inputs[0]));
}

TEST(Dataset, WineDigitsLinnerud) {
  DataSpec wine = csvSpec("wine_data.csv", false, ',', "", 1);
  wine.bindings.push_back(binding("x", false, 0, indexRange(1, 13)));
  wine.bindings.push_back(binding("class", true, 0, {byIndex(13)}));
  wine.bindings[1].asClass = true;
  wine.bindings.push_back(binding("alcohol", true, 1, {byIndex(0)}));
  auto w =
      loadDataset(wine, {{"x", 12, 0, {}}},
                  {{"class", TaskSpec::Classify, 3, {}}, {"alcohol", TaskSpec::Regress, 1, {}}});
  ASSERT_TRUE(w.ok()) << w.error();
  EXPECT_EQ(w->rows, 178);
  EXPECT_FLOAT_EQ(w->inputs[0][0], 1.71f);
  EXPECT_FLOAT_EQ(w->targets[1][0], 14.23f);
  EXPECT_EQ(w->classNames[0], (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_TRUE(w->notes.empty());

  DataSpec digits = csvSpec("digits.csv.gz", false);
  digits.bindings.push_back(binding("pixels", false, 0, indexRange(0, 64)));
  digits.bindings[0].scale = 1.0 / 16;
  digits.bindings.push_back(binding("digit", true, 0, {byIndex(64)}));
  digits.bindings.push_back(binding("odd", true, 1, {byIndex(64)}));
  digits.bindings[2].inSet = {1, 3, 5, 7, 9};
  auto d = loadDataset(digits, {{"pixels", 64, 0, {}}},
                       {{"digit", TaskSpec::Classify, 10, {}}, {"odd", TaskSpec::Binary, 1, {}}});
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->rows, 1797);
  EXPECT_FLOAT_EQ(d->inputs[0][3], 13.0f / 16);
  EXPECT_EQ(d->targets[0][1796], 8.0f); // numeric class ids work without 'as class'
  EXPECT_EQ(d->classNames[0].size(), 10u);
  EXPECT_TRUE(d->classNames[1].empty());
  EXPECT_EQ(d->targets[1][0], 0.0f);
  EXPECT_EQ(d->targets[1][1], 1.0f);

  DataSpec lin = csvSpec("linnerud_exercise.csv", true, ' ');
  lin.bindings.push_back(binding("chins", false, 0, {byName("Chins")}));
  lin.bindings.push_back(binding("rest", true, 0, {byName("Situps"), byName("Jumps")}));
  auto l = loadDataset(lin, {{"chins", 1, 0, {}}}, {{"rest", TaskSpec::Regress, 2, {}}});
  ASSERT_TRUE(l.ok()) << l.error();
  EXPECT_EQ(l->rows, 20);
  EXPECT_EQ(l->targets[0][0], 162.0f);
  EXPECT_EQ(l->targets[0][1], 60.0f);
}

TEST(Dataset, UnboundTaskIsAllMissing) {
  DataSpec spec = penguins();
  spec.bindings.pop_back();
  auto data = loadDataset(spec, penguinInputs, penguinTasks);
  ASSERT_TRUE(data.ok()) << data.error();
  EXPECT_EQ(countNan(data->targets[2]), 342);
}

TEST(Dataset, BindingErrors) {
  const std::string path = fixture("penguins.csv");
  DataSpec typo = penguins();
  typo.bindings[0].columns[0].name = "bil_length";
  EXPECT_EQ(loadError(typo, penguinInputs, penguinTasks).substr(path.size()),
            ": no column named 'bil_length' (columns: species, island, bill_length_mm, "
            "bill_depth_mm, flipper_length_mm, body_mass_g, sex, year); did you mean "
            "'bill_length_mm'?");
  // No suggestion names a column the data set reads already: not the closest,
  // bill_length_mm, but the one it no longer reads.
  DataSpec taken = penguins();
  taken.bindings[0].columns[1].name = "bill_lengthmm";
  EXPECT_EQ(loadError(taken, penguinInputs, penguinTasks).substr(path.size()),
            ": no column named 'bill_lengthmm' (columns: species, island, bill_length_mm, "
            "bill_depth_mm, flipper_length_mm, body_mass_g, sex, year); did you mean "
            "'bill_depth_mm'?");
  DataSpec narrow = penguins();
  narrow.bindings[0].columns.pop_back();
  narrow.bindings[0].width = 4;
  EXPECT_EQ(loadError(narrow, penguinInputs, penguinTasks),
            path + ": input 'x' gets 3 values per row from columns 'bill_length_mm', "
                   "'bill_depth_mm', 'flipper_length_mm', but it needs 4");
  EXPECT_EQ(loadError(penguins(), penguinInputs,
                      {{"species", TaskSpec::Classify, 2, {}}, penguinTasks[1], penguinTasks[2]}),
            path + ": column 'species' has 3 classes (Adelie, Chinstrap, Gentoo), but task "
                   "'species' is classify(2)");
  EXPECT_EQ(loadError(penguins(), penguinInputs,
                      {penguinTasks[0], {"sex", TaskSpec::Regress, 1, {}}, penguinTasks[2]}),
            path + ": task 'sex' is read 'as class', which suits classify and binary tasks only");
  DataSpec species = penguins();
  species.bindings[1].asClass = false;
  EXPECT_EQ(loadError(species, penguinInputs, penguinTasks),
            path + ":2: column 'species': 'Adelie' is not a number");
  DataSpec twice = penguins();
  twice.bindings.push_back(twice.bindings[1]);
  EXPECT_EQ(loadError(twice, penguinInputs, penguinTasks),
            "data 'train': task 'species' is bound twice");
  DataSpec images = penguins();
  images.bindings[0].from = BindingSpec::Images;
  EXPECT_EQ(loadError(images, penguinInputs, penguinTasks),
            "data 'train': input 'x' reads IDX files, which a CSV data set does not have");
  DataSpec missing = penguins();
  missing.csv.path = fixture("no_such.csv");
  EXPECT_EQ(loadError(missing, penguinInputs, penguinTasks),
            fixture("no_such.csv") + ": cannot open: No such file or directory");

  DataSpec digits = csvSpec("digits.csv.gz", false);
  digits.bindings.push_back(binding("pixels", false, 0, indexRange(0, 64)));
  digits.bindings.push_back(binding("digit", true, 0, {byIndex(64)}));
  EXPECT_EQ(loadError(digits, {{"pixels", 64, 0, {}}}, {{"digit", TaskSpec::Classify, 8, {}}}),
            fixture("digits.csv.gz") + ":9: column 64: 8 is out of range: task 'digit' is "
                                       "classify(8) and needs class ids 0..7");
  EXPECT_EQ(loadError(digits, {{"pixels", 64, 0, {}}}, {{"digit", TaskSpec::Binary, 1, {}}}),
            fixture("digits.csv.gz") + ":3: column 64: 2 is out of range: task 'digit' needs "
                                       "targets in [0, 1]; 'in [..]' or 'as class' can make them");
  digits.bindings[1].columns = {byIndex(65)};
  EXPECT_EQ(loadError(digits, {{"pixels", 64, 0, {}}}, {{"digit", TaskSpec::Classify, 10, {}}}),
            fixture("digits.csv.gz") +
                ": column 65 is out of range (the file has 65 columns, numbered from 0)");
}

TEST(Dataset, EmptyAndAllMissing) {
  std::string header = ::testing::TempDir() + "mtlrt_ds_header.csv";
  std::ofstream(header) << "a,b\n";
  DataSpec spec = csvSpec("x");
  spec.csv.path = header;
  spec.bindings.push_back(binding("x", false, 0, {byName("a")}));
  EXPECT_EQ(loadError(spec, {{"x", 1, 0, {}}}, {}), header + ": no data rows after the header");
  std::ofstream(header) << "a,b\n,1\nNA,2\n";
  spec.csv.na = "NA";
  EXPECT_EQ(loadError(spec, {{"x", 1, 0, {}}}, {}),
            header + ": every row has a missing input value");
}

TEST(Dataset, FashionMnistIdx) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!std::filesystem::exists(dir + "t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  DataSpec spec;
  spec.name = "test";
  spec.kind = DataSpec::Idx;
  spec.images = dir + "t10k-images-idx3-ubyte.gz";
  spec.labels = dir + "t10k-labels-idx1-ubyte.gz";
  BindingSpec x = binding("x", false, 0, {}, 784);
  x.from = BindingSpec::Images;
  x.scale = 1.0 / 255;
  BindingSpec cls = binding("cloth", true, 0, {}, 1);
  cls.from = BindingSpec::Labels;
  cls.asClass = true;
  BindingSpec shoe = binding("footwear", true, 1, {}, 1);
  shoe.from = BindingSpec::Labels;
  shoe.inSet = {5, 7, 9};
  spec.bindings = {x, cls, shoe};
  std::vector<TaskSpec> tasks = {{"cloth", TaskSpec::Classify, 10, {}},
                                 {"footwear", TaskSpec::Binary, 1, {}}};
  auto data = loadDataset(spec, {{"x", 784, 0, {}}}, tasks);
  ASSERT_TRUE(data.ok()) << data.error();
  EXPECT_EQ(data->rows, 10000);
  EXPECT_EQ(data->classNames[0].size(), 10u);
  EXPECT_EQ(data->targets[0][0], 9.0f);
  EXPECT_EQ(std::count(data->targets[1].begin(), data->targets[1].end(), 1.0f), 3000);
  float top = *std::max_element(data->inputs[0].begin(), data->inputs[0].end());
  EXPECT_FLOAT_EQ(top, 1.0f);

  EXPECT_EQ(loadError(spec, {{"x", 28, 0, {}}}, tasks),
            spec.images + ": input 'x' gets 784 values per row from the images (28 x 28), but "
                          "it needs 28");
  DataSpec mismatched = spec;
  mismatched.labels = dir + "train-labels-idx1-ubyte.gz";
  EXPECT_EQ(loadError(mismatched, {{"x", 784, 0, {}}}, tasks),
            spec.images + " has 10000 items but " + mismatched.labels +
                " has 60000; they must match");
  DataSpec noLabels = spec;
  noLabels.labels.clear();
  EXPECT_EQ(loadError(noLabels, {{"x", 784, 0, {}}}, tasks),
            "data 'test': a binding reads labels, but no labels file is given");
}

TEST(Dataset, SyntheticIsDeterministicAndLearnable) {
  DataSpec spec;
  spec.name = "toy";
  spec.kind = DataSpec::Synthetic;
  spec.rows = 2000;
  spec.seed = 42;
  std::vector<InputSpec> inputs = {{"x", 8, 0, {}}, {"ids", 2, 5, {}}};
  std::vector<TaskSpec> tasks = {{"r", TaskSpec::Regress, 2, {}},
                                 {"b", TaskSpec::Binary, 1, {}},
                                 {"c", TaskSpec::Classify, 4, {}},
                                 {"m", TaskSpec::Multilabel, 3, {}}};
  auto a = loadDataset(spec, inputs, tasks);
  ASSERT_TRUE(a.ok()) << a.error();
  auto again = loadDataset(spec, inputs, tasks);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(a->inputs, again->inputs);
  EXPECT_EQ(a->targets, again->targets);
  EXPECT_EQ(a->rows, 2000);
  EXPECT_EQ(a->targetWidths, (std::vector<int64_t>{2, 1, 1, 3}));
  EXPECT_EQ(a->classNames[2], (std::vector<std::string>{"0", "1", "2", "3"}));

  double sum = 0, sumSq = 0;
  for (float v : a->inputs[0])
    sum += v, sumSq += v * v;
  double n = static_cast<double>(a->inputs[0].size());
  EXPECT_NEAR(sum / n, 0.0, 0.05);
  EXPECT_NEAR(sumSq / n, 1.0, 0.05);
  for (float id : a->inputs[1])
    EXPECT_TRUE(id >= 0 && id < 5 && id == std::floor(id));
  for (float r : a->targets[0])
    EXPECT_LT(std::abs(r), 1.3f);
  std::vector<int> classCounts(4);
  for (float c : a->targets[2])
    ++classCounts[static_cast<size_t>(c)];
  for (int c : classCounts)
    EXPECT_GT(c, 100); // every class occurs
  for (const auto *t : {&a->targets[1], &a->targets[3]}) {
    int64_t ones = std::count(t->begin(), t->end(), 1.0f);
    EXPECT_EQ(ones + std::count(t->begin(), t->end(), 0.0f), static_cast<int64_t>(t->size()));
    EXPECT_GT(ones, static_cast<int64_t>(t->size()) / 5);
    EXPECT_LT(ones, static_cast<int64_t>(t->size()) * 4 / 5);
  }

  // The teacher does not depend on the number of rows: a shorter set is a prefix.
  spec.rows = 100;
  auto prefix = loadDataset(spec, inputs, tasks);
  ASSERT_TRUE(prefix.ok());
  EXPECT_TRUE(
      std::equal(prefix->targets[2].begin(), prefix->targets[2].end(), a->targets[2].begin()));
  EXPECT_TRUE(std::equal(prefix->inputs[0].begin(), prefix->inputs[0].end(), a->inputs[0].begin()));
  spec.seed = 43;
  auto other = loadDataset(spec, inputs, tasks);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->inputs[0], prefix->inputs[0]);

  spec.rows = 0;
  EXPECT_EQ(loadError(spec, inputs, tasks),
            "data 'toy': a synthetic data set needs rows > 0 (got 0)");
  spec.rows = int64_t(1) << 40;
  EXPECT_EQ(loadError(spec, inputs, tasks),
            "data 'toy': 1099511627776 synthetic rows of 17 values are too many");
}

namespace {

DataSpec labelled(const std::string &path) {
  DataSpec spec;
  spec.name = "labels";
  spec.csv.path = path;
  spec.bindings.push_back(binding("x", false, 0, {byName("x")}));
  BindingSpec y = binding("y", true, 0, {byName("y")});
  y.asClass = true;
  spec.bindings.push_back(y);
  return spec;
}
} // namespace

TEST(Dataset, ClassVocabularyComesFromTrainingData) {
  const std::vector<InputSpec> inputs = {{"x", 1, 0, {}}};
  const std::vector<TaskSpec> tasks = {{"y", TaskSpec::Classify, 3, {}}};
  auto train = loadDataset(
      labelled(mtl::test::writeTempFile("voc_train.csv", "x,y\n1,b\n2,a\n3,c\n")), inputs, tasks);
  ASSERT_TRUE(train.ok()) << train.error();
  EXPECT_EQ(train->classNames[0], (std::vector<std::string>{"a", "b", "c"}));
  // A file that lacks class 'b' keeps 'c' at id 2 (numbered on its own, it would be 1).
  const std::vector<TaskSpec> fixed = withClasses(tasks, train->classNames);
  auto val = loadDataset(labelled(mtl::test::writeTempFile("voc_val.csv", "x,y\n1,c\n2,a\n")),
                         inputs, fixed);
  ASSERT_TRUE(val.ok()) << val.error();
  EXPECT_EQ(val->targets[0], (std::vector<float>{2, 0}));
  EXPECT_EQ(val->classNames[0], train->classNames[0]);
  // A label training never saw is an error naming the line, the label and the classes.
  std::string unseen = mtl::test::writeTempFile("voc_unseen.csv", "x,y\n1,a\n2,d\n");
  EXPECT_EQ(loadError(labelled(unseen), inputs, fixed),
            unseen + ":3: column 'y': class 'd' is not one of the task's 3 classes (a, b, c)");
  // A declared vocabulary fixes the order, even of the training data.
  const std::vector<TaskSpec> declared = {{"y", TaskSpec::Classify, 3, {"c", "b", "a"}}};
  auto ordered =
      loadDataset(labelled(mtl::test::writeTempFile("voc_train2.csv", "x,y\n1,b\n2,a\n3,c\n")),
                  inputs, declared);
  ASSERT_TRUE(ordered.ok()) << ordered.error();
  EXPECT_EQ(ordered->targets[0], (std::vector<float>{1, 2, 0}));
  // Numeric ids outside classify(k) are errors, never clamped.
  DataSpec ids = labelled(mtl::test::writeTempFile("voc_ids.csv", "x,y\n1,0\n2,3\n"));
  ids.bindings[1].asClass = false;
  EXPECT_EQ(loadError(ids, inputs, tasks),
            ids.csv.path + ":3: column 'y': 3 is out of range: task 'y' is classify(3) and needs "
                           "class ids 0..2");
  // An id inside the range that is not a whole number says so.
  DataSpec halves = labelled(mtl::test::writeTempFile("voc_halves.csv", "x,y\n1,0\n2,1.5\n"));
  halves.bindings[1].asClass = false;
  EXPECT_EQ(loadError(halves, inputs, tasks),
            halves.csv.path + ":3: column 'y': 1.5 is not a whole number: task 'y' is classify(3) "
                              "and needs class ids 0..2");
}

// The check of every value goes in one vectorised pass first (any value
// that may not fit?), then finds the first that does not: each bad value
// is found wherever it stands among the rows (a vector's lanes, the last
// rows past whole vectors), and -0, 0, 1 and missing targets pass.
TEST(Dataset, EveryRowsValueIsCheckedWhereverItStands) {
  const std::vector<InputSpec> inputs = {{"x", 1, 0, {}}};
  const std::vector<TaskSpec> tasks = {{"y", TaskSpec::Binary, 1, {}}};
  const char *fine[] = {"-0", "0", "1", "", "0.5"};
  auto withTarget = [&](int at, const std::string &bad) {
    std::string csv = "x,y\n";
    for (int r = 0; r < 37; ++r)
      csv += fmt::format("{},{}\n", r, r == at ? bad : fine[r % 5]);
    DataSpec spec;
    spec.name = "t";
    spec.csv.path = mtl::test::writeTempFile("targets.csv", csv);
    spec.bindings.push_back(binding("x", false, 0, {byName("x")}));
    spec.bindings.push_back(binding("y", true, 0, {byName("y")}));
    return spec;
  };
  auto data = loadDataset(withTarget(-1, ""), inputs, tasks);
  ASSERT_TRUE(data.ok()) << data.error();
  EXPECT_EQ(data->rows, 37);
  for (int at : {0, 5, 31, 36})
    for (const char *bad : {"1.0000001", "-1e-45", "2"}) {
      DataSpec spec = withTarget(at, bad);
      EXPECT_EQ(loadError(spec, inputs, tasks),
                fmt::format("{}:{}: column 'y': {} is out of range: task 'y' needs targets in [0, "
                            "1]; 'in [..]' or 'as class' can make them",
                            spec.csv.path, at + 2, bad))
          << at << " " << bad;
    }
}

TEST(Dataset, ValuesMustStayFiniteAfterScale) {
  const std::vector<InputSpec> inputs = {{"x", 1, 0, {}}};
  const std::vector<TaskSpec> tasks = {{"y", TaskSpec::Regress, 1, {}}};
  DataSpec spec;
  spec.name = "big";
  spec.csv.path = mtl::test::writeTempFile("big.csv", "x,y\n1,2\n3e38,4\n");
  spec.bindings.push_back(binding("x", false, 0, {byName("x")}));
  spec.bindings.back().scale = 10;
  spec.bindings.push_back(binding("y", true, 0, {byName("y")}));
  EXPECT_EQ(loadError(spec, inputs, tasks),
            spec.csv.path + ":3: column 'x': inf is out of range: input 'x' takes finite values "
                            "(after scale(10))");
}

// The fingerprint a resumed run compares: equal values give equal prints;
// a changed bit, a value moved to the next slot, or another source does not.
TEST(Dataset, FingerprintFollowsEveryValue) {
  Dataset a;
  a.rows = 3;
  a.inputWidths = {2, 1};
  a.inputs = {std::vector<float>{1, 2, 3, 4, 5, 6}, std::vector<float>{7, 8, 9}};
  a.targets = {{0, 1, NAN}};
  const uint64_t print = valuesFingerprint(a);
  Dataset copy = a;
  EXPECT_EQ(valuesFingerprint(copy), print);
  copy.name = "renamed"; // names and notes are not values
  copy.notes = {"a note"};
  EXPECT_EQ(valuesFingerprint(copy), print);

  std::vector<Dataset> others(5, a);
  others[0].inputs[0].write()[5] = std::nextafter(6.0f, 7.0f); // the last bit of the last word
  others[1].inputs = {std::vector<float>{1, 2, 3, 4, 5}, std::vector<float>{6, 7, 8, 9}};
  others[2].targets[0][2] = 0;
  others[3].sources = {0, 0, 1};
  others[4].sourceNames = {"x", "y"};
  others[4].sources = {0, 1, 1};
  std::vector<uint64_t> prints{print};
  for (const Dataset &other : others)
    prints.push_back(valuesFingerprint(other));
  std::sort(prints.begin(), prints.end());
  EXPECT_EQ(std::unique(prints.begin(), prints.end()), prints.end())
      << "two different data sets have one fingerprint";
}
