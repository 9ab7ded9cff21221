// embed_test.cpp: the C library's sessions (mtlrt/Embed.h) on the hand-written test model.
#include "TestFiles.h"
#include "TrainerTestModel.h"
#include "mtlrt/Checkpoint.h"
#include "mtlrt/Embed.h"
#include "mtlrt/RunConfig.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {
namespace fs = std::filesystem;

struct SessionDeleter {
  void operator()(mtl_session *s) const { mtl_session_destroy(s); }
};
using Session = std::unique_ptr<mtl_session, SessionDeleter>;

constexpr int64_t kRows = 4;

/// kRows rows of the test model: x, and the targets y, pos, aux.
struct SessionRows {
  std::vector<float> x = {0.5f, -1, 2, 1, 0, -0.5f, -2, 1.5f, 0.25f, 0, 1, -1};
  std::vector<float> y = {1, -2, 0.5f, 3}, pos = {1, 0, 0, 1}, aux = {0.5f, 1, -2, 0};
  std::vector<float> outY = std::vector<float>(kRows), outPos = std::vector<float>(kRows),
                     outAux = std::vector<float>(kRows);
  const float *inputs[1] = {x.data()};
  const float *targets[3] = {y.data(), pos.data(), aux.data()};
  float *outputs[3] = {outY.data(), outPos.data(), outAux.data()};

  std::vector<float> predictions() const {
    std::vector<float> all = outY;
    all.insert(all.end(), outPos.begin(), outPos.end());
    all.insert(all.end(), outAux.begin(), outAux.end());
    return all;
  }
};

Session create(const mtl_model &model, int threads = 1) {
  Session s(mtl_session_create(&model, threads, kRows));
  EXPECT_TRUE(s) << mtl_last_error();
  return s;
}

std::string scratch(const std::string &name) {
  return (mtl::test::scratchDir("embed", name) / "ck.safetensors").string();
}

// A name read from a CSV line keeps the blanks around its cell; the CSV
// reader trims them off its labels and categories, and so do the lookups.
TEST(EmbedNames, ClassAndCategoryLookupsTrimBlanksAsTheCsvReaderDoes) {
  Session s = create(testmodel::kModel);
  std::string path = scratch("trim");
  ASSERT_EQ(mtl_session_save(s.get(), path.c_str()), 0) << mtl_last_error();
  auto ck = mtlrt::readCheckpoint(path);
  ASSERT_TRUE(ck.ok()) << ck.error();
  ck->metadata["classes.pos"] = R"(["no", "yes"])";
  ck->metadata["categories.x"] = R"([["<unk>", "mobile", "desktop"], ["<unk>"], ["<unk>"]])";
  ASSERT_TRUE(mtlrt::writeCheckpoint(path, *ck).ok());
  ASSERT_EQ(mtl_session_load(s.get(), path.c_str()), 0) << mtl_last_error();

  EXPECT_EQ(mtl_session_class_id(s.get(), 1, "yes"), 1);
  EXPECT_EQ(mtl_session_class_id(s.get(), 1, " yes"), 1) << mtl_last_error();
  EXPECT_EQ(mtl_session_class_id(s.get(), 1, "no \t"), 0) << mtl_last_error();
  EXPECT_EQ(mtl_session_class_id(s.get(), 1, "yes\r"), 1) << mtl_last_error();
  EXPECT_EQ(mtl_session_class_id(s.get(), 1, "y es"), -1); // inside a name, blanks count
  // A missing label is no class: the error says what a row without one takes.
  EXPECT_EQ(mtl_session_class_id(s.get(), 1, "NA"), -1);
  EXPECT_NE(std::string(mtl_last_error())
                .find("has no class 'NA'; its 2 classes are no, yes (a "
                      "row without a label takes NaN as its target"),
            std::string::npos)
      << mtl_last_error();
  EXPECT_EQ(mtl_session_class_id(s.get(), 1, " \t"), -1);
  EXPECT_NE(std::string(mtl_last_error()).find("an empty name is a missing label"),
            std::string::npos)
      << mtl_last_error();
  EXPECT_EQ(mtl_session_category_id(s.get(), 0, 0, "  desktop "), 2);
  EXPECT_EQ(mtl_session_category_id(s.get(), 0, 0, "desk top"), 0); // <unk>
}

/// The test model's run configuration with `train` as its settings.
std::string configJson(const mtlrt::TrainOptions &train) {
  mtlrt::RunConfig config;
  config.inputs = {{"x", testmodel::kFeatures, 0, {}}};
  for (const mtl_task_desc &t : testmodel::kTaskDescs)
    config.tasks.push_back(
        {t.name, t.kind == MTL_BINARY ? mtlrt::TaskSpec::Binary : mtlrt::TaskSpec::Regress, 1, {}});
  config.train = train;
  return mtlrt::runConfigJson(config);
}

// A session starts from the model's seed; the model's `train { init = .. }`
// is `mtlc train`'s, and a program loads its parameters with mtl_session_load.
TEST(EmbedCreate, IgnoresTheModelsInitCheckpoint) {
  mtlrt::TrainOptions train;
  train.initFrom = (fs::temp_directory_path() / "mtl-embed-no-such.safetensors").string();
  const std::string json = configJson(train);
  mtl_model model = testmodel::kModel;
  model.config = json.c_str();
  ASSERT_TRUE(mtlrt::modelRunConfig(model).ok());

  Session withInit(mtl_session_create(&model, 1, kRows));
  ASSERT_TRUE(withInit) << mtl_last_error();
  Session plain = create(testmodel::kModel);
  SessionRows a, b;
  ASSERT_EQ(mtl_session_predict(withInit.get(), kRows, a.inputs, a.outputs), 0);
  ASSERT_EQ(mtl_session_predict(plain.get(), kRows, b.inputs, b.outputs), 0);
  EXPECT_EQ(a.predictions(), b.predictions());
}

// A load matches tensors by name and shape, not by the model's name: a
// checkpoint of another model that fits loads; one that does not is refused,
// naming the differences, and the session stays as it was.
TEST(EmbedLoad, ACheckpointLoadsByItsTensorsNotByItsModelsName) {
  mtl_model renamed = testmodel::kModel;
  renamed.name = "renamed";
  Session source = create(renamed), s = create(testmodel::kModel);
  std::string path = scratch("load"), partial = path + ".partial";
  SessionRows rows, before, after;
  float total = 0;
  ASSERT_EQ(
      mtl_session_train_batch(source.get(), kRows, rows.inputs, rows.targets, &total, nullptr), 0);
  ASSERT_EQ(mtl_session_save(source.get(), path.c_str()), 0) << mtl_last_error();
  EXPECT_EQ(mtl_session_load(s.get(), path.c_str()), 0) << mtl_last_error();

  auto ck = mtlrt::readCheckpoint(path);
  ASSERT_TRUE(ck.ok()) << ck.error();
  std::erase_if(ck->tensors, [](const auto &t) { return t.name == "y.0.bias"; });
  ASSERT_TRUE(mtlrt::writeCheckpoint(partial, *ck).ok());
  Session other = create(testmodel::kModel);
  ASSERT_EQ(mtl_session_predict(other.get(), kRows, before.inputs, before.outputs), 0);
  EXPECT_EQ(mtl_session_load(other.get(), partial.c_str()), -1);
  EXPECT_EQ(mtl_last_error(),
            "mtl_session_load: " + partial +
                ": checkpoint does not fit model 'linear': missing in checkpoint: "
                "y.0.bias [1]; the session is unchanged");
  ASSERT_EQ(mtl_session_predict(other.get(), kRows, after.inputs, after.outputs), 0);
  EXPECT_EQ(after.predictions(), before.predictions());
}

// train_batch steps at the model's lr, constant: a schedule counts epochs,
// which a session has not (docs/embedding.md).
TEST(EmbedTrain, StepsAtTheModelsLearningRateWhateverItsSchedule) {
  mtlrt::TrainOptions train;
  train.epochs = 4;
  train.lr = 0.05f;
  const std::string constant = configJson(train);
  train.schedule = "cosine(warmup = 2)";
  const std::string cosine = configJson(train);
  train.schedule = "constant";
  train.lr = 0.03f;
  const std::string lower = configJson(train);
  auto predictions = [](const std::string &json) {
    mtl_model model = testmodel::kModel;
    model.config = json.c_str();
    Session s = create(model);
    SessionRows rows;
    float total = 0;
    for (int step = 0; step < 10; ++step)
      EXPECT_EQ(mtl_session_train_batch(s.get(), kRows, rows.inputs, rows.targets, &total, nullptr),
                0)
          << mtl_last_error();
    EXPECT_EQ(mtl_session_predict(s.get(), kRows, rows.inputs, rows.outputs), 0);
    return rows.predictions();
  };
  EXPECT_EQ(predictions(cosine), predictions(constant));
  EXPECT_NE(predictions(lower), predictions(constant)); // the rate does count
}

// The test model's update, which then reports an overflow (as generated code
// does, skipped = 2) when `overflowNext` is set, leaving infinities behind.
bool overflowNext = false;
void overflowingUpdate(const mtl_hyper *hyper, float *params, float *state, const float *grads,
                       mtl_result *result, const mtl_parallel *parallel) {
  testmodel::update(hyper, params, state, grads, result, parallel);
  if (overflowNext && result->skipped == 0) {
    params[0] = state[0] = INFINITY;
    result->skipped = 2;
  }
}

// After an update that overflowed, the session's parameters are not finite:
// it refuses to predict, save or train until a load replaces them, and the
// optimizer then starts afresh, as in a new session that loaded the same file.
TEST(EmbedOverflow, ASessionRefusesItsBrokenParametersUntilALoad) {
  mtl_model model = testmodel::kModel;
  model.update = overflowingUpdate;
  Session s = create(model), fresh = create(model);
  std::string path = scratch("overflow"), after = path + ".after";
  SessionRows rows;
  float total = 0;
  ASSERT_EQ(mtl_session_train_batch(s.get(), kRows, rows.inputs, rows.targets, &total, nullptr), 0);
  ASSERT_EQ(mtl_session_save(s.get(), path.c_str()), 0) << mtl_last_error();

  overflowNext = true;
  EXPECT_EQ(mtl_session_train_batch(s.get(), kRows, rows.inputs, rows.targets, &total, nullptr),
            -1);
  overflowNext = false;
  EXPECT_STREQ(mtl_last_error(),
               "mtl_session_train_batch: step 2 overflowed: its update left parameters or "
               "optimizer state that are not finite, so the session refuses to predict, save or "
               "train until mtl_session_load loads parameters again (its optimizer then starts "
               "afresh); a lower learning rate may help");
  const std::string refused = "the session's last training step overflowed, leaving parameters "
                              "that are not finite; load a checkpoint with mtl_session_load first";
  EXPECT_EQ(mtl_session_predict(s.get(), kRows, rows.inputs, rows.outputs), -1);
  EXPECT_EQ(mtl_last_error(), "mtl_session_predict: " + refused);
  EXPECT_EQ(mtl_session_save(s.get(), after.c_str()), -1);
  EXPECT_EQ(mtl_last_error(), "mtl_session_save: " + refused);
  EXPECT_FALSE(fs::exists(after));
  EXPECT_EQ(mtl_session_train_batch(s.get(), kRows, rows.inputs, rows.targets, &total, nullptr),
            -1);
  EXPECT_EQ(mtl_last_error(), "mtl_session_train_batch: " + refused);
  EXPECT_EQ(mtl_session_load(s.get(), (path + ".missing").c_str()), -1);
  EXPECT_EQ(mtl_session_predict(s.get(), kRows, rows.inputs, rows.outputs), -1); // still broken

  ASSERT_EQ(mtl_session_load(s.get(), path.c_str()), 0) << mtl_last_error();
  ASSERT_EQ(mtl_session_load(fresh.get(), path.c_str()), 0) << mtl_last_error();
  SessionRows other;
  for (int step = 0; step < 2; ++step) {
    ASSERT_EQ(mtl_session_train_batch(s.get(), kRows, rows.inputs, rows.targets, &total, nullptr),
              0)
        << mtl_last_error();
    ASSERT_EQ(
        mtl_session_train_batch(fresh.get(), kRows, other.inputs, other.targets, &total, nullptr),
        0);
  }
  ASSERT_EQ(mtl_session_predict(s.get(), kRows, rows.inputs, rows.outputs), 0) << mtl_last_error();
  ASSERT_EQ(mtl_session_predict(fresh.get(), kRows, other.inputs, other.outputs), 0);
  EXPECT_EQ(rows.predictions(), other.predictions());
  for (float v : rows.predictions())
    EXPECT_TRUE(std::isfinite(v));
}

/// The threads of this process.
size_t processThreads() {
  return size_t(std::distance(fs::directory_iterator("/proc/self/task"), fs::directory_iterator()));
}

// Sessions of the same `threads` share one pool: more sessions start no more threads.
TEST(EmbedThreads, SessionsShareOnePool) {
  if (!fs::exists("/proc/self/task"))
    GTEST_SKIP() << "no /proc/self/task to count threads in";
  const size_t before = processThreads();
  {
    Session a = create(testmodel::kModel, 4);
    const size_t one = processThreads();
    EXPECT_EQ(one, before + 3); // the pool's workers; the caller is its fourth thread
    Session b = create(testmodel::kModel, 4), c = create(testmodel::kModel, 4);
    EXPECT_EQ(processThreads(), one);
    Session d = create(testmodel::kModel, 2); // another size, another pool
    EXPECT_EQ(processThreads(), one + 1);
    // Sharing changes no result.
    Session single = create(testmodel::kModel, 1);
    SessionRows rows, other;
    float total = 0;
    ASSERT_EQ(mtl_session_train_batch(b.get(), kRows, rows.inputs, rows.targets, &total, nullptr),
              0);
    ASSERT_EQ(
        mtl_session_train_batch(single.get(), kRows, other.inputs, other.targets, &total, nullptr),
        0);
    ASSERT_EQ(mtl_session_predict(b.get(), kRows, rows.inputs, rows.outputs), 0);
    ASSERT_EQ(mtl_session_predict(single.get(), kRows, other.inputs, other.outputs), 0);
    EXPECT_EQ(rows.predictions(), other.predictions());
  }
  EXPECT_EQ(processThreads(), before); // the last session of a pool ends it
}

// Sessions used at the same time on two threads share their pool and get
// the numbers one session gets alone.
TEST(EmbedThreads, SessionsOnTwoThreadsShareThePoolAndAgree) {
  auto run = [](mtl_session *s, SessionRows &rows) {
    float total = 0;
    for (int step = 0; step < 50; ++step)
      if (mtl_session_train_batch(s, kRows, rows.inputs, rows.targets, &total, nullptr) != 0 ||
          mtl_session_predict(s, kRows, rows.inputs, rows.outputs) != 0)
        return false;
    return true;
  };
  Session alone = create(testmodel::kModel, 1), a = create(testmodel::kModel, 3),
          b = create(testmodel::kModel, 3);
  SessionRows expected, ra, rb;
  ASSERT_TRUE(run(alone.get(), expected));
  bool okA = false, okB = false;
  std::thread ta([&] { okA = run(a.get(), ra); }), tb([&] { okB = run(b.get(), rb); });
  ta.join();
  tb.join();
  ASSERT_TRUE(okA && okB);
  EXPECT_EQ(ra.predictions(), expected.predictions());
  EXPECT_EQ(rb.predictions(), expected.predictions());
}

TEST(EmbedThreads, ThreadsOutOfRangeAreRefusedInCreatesTerms) {
  for (int threads : {0, -3, 1025}) {
    EXPECT_EQ(mtl_session_create(&testmodel::kModel, threads, kRows), nullptr);
    EXPECT_EQ(mtl_last_error(),
              fmt::format("mtl_session_create: threads is {}; it must be in [1, 1024], the "
                          "threads each call may use, the calling thread included",
                          threads));
  }
}

} // namespace
