// categories_test.cpp: inputs read 'as category': vocabularies per column, <unk>, and checkpoints.
#include "TestFiles.h"
#include "TrainerTestModel.h"
#include "mtlrt/Checkpoint.h"
#include "mtlrt/Dataset.h"
#include "mtlrt/Trainer.h"

#include <gtest/gtest.h>

using namespace mtlrt;

namespace {

/// Columns `color` and `size` as the two ids of input 'ids', `y` as a regression target.
DataSpec categorySpec(const std::string &path) {
  DataSpec spec;
  spec.name = "shop";
  spec.csv.path = path;
  BindingSpec ids;
  ids.target = "ids";
  ids.slot = 0;
  ids.columns = {{"color", -1}, {"size", -1}};
  ids.width = 2;
  ids.asCategory = true;
  BindingSpec y;
  y.target = "y";
  y.isTask = true;
  y.slot = 0;
  y.columns = {{"y", -1}};
  spec.bindings = {ids, y};
  return spec;
}

const std::vector<TaskSpec> kTasks = {{"y", TaskSpec::Regress, 1, {}}};

} // namespace

TEST(Categories, EachColumnHasItsVocabularyAndIdRange) {
  const std::vector<InputSpec> inputs = {{"ids", 2, 10, {}}};
  std::string path = mtl::test::writeTempFile("cat_train.csv", "color,size,y\n"
                                                               "red,L,1\n"
                                                               "blue,S,2\n"
                                                               " red ,M,3\n"
                                                               "green,S,4\n");
  auto train = loadDataset(categorySpec(path), inputs, kTasks);
  ASSERT_TRUE(train.ok()) << train.error();
  // Column 'color': <unk>=0, blue=1, green=2, red=3 (sorted, blanks trimmed);
  // column 'size' follows at 4: <unk>=4, L=5, M=6, S=7.
  const Categories expected = {{"<unk>", "blue", "green", "red"}, {"<unk>", "L", "M", "S"}};
  EXPECT_EQ(train->categories[0], expected);
  EXPECT_EQ(train->inputs[0], (std::vector<float>{3, 5, 1, 7, 3, 6, 2, 7}));
  EXPECT_TRUE(train->notes.empty());
  EXPECT_EQ(categoryCount(expected), 8);
}

TEST(Categories, OtherFilesUseTheTrainingVocabularyAndReadUnknownsAsUnk) {
  const std::vector<InputSpec> inputs =
      withCategories({{"ids", 2, 10, {}}}, {{{"<unk>", "blue", "red"}, {"<unk>", "L", "S"}}});
  // 'green' and 'XL' were not in training; an empty cell is missing.
  std::string path = mtl::test::writeTempFile("cat_val.csv", "color,size,y\n"
                                                             "green,L,1\n"
                                                             "red,XL,2\n"
                                                             ",S,3\n"
                                                             "blue,S,4\n");
  auto val = loadDataset(categorySpec(path), inputs, kTasks);
  ASSERT_TRUE(val.ok()) << val.error();
  // color: <unk>=0, blue=1, red=2; size: <unk>=3, L=4, S=5.
  EXPECT_EQ(val->inputs[0], (std::vector<float>{0, 4, 2, 3, 0, 5, 1, 5}));
  EXPECT_EQ(val->rows, 4); // a missing category keeps its row
  ASSERT_EQ(val->notes.size(), 2u);
  EXPECT_EQ(val->notes[0],
            path + ": 2 values that training did not see read as <unk> (the first: " + path +
                ":2: column 'color': 'green')");
  EXPECT_EQ(val->notes[1], path + ": 1 missing value of input 'ids' read as <unk>");
  EXPECT_EQ(val->categories[0], inputs[0].categories);
}

TEST(Categories, AVocabularyLargerThanTheEmbeddingIsAnError) {
  const std::vector<InputSpec> inputs = {{"ids", 2, 5, {}}};
  std::string path = mtl::test::writeTempFile("cat_big.csv", "color,size,y\nred,L,1\nblue,S,2\n");
  auto d = loadDataset(categorySpec(path), inputs, kTasks);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), path + ": input 'ids' reads 6 categories from columns 'color', 'size' (each "
                              "column's values and its <unk>), but the embedding it feeds has 5 "
                              "rows; make it embedding(6, ...)");
}

TEST(Categories, OnlyIntegerInputsOfEmbeddingsReadCategories) {
  std::string path = mtl::test::writeTempFile("cat_f32.csv", "color,size,y\nred,L,1\n");
  auto d = loadDataset(categorySpec(path), {{"ids", 2, 0, {}}}, kTasks);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), "data 'shop': input 'ids' is read 'as category', which suits CSV columns "
                       "feeding an i32 input of an embedding");
}

TEST(Categories, CheckpointsKeepTheVocabulary) {
  TrainOptions o;
  o.quiet = true;
  Result<Trainer> trainer = Trainer::create(&testmodel::kModel, o);
  ASSERT_TRUE(trainer.ok()) << trainer.error();
  const Categories vocabulary = {{"<unk>", "a", "b"}, {"<unk>", "x"}};
  trainer->setCategories({vocabulary});
  Result<Checkpoint> ck = captureCheckpoint(*trainer);
  ASSERT_TRUE(ck.ok()) << ck.error();
  ASSERT_NE(ck->meta("categories.x"), nullptr);
  EXPECT_EQ(*ck->meta("categories.x"), R"([["<unk>","a","b"],["<unk>","x"]])");

  Result<Trainer> other = Trainer::create(&testmodel::kModel, o);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(applyCheckpoint(*ck, *other, Restore::Trained).ok());
  ASSERT_EQ(other->categories().size(), 1u);
  EXPECT_EQ(other->categories()[0], vocabulary);

  // A malformed vocabulary is named, not half read.
  ck->metadata["categories.x"] = R"([["<unk>"], "a"])";
  Status bad = applyCheckpoint(*ck, *other, Restore::Trained);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("metadata \"categories.x\" is not a JSON array of non-empty arrays "
                             "of strings"),
            std::string::npos)
      << bad.error();
}

TEST(Categories, FitRecordsTheTrainingVocabulary) {
  TrainOptions o;
  o.epochs = 1;
  o.batch = 16;
  o.quiet = true;
  Result<Trainer> trainer = Trainer::create(&testmodel::kModel, o);
  ASSERT_TRUE(trainer.ok());
  Dataset data = testmodel::makeData(40, 1);
  data.categories = {{{"<unk>", "p", "q"}}};
  ASSERT_TRUE(trainer->fit(data).ok());
  EXPECT_EQ(trainer->categories(), data.categories);
}
