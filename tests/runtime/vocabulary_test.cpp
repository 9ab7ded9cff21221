// vocabulary_test.cpp: a run that starts from a checkpoint (--resume, --init-from) numbers its
// data's classes and categories by the checkpoint's vocabularies, not by its own.
#include "TestFiles.h"
#include "mtlrt/Checkpoint.h"
#include "mtlrt/Program.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mtlrt;

namespace {

/// Model inputs: `x` (one number) and `ids` (one category column, 8 rows of
/// embedding); task `species`: classify(width), read 'as class'.
RunConfig penguinConfig(const std::string &csv, int64_t width) {
  RunConfig c;
  c.inputs = {{"x", 1, 0, {}}, {"ids", 1, 8, {}}};
  c.tasks = {{"species", TaskSpec::Classify, width, {}}};
  DataSpec spec;
  spec.name = "train";
  spec.csv.path = csv;
  BindingSpec x;
  x.target = "x";
  x.slot = 0;
  x.columns = {{"x", -1}};
  BindingSpec ids;
  ids.target = "ids";
  ids.slot = 1;
  ids.columns = {{"island", -1}};
  ids.asCategory = true;
  BindingSpec species;
  species.target = "species";
  species.isTask = true;
  species.slot = 0;
  species.columns = {{"species", -1}};
  species.asClass = true;
  spec.bindings = {x, ids, species};
  c.data = {spec};
  c.trainData = {0};
  return c;
}

/// A checkpoint that holds nothing but the vocabularies of a run on all three species.
std::string vocabularyCheckpoint(const std::string &name,
                                 const std::string &columns = R"(["island"])") {
  Checkpoint ck;
  ck.metadata = {{"format", kCheckpointFormat},
                 {"classes.species", R"(["Adelie","Chinstrap","Gentoo"])"},
                 {"categories.ids", R"([["<unk>","Biscoe","Dream","Torgersen"]])"},
                 {"category_columns.ids", columns}};
  const std::string path = ::testing::TempDir() + name;
  EXPECT_TRUE(writeCheckpoint(path, ck).ok());
  return path;
}

// No Chinstrap and no Biscoe here: by its own vocabulary the data would call
// Gentoo class 1 and Torgersen category 2.
constexpr const char *kTwoSpecies = "x,island,species\n"
                                    "1,Torgersen,Adelie\n"
                                    "2,Dream,Gentoo\n"
                                    "3,Torgersen,Gentoo\n";

std::vector<float> labels(const TrainingData &d) { return d.sets[0]->targets[0]; }

TrainFlags flagsFrom(const std::string &resume, const std::string &init) {
  TrainFlags f;
  f.noSave = true;
  f.resume = resume;
  f.initFrom = init;
  return f;
}

} // namespace

TEST(Vocabulary, ResumeNumbersClassesAndCategoriesByTheCheckpoint) {
  const std::string ck = vocabularyCheckpoint("vocab_resume.safetensors");
  const std::string csv = mtl::test::writeTempFile("vocab_two.csv", kTwoSpecies);
  auto data = loadTrainingData(penguinConfig(csv, 3), "penguins", flagsFrom(ck, ""), false);
  ASSERT_TRUE(data.ok()) << data.error();
  EXPECT_EQ(labels(*data), (std::vector<float>{0, 2, 2}));
  EXPECT_EQ(data->sets[0]->classNames[0],
            (std::vector<std::string>{"Adelie", "Chinstrap", "Gentoo"}));
  EXPECT_EQ(data->sets[0]->inputs[1], (std::vector<float>{3, 2, 3}));
}

TEST(Vocabulary, ResumeRefusesAClassTheCheckpointDoesNotKnow) {
  const std::string ck = vocabularyCheckpoint("vocab_resume_new.safetensors");
  const std::string csv = mtl::test::writeTempFile(
      "vocab_new.csv", "x,island,species\n1,Dream,Adelie\n2,Dream,Emperor\n");
  auto data = loadTrainingData(penguinConfig(csv, 3), "penguins", flagsFrom(ck, ""), false);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().find("class 'Emperor' is not one of the task's 3 classes (Adelie, "
                              "Chinstrap, Gentoo)"),
            std::string::npos)
      << data.error();
}

TEST(Vocabulary, InitNumbersClassesByTheCheckpointAndNewOnesFollow) {
  const std::string ck = vocabularyCheckpoint("vocab_init.safetensors");
  const std::string two = mtl::test::writeTempFile("vocab_init_two.csv", kTwoSpecies);
  auto data = loadTrainingData(penguinConfig(two, 3), "penguins", flagsFrom("", ck), false);
  ASSERT_TRUE(data.ok()) << data.error();
  EXPECT_EQ(labels(*data), (std::vector<float>{0, 2, 2}));
  EXPECT_EQ(data->sets[0]->classNames[0],
            (std::vector<std::string>{"Adelie", "Chinstrap", "Gentoo"}));

  // A wider task (whose head cannot be the checkpoint's) takes a new class after them.
  const std::string four = mtl::test::writeTempFile(
      "vocab_init_four.csv", "x,island,species\n1,Dream,Emperor\n2,Dream,Gentoo\n3,Dream,Adelie\n");
  data = loadTrainingData(penguinConfig(four, 4), "penguins", flagsFrom("", ck), false);
  ASSERT_TRUE(data.ok()) << data.error();
  EXPECT_EQ(labels(*data), (std::vector<float>{3, 2, 0}));
  EXPECT_EQ(data->sets[0]->classNames[0],
            (std::vector<std::string>{"Adelie", "Chinstrap", "Gentoo", "Emperor"}));

  // A task of the checkpoint's width has no room for it: the data keeps its
  // own numbering (its head may not load; where it does, a note says to
  // declare the classes), rather than the run being refused.
  testing::internal::CaptureStderr();
  data = loadTrainingData(penguinConfig(four, 3), "penguins", flagsFrom("", ck), false);
  const std::string note = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(data.ok()) << data.error();
  EXPECT_EQ(data->sets[0]->classNames[0],
            (std::vector<std::string>{"Adelie", "Emperor", "Gentoo"}));
  EXPECT_NE(note.find("note: task 'species': " + ck +
                      " numbers its classes Adelie, Chinstrap, Gentoo, and the data's Emperor is "
                      "none of them, with no room left for more: the data numbers its classes "
                      "Adelie, Emperor, Gentoo"),
            std::string::npos)
      << note;
}

TEST(Vocabulary, CategoriesFollowTheirColumnsByName) {
  // The checkpoint's vocabulary is of a column 'colony': its rows do not stand for 'island'.
  const std::string csv = mtl::test::writeTempFile("vocab_columns.csv", kTwoSpecies);
  for (bool resume : {true, false}) {
    const std::string ck = vocabularyCheckpoint("vocab_columns.safetensors", R"(["colony"])");
    auto data = loadTrainingData(penguinConfig(csv, 3), "penguins",
                                 resume ? flagsFrom(ck, "") : flagsFrom("", ck), false);
    ASSERT_FALSE(data.ok());
    EXPECT_NE(data.error().find("input 'ids' reads the columns island 'as category', and the "
                                "checkpoint's vocabulary and embedding rows are of the columns "
                                "colony, in that order"),
              std::string::npos)
        << data.error();
  }
}
