// trainer_test.cpp: the epoch loop on a hand-written model: learning, determinism, early stop,
// logs.
#include "TrainerTestModel.h"
#include "mtlrt/RunConfig.h"
#include "mtlrt/Trainer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <new>
#include <set>
#include <xmmintrin.h>

using namespace mtlrt;
using testmodel::kModel;
using testmodel::makeData;

// Counting every allocation of the test binary lets a test show that steps allocate nothing.
// GCC cannot tell that these malloc/free pairs match once they are inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
static std::atomic<int64_t> allocations{0};
void *operator new(size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void *p = std::malloc(size ? size : 1))
    return p;
  throw std::bad_alloc();
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, size_t) noexcept { std::free(p); }
// The other forms too, so that every delete frees what malloc gave (a
// sanitizer's own nothrow new, which std::stable_sort's buffer uses, would
// otherwise meet the free above).
void *operator new(size_t size, const std::nothrow_t &) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size ? size : 1);
}
void operator delete(void *p, const std::nothrow_t &) noexcept { std::free(p); }
void *operator new[](size_t size) { return operator new(size); }
void *operator new[](size_t size, const std::nothrow_t &tag) noexcept {
  return operator new(size, tag);
}
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete[](void *p, size_t) noexcept { std::free(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {
TrainOptions quietOptions() {
  TrainOptions o;
  o.epochs = 5;
  o.batch = 16;
  o.seed = 11;
  o.lr = 0.05f;
  o.quiet = true;
  o.keepStepLosses = true;
  return o;
}

Trainer makeTrainer(const TrainOptions &options) {
  Result<Trainer> t = Trainer::create(&kModel, options);
  if (!t.ok())
    ADD_FAILURE() << t.error();
  return std::move(t.value());
}

TrainResult fitOk(const TrainOptions &options, const Dataset &data,
                  const Dataset *validation = nullptr, const Dataset *test = nullptr) {
  Trainer trainer = makeTrainer(options);
  Result<TrainResult> r = trainer.fit(data, validation, test);
  if (!r.ok())
    ADD_FAILURE() << r.error();
  return std::move(r.value());
}

double metric(const TaskScores &task, const std::string &name) {
  for (const MetricValue &m : task.metrics)
    if (m.name == name)
      return m.value;
  ADD_FAILURE() << "no metric " << name << " for " << task.name;
  return NAN;
}

std::string tempPath(const std::string &name) {
  return (std::filesystem::temp_directory_path() /
          (name + "-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed())))
      .string();
}
} // namespace

TEST(Trainer, LossFallsAndMetricsAreComputed) {
  Dataset data = makeData(400, 1);
  TrainOptions o = quietOptions();
  o.epochs = 15;
  o.validate = 0.25;
  TrainResult r = fitOk(o, data);
  ASSERT_EQ(r.epochs.size(), 15u);
  EXPECT_EQ(r.steps, 15 * ((300 + 15) / 16)); // ceil(0.25 * 400) = 100 rows held out
  EXPECT_LT(r.epochs.back().train.loss, 0.2 * r.epochs.front().train.loss);
  const EvalReport &val = *r.epochs.back().validation;
  EXPECT_EQ(val.rows, 100);
  EXPECT_GT(metric(val.tasks[0], "r2"), 0.99);
  EXPECT_LT(metric(val.tasks[0], "mse"), 0.01);
  EXPECT_GT(metric(val.tasks[1], "accuracy"), 0.9);
  EXPECT_GT(metric(val.tasks[1], "auc"), 0.95);
  EXPECT_TRUE(val.tasks[2].auxiliary);
  // Every 7th row has no label for "pos": labelled counts exclude them.
  EXPECT_LT(r.epochs.back().train.tasks[1].labelled, 300);
  EXPECT_EQ(r.epochs.back().train.tasks[0].labelled, 300);
  EXPECT_EQ(r.bestEpoch, 15);
}

TEST(Trainer, SameSeedGivesBitIdenticalStepsWithAnyThreadCount) {
  Dataset data = makeData(300, 2);
  TrainOptions o = quietOptions();
  o.validate = 0.2;
  o.threads = 2;
  TrainResult a = fitOk(o, data), b = fitOk(o, data);
  o.threads = 1;
  TrainResult c = fitOk(o, data);
  ASSERT_EQ(a.stepLosses.size(), size_t(5 * 15));
  EXPECT_EQ(a.stepLosses, b.stepLosses);
  EXPECT_EQ(a.stepLosses, c.stepLosses);
  EXPECT_EQ(a.epochs.back().validation->loss, c.epochs.back().validation->loss);

  // Measuring the threads runs the first steps on 2 threads and on 1 in turn.
  o.threads = 2;
  o.measureThreads = true;
  TrainResult m = fitOk(o, data);
  EXPECT_EQ(a.stepLosses, m.stepLosses);
  EXPECT_EQ(a.epochs.back().validation->loss, m.epochs.back().validation->loss);
  EXPECT_EQ(m.threads.pool, 2);
  EXPECT_GT(m.threads.poolSeconds, 0);
  EXPECT_GT(m.threads.oneSeconds, 0);
  EXPECT_EQ(m.threads.threads, m.threads.oneSeconds <= m.threads.poolSeconds ? 1 : 2);
  EXPECT_EQ(a.threads.poolSeconds, 0); // not measured: --threads N
  EXPECT_EQ(a.threads.threads, 2);
  o.measureThreads = false;

  o.seed = 12; // another seed: another initialisation, split and order
  TrainResult d = fitOk(o, data);
  EXPECT_NE(a.stepLosses, d.stepLosses);

  // Without shuffling, the order (hence the steps) still repeat exactly.
  o.shuffle = false;
  EXPECT_EQ(fitOk(o, data).stepLosses, fitOk(o, data).stepLosses);
}

TEST(Trainer, ParametersRepeatAcrossRunsAndThreads) {
  Dataset data = makeData(100, 3);
  TrainOptions o = quietOptions();
  Trainer one = makeTrainer(o);
  o.threads = 2;
  Trainer two = makeTrainer(o);
  std::vector<float> initial(one.params().begin(), one.params().end());
  EXPECT_TRUE(std::equal(initial.begin(), initial.end(), two.params().begin()));
  ASSERT_TRUE(one.fit(data).ok());
  ASSERT_TRUE(two.fit(data).ok());
  EXPECT_TRUE(std::equal(one.params().begin(), one.params().end(), two.params().begin()));
  EXPECT_TRUE(std::equal(one.state().begin(), one.state().end(), two.state().begin()));
  EXPECT_FALSE(std::equal(initial.begin(), initial.end(), one.params().begin()));
  EXPECT_EQ(one.step(), 5 * 7);
}

TEST(Trainer, ShuffleIsASeededPermutation) {
  std::vector<int64_t> base(50);
  for (int64_t i = 0; i < 50; ++i)
    base[size_t(i)] = i;
  std::vector<int64_t> a = base, b = base, c = base, d = base;
  shuffleRows(a, 5, 1);
  shuffleRows(b, 5, 1);
  shuffleRows(c, 5, 2);
  shuffleRows(d, 6, 1);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  EXPECT_NE(a, base);
  EXPECT_EQ(std::set<int64_t>(a.begin(), a.end()).size(), 50u);
  // Pinned: the documented Fisher–Yates on Rng(seed, shuffleStream(epoch)).
  std::vector<int64_t> e = base;
  Rng rng(5, shuffleStream(1));
  for (size_t i = e.size() - 1; i >= 1; --i)
    std::swap(e[i], e[size_t(rng.below(i + 1))]);
  EXPECT_EQ(a, e);
}

TEST(Trainer, HeldOutRowsAreThoseOfSplitRows) {
  // Training on a held-out fraction equals training on the two parts of
  // splitRows(seed) given as separate data sets: same rows, same order, same steps.
  Dataset data = makeData(120, 3);
  TrainOptions o = quietOptions();
  o.validate = 0.3;
  TrainResult held = fitOk(o, data);
  Split split = splitRows(data.rows, 0.3, o.seed);
  auto subset = [&](const std::vector<int64_t> &rows) {
    Dataset d = data;
    d.rows = int64_t(rows.size());
    for (size_t s = 0; s < data.inputs.size(); ++s)
      for (size_t i = 0; i < rows.size(); ++i)
        for (int64_t j = 0; j < data.inputWidths[s]; ++j)
          d.inputs[s].write()[i * size_t(data.inputWidths[s]) + size_t(j)] =
              data.inputs[s][size_t(rows[i] * data.inputWidths[s] + j)];
    for (size_t t = 0; t < data.targets.size(); ++t) {
      for (size_t i = 0; i < rows.size(); ++i)
        d.targets[t][i] = data.targets[t][size_t(rows[i])];
      d.targets[t].resize(rows.size());
    }
    d.inputs[0].write().resize(rows.size() * testmodel::kFeatures);
    return d;
  };
  Dataset trainPart = subset(split.train), valPart = subset(split.validation);
  o.validate = 0;
  TrainResult separate = fitOk(o, trainPart, &valPart);
  EXPECT_EQ(held.stepLosses, separate.stepLosses);
  EXPECT_EQ(held.epochs.back().validation->loss, separate.epochs.back().validation->loss);
  EXPECT_EQ(held.epochs.back().validation->rows, 36);
}

TEST(Trainer, GivenRowsTrainAsCopiesOfThemDo) {
  // A fit on rows of one data set (an experiment's folds) equals a fit on
  // copies of those rows, step for step; validation rows keep their order.
  Dataset data = makeData(150, 5);
  std::vector<int64_t> trainRows, valRows, testRows;
  for (int64_t r = 0; r < data.rows; ++r)
    (r % 5 == 1 ? valRows : r % 5 == 3 ? testRows : trainRows).push_back(r);
  std::reverse(valRows.begin(), valRows.end());
  TrainOptions o = quietOptions();
  Dataset trainPart = subsetRows(data, trainRows), valPart = subsetRows(data, valRows),
          testPart = subsetRows(data, testRows);
  Trainer copied = makeTrainer(o);
  Result<TrainResult> a = copied.fit(trainPart, &valPart, &testPart);
  ASSERT_TRUE(a.ok()) << a.error();
  o.validate = 0.5; // not read: the rows are given
  Trainer given = makeTrainer(o);
  Result<TrainResult> b = given.fit(data, trainRows, {&data, valRows}, {&data, testRows});
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(a->stepLosses, b->stepLosses);
  EXPECT_EQ(b->epochs.back().validation->rows, 30);
  EXPECT_EQ(a->epochs.back().validation->loss, b->epochs.back().validation->loss);
  ASSERT_TRUE(b->test.has_value());
  EXPECT_EQ(a->test->loss, b->test->loss);
  EXPECT_TRUE(std::equal(copied.params().begin(), copied.params().end(), given.params().begin()));

  // Rows out of order or out of range are refused, naming the data set.
  std::vector<int64_t> unordered = trainRows;
  std::swap(unordered[0], unordered[1]);
  Result<TrainResult> r = makeTrainer(o).fit(data, unordered, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("not ascending rows"), std::string::npos) << r.error();
  const std::vector<int64_t> outside = {0, 150};
  r = makeTrainer(o).fit(data, trainRows, {&data, outside}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("has 150 rows, and a fit was given rows outside them"),
            std::string::npos)
      << r.error();
  o.earlyStop = {true, 3, "loss", 0};
  r = makeTrainer(o).fit(data, trainRows, {}, {&data, testRows});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("early stopping needs validation data: give it validation rows"),
            std::string::npos)
      << r.error();
}

TEST(Trainer, EarlyStoppingStopsAfterPatience) {
  Dataset data = makeData(200, 4);
  TrainOptions o = quietOptions();
  o.epochs = 50;
  o.validate = 0.2;
  o.lr = 0; // nothing improves after the first epoch
  o.earlyStop = {true, 3, "loss", 0};
  TrainResult r = fitOk(o, data);
  EXPECT_TRUE(r.stoppedEarly);
  EXPECT_EQ(r.epochs.size(), 4u);
  EXPECT_EQ(r.bestEpoch, 1);

  o.earlyStop.monitor = "pos.accuracy";
  o.earlyStop.patience = 2;
  r = fitOk(o, data);
  EXPECT_TRUE(r.stoppedEarly);
  EXPECT_EQ(r.epochs.size(), 3u);

  // While the model learns, the monitor keeps improving and all epochs run.
  o.lr = 0.002f;
  o.epochs = 6;
  o.earlyStop.monitor = "y.loss";
  r = fitOk(o, data);
  EXPECT_FALSE(r.stoppedEarly);
  EXPECT_EQ(r.epochs.size(), 6u);
}

TEST(Trainer, BadMonitorsAndMissingValidationAreErrors) {
  TrainOptions o = quietOptions();
  o.earlyStop = {true, 3, "pos.r2", 0};
  Result<Trainer> t = Trainer::create(&kModel, o);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().find("no metric 'r2'"), std::string::npos) << t.error();
  o.earlyStop.monitor = "nope.loss";
  EXPECT_FALSE(Trainer::create(&kModel, o).ok());
  o.earlyStop.monitor = "loss";
  Trainer trainer = makeTrainer(o);
  Result<TrainResult> r = trainer.fit(makeData(50, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("needs validation data"), std::string::npos) << r.error();
}

TEST(Trainer, DivergenceNamesEpochStepAndTask) {
  TrainOptions o = quietOptions();
  o.lr = 50;
  o.logPath = tempPath("mtl-diverge.jsonl");
  Trainer trainer = makeTrainer(o);
  Result<TrainResult> r = trainer.fit(makeData(100, 5));
  ASSERT_FALSE(r.ok());
  std::ifstream log(o.logPath);
  std::string line, last;
  int64_t logged = 0;
  while (std::getline(log, line)) {
    last = line;
    logged += nlohmann::json::parse(line)["type"] == "epoch";
  }
  nlohmann::json record = nlohmann::json::parse(last);
  EXPECT_EQ(record["type"], "error");
  EXPECT_EQ(record["message"], r.error());
  int64_t epoch = record["epoch"], step = record["step"];
  EXPECT_GE(step, 1);
  EXPECT_EQ(epoch, (step - 1) / 7 + 1); // 100 rows in batches of 16: 7 steps an epoch
  // The epochs before the failure are still there to show, as the log has them.
  ASSERT_GE(epoch, 2) << "the run should fail after a whole epoch";
  ASSERT_EQ(trainer.fitEpochs().size(), size_t(epoch - 1));
  EXPECT_EQ(logged, epoch - 1);
  for (size_t e = 0; e < trainer.fitEpochs().size(); ++e) {
    EXPECT_EQ(trainer.fitEpochs()[e].epoch, int64_t(e + 1));
    EXPECT_EQ(trainer.fitEpochs()[e].steps, int64_t(7 * (e + 1)));
  }
  std::string where = "training stopped at epoch " + std::to_string(epoch) + ", step " +
                      std::to_string(step) + ": task 'y' has loss ";
  EXPECT_EQ(r.error().find(where), 0u) << r.error();
  EXPECT_NE(r.error().find(fmt::format("the parameters and optimizer state of step {}, the last "
                                       "good one, are kept",
                                       step - 1)),
            std::string::npos)
      << r.error();
  // The step that failed changed nothing: what the trainer holds is finite.
  EXPECT_EQ(trainer.step(), step - 1);
  for (float p : trainer.params())
    ASSERT_TRUE(std::isfinite(p));
  for (float s : trainer.state())
    ASSERT_TRUE(std::isfinite(s));
  // A fit that succeeds hands its epochs to its result; none stay behind.
  Trainer converging = makeTrainer(quietOptions());
  Result<TrainResult> fine = converging.fit(makeData(100, 5));
  ASSERT_TRUE(fine.ok()) << fine.error();
  EXPECT_EQ(fine->epochs.size(), size_t(quietOptions().epochs));
  EXPECT_TRUE(converging.fitEpochs().empty());
  std::filesystem::remove(o.logPath);
}

TEST(Trainer, StandardizationUsesTrainingStatistics) {
  // Features around 1000 with spread 50: plain SGD diverges on them, and
  // learns once they are standardised with the training split's statistics.
  Dataset data = makeData(300, 6, 50.0f, 1000.0f);
  TrainOptions o = quietOptions();
  o.validate = 0.2;
  EXPECT_FALSE(makeTrainer(o).fit(data).ok());
  data.standardizeInputs = {1};
  Trainer trainer = makeTrainer(o);
  Result<TrainResult> r = trainer.fit(data);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_GT(metric(r->epochs.back().validation->tasks[0], "r2"), 0.95);
  ASSERT_TRUE(trainer.inputStandardizers()[0].has_value());
  EXPECT_NEAR(trainer.inputStandardizers()[0]->mean[0], 1000.0, 10.0);
  EXPECT_FALSE(trainer.targetStandardizers()[0].has_value());

  // A second trainer given the parameters and statistics (as a checkpoint
  // would) scores new data exactly as the first does.
  Trainer copy = makeTrainer(o);
  std::copy(trainer.params().begin(), trainer.params().end(), copy.params().begin());
  ASSERT_TRUE(
      copy.setStandardizers(trainer.inputStandardizers(), trainer.targetStandardizers()).ok());
  Dataset fresh = makeData(50, 60, 50.0f, 1000.0f);
  Result<EvalReport> a = trainer.evaluate(fresh), b = copy.evaluate(fresh);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->loss, b->loss);
  EXPECT_GT(metric(a->tasks[0], "r2"), 0.95);
  EXPECT_FALSE(copy.setStandardizers({}, {}).ok());
}

TEST(Trainer, SeparateValidationAndTestData) {
  Dataset train = makeData(200, 7), val = makeData(60, 8), test = makeData(80, 9);
  TrainOptions o = quietOptions();
  o.validate = 0.5; // ignored: a validation Dataset is given
  TrainResult r = fitOk(o, train, &val, &test);
  EXPECT_EQ(r.epochs.back().validation->rows, 60);
  EXPECT_EQ(r.steps, 5 * 13);
  ASSERT_TRUE(r.test.has_value());
  EXPECT_EQ(r.test->rows, 80);
  EXPECT_GT(metric(r.test->tasks[1], "accuracy"), 0.8);
  ASSERT_NE(r.record(r.bestEpoch), nullptr);
  EXPECT_EQ(r.record(r.bestEpoch)->epoch, r.bestEpoch);
  EXPECT_EQ(r.keptEpoch, r.bestEpoch); // with validation data, the best epoch is kept
}

TEST(Trainer, TaskWeightOverridesReachTheModel) {
  TrainOptions o = quietOptions();
  o.taskWeights = {{"y", 0.0}, {"pos", 0.0}, {"aux", 0.0}};
  TrainResult r = fitOk(o, makeData(64, 1));
  for (float loss : r.stepLosses)
    EXPECT_EQ(loss, 0.0f);
  o.taskWeights = {{"species", 1.0}};
  Result<Trainer> t = Trainer::create(&kModel, o);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().find("'species'"), std::string::npos);
}

TEST(Trainer, ArenasTooLargeForMemoryAreAnError) {
  mtl_model huge = kModel;
  // 2^61 floats a row times 16 rows overflows int64: refused before allocating,
  // as more than the machine has.
  huge.workspace_per_row = int64_t(1) << 61;
  Result<Trainer> t = Trainer::create(&huge, quietOptions());
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().find("batches of 16 rows need"), std::string::npos) << t.error();
  EXPECT_NE(t.error().find("more than this machine's"), std::string::npos) << t.error();
  // Parameters too many for any batch: the model is said to be too large.
  mtl_model wide = kModel;
  wide.params_size = wide.grads_size = int64_t(1) << 50;
  t = Trainer::create(&wide, quietOptions());
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().find("model 'linear' needs"), std::string::npos) << t.error();
  EXPECT_NE(t.error().find("use smaller layers"), std::string::npos) << t.error();
}

TEST(Trainer, EvaluationLossIsTheMeanOverLabelledRows) {
  // Batches of 4 rows with 1, 4 and 2 labels for task y: each batch's mean
  // loss counts as many times as it has labels, not rows, so the result is
  // the plain mean over the 7 labelled rows, computed here from the
  // parameters: y's head is x . w + b (w at offsets 0-2, b at 3), with MSE.
  TrainOptions o = quietOptions();
  o.batch = 4;
  Trainer trainer = makeTrainer(o);
  Dataset data = makeData(10, 3);
  for (int64_t r : {0, 1, 2})
    data.targets[0][size_t(r)] = NAN;
  Result<EvalReport> report = trainer.evaluate(data);
  ASSERT_TRUE(report.ok()) << report.error();
  std::span<const float> p = trainer.params();
  double sum = 0;
  int labelled = 0;
  for (int64_t r = 0; r < data.rows; ++r) {
    const float y = data.targets[0][size_t(r)];
    if (std::isnan(y))
      continue;
    double out = p[3];
    for (int k = 0; k < testmodel::kFeatures; ++k)
      out += double(p[size_t(k)]) * data.inputs[0][size_t(r * testmodel::kFeatures + k)];
    sum += (out - y) * (out - y);
    ++labelled;
  }
  ASSERT_EQ(labelled, 7);
  EXPECT_EQ(report->tasks[0].labelled, 7);
  EXPECT_NEAR(report->tasks[0].loss, sum / labelled, 1e-5 * (sum / labelled));
}

TEST(Trainer, ThreadCountsOutsideOneTo1024AreAnError) {
  for (int threads : {0, -1, kMaxThreads + 1}) {
    TrainOptions o = quietOptions();
    o.threads = threads;
    Result<Trainer> t = Trainer::create(&kModel, o);
    ASSERT_FALSE(t.ok()) << threads;
    EXPECT_EQ(t.error(), fmt::format("trainer: threads = {} is not in [1, 1024]", threads));
  }
}

TEST(Trainer, RawIdsMustBeInTheEmbeddingsVocabulary) {
  // The test model with its input read as ids of a 5-word vocabulary, as the
  // run configuration of a compiled model with an embedding says.
  RunConfig config;
  config.inputs = {{"x", testmodel::kFeatures, 5, {}}};
  for (const mtl_task_desc &task : testmodel::kTaskDescs)
    config.tasks.push_back({task.name, TaskSpec::Regress, task.width, {}});
  const std::string json = runConfigJson(config);
  mtl_input_desc ids = testmodel::kInputs[0];
  ids.dtype = MTL_I32;
  mtl_model model = kModel;
  model.inputs = &ids;
  model.config = json.c_str();
  Result<Trainer> t = Trainer::create(&model, quietOptions());
  ASSERT_TRUE(t.ok()) << t.error();
  std::vector<float> out(3 * 2);
  std::vector<float *> outs{out.data(), out.data() + 2, out.data() + 4};
  // Row 1, column 2 holds the flaw; 4 is the last id of the vocabulary.
  for (float bad : {5.0f, -1.0f, 2.5f, 2147483648.0f}) {
    std::vector<float> x = {0, 1, 4, 3, 2, bad};
    const float *in[] = {x.data()};
    Status s = t->forward(2, in, outs);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error(), fmt::format("input 'x', row 1, column 2 (from 0): {} is not an integer "
                                     "id in [0, 5)",
                                     bad));
  }
  std::vector<float> x = {0, 1, 4, 3, 2, 4};
  const float *in[] = {x.data()};
  EXPECT_TRUE(t->forward(2, in, outs).ok());
}

// Inputs and weights of 1e-20 make every product 1e-40, a denormal float.
// Flushed (the default), each head's output is exactly 0 on both threads of
// the pool; with flushDenormals off it is the IEEE denormal sum. Either way
// the caller's floating-point mode is the same after the call, and a caller
// that flushes and rounds upward does not make the IEEE run flush (bit-equal
// results under another rounding mode: tests/e2e/embed_rounding.c).
TEST(Trainer, DenormalsAreFlushedOnEveryThreadAndTheCallersModeIsKept) {
  constexpr int64_t kRows = 64; // enough rows for both threads to take a chunk
  const unsigned initial = _mm_getcsr();
  for (unsigned caller : {initial, initial | 0x8040u | 0x4000u}) // FTZ, DAZ, round up
    for (bool flush : {true, false}) {
      TrainOptions o = quietOptions();
      o.batch = kRows;
      o.threads = 2;
      o.flushDenormals = flush;
      Trainer trainer = makeTrainer(o);
      for (int t = 0; t < testmodel::kTasks; ++t)
        for (int j = 0; j < testmodel::kParamsPerTask; ++j)
          trainer.params()[size_t(t * testmodel::kParamsPerTask + j)] =
              j < testmodel::kFeatures ? 1e-20f : 0.0f;
      std::vector<float> x(kRows * testmodel::kFeatures, 1e-20f);
      std::vector<float> out(kRows * testmodel::kTasks, -1.0f);
      std::vector<float *> outs;
      for (int t = 0; t < testmodel::kTasks; ++t)
        outs.push_back(out.data() + t * kRows);
      const float *in[] = {x.data()};
      _mm_setcsr(caller);
      const bool ok = trainer.forward(kRows, in, outs).ok();
      const unsigned after = _mm_getcsr();
      _mm_setcsr(initial);
      ASSERT_TRUE(ok);
      EXPECT_EQ(after, caller) << flush;
      for (int64_t r = 0; r < kRows * testmodel::kTasks; ++r) {
        if (flush)
          ASSERT_EQ(out[size_t(r)], 0.0f) << "row " << r % kRows;
        else
          ASSERT_TRUE(out[size_t(r)] > 0.0f && out[size_t(r)] < 1e-38f) << out[size_t(r)];
      }
    }
}

TEST(Trainer, DataThatDoesNotFitIsAnError) {
  Dataset data = makeData(20, 1);
  data.inputWidths = {4};
  Trainer trainer = makeTrainer(quietOptions());
  Result<TrainResult> r = trainer.fit(data);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("input 'x' has 4 values per row, the model expects 3"),
            std::string::npos)
      << r.error();
  // The widths agree, and the values do not fill the rows: said as such.
  data = makeData(20, 1);
  data.inputs[0].write().pop_back();
  r = trainer.fit(data);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("input 'x' holds 59 values, not 20 rows of 3"), std::string::npos)
      << r.error();
  data = makeData(20, 1);
  data.targets[1].push_back(0);
  r = trainer.fit(data);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("holds 21 target values, not 20 rows of 1"), std::string::npos)
      << r.error();
}

TEST(Trainer, StepsAllocateNothing) {
  // Allocations in fit() depend on the epochs, never on how many steps they take.
  Dataset data = makeData(256, 1);
  TrainOptions o = quietOptions();
  o.keepStepLosses = false;
  auto countFit = [&](int64_t batch) {
    o.batch = batch;
    Trainer trainer = makeTrainer(o);
    int64_t before = allocations.load();
    EXPECT_TRUE(trainer.fit(data).ok());
    return allocations.load() - before;
  };
  EXPECT_EQ(countFit(256), countFit(4)); // 5 steps against 320
}

TEST(Trainer, JsonLogHasOneRecordPerLine) {
  TrainOptions o = quietOptions();
  o.epochs = 3;
  o.validate = 0.2;
  o.logEvery = 4;
  o.logPath = tempPath("mtl-log.jsonl");
  Dataset test = makeData(30, 2);
  TrainResult r = fitOk(o, makeData(100, 1), nullptr, &test);
  std::ifstream log(o.logPath);
  std::vector<nlohmann::json> records;
  for (std::string line; std::getline(log, line);)
    records.push_back(nlohmann::json::parse(line));
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records.front()["type"], "start");
  EXPECT_EQ(records.front()["train_rows"], 80);
  EXPECT_EQ(records.back()["type"], "end");
  EXPECT_EQ(records.back()["test"]["rows"], 30);
  int steps = 0, epochs = 0;
  for (const nlohmann::json &rec : records) {
    if (rec["type"] == "step") {
      ++steps;
      EXPECT_EQ(rec["step"].get<int64_t>() % 4, 0);
      EXPECT_TRUE(rec["loss"].is_number());
      EXPECT_TRUE(rec["tasks"]["y"]["loss"].is_number());
      EXPECT_TRUE(rec["tasks"]["pos"].contains("labelled"));
    } else if (rec["type"] == "epoch") {
      ++epochs;
      EXPECT_EQ(rec["epoch"], epochs);
      EXPECT_TRUE(rec["tasks"]["aux"]["loss"].is_number());
      EXPECT_TRUE(rec["val"]["tasks"]["pos"]["accuracy"].is_number());
      EXPECT_TRUE(rec["val"]["tasks"]["y"]["r2"].is_number());
    }
  }
  EXPECT_EQ(steps, int(r.steps / 4));
  EXPECT_EQ(epochs, 3);
  std::filesystem::remove(o.logPath);
}

TEST(Trainer, TableAndSummaryGoToTheirStream) {
  std::FILE *out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  TrainOptions o = quietOptions();
  o.quiet = false;
  o.table = out;
  o.progress = out; // not a terminal: no progress bar
  o.epochs = 2;
  o.validate = 0.2;
  Dataset test = makeData(30, 2);
  fitOk(o, makeData(100, 1), nullptr, &test);
  std::rewind(out);
  std::string text;
  for (int c; (c = std::fgetc(out)) != EOF;)
    text += char(c);
  std::fclose(out);
  EXPECT_NE(text.find("aux (aux)"), std::string::npos) << text;
  EXPECT_NE(text.find("accuracy"), std::string::npos) << text;
  EXPECT_NE(text.find("auxiliary tasks:"), std::string::npos) << text;
  EXPECT_NE(text.find("test, with the parameters of epoch "), std::string::npos) << text;
  EXPECT_NE(text.find("(30 rows"), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find("epoch 1/2"), std::string::npos);
}
