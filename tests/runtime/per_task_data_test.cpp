// per_task_data_test.cpp: runs that train on several data sets: loading with unbound inputs,
// merging, per-data-set splits, the epoch plans of each sampling, and training and resuming.
#include "TestFiles.h"
#include "TrainerTestModel.h"
#include "mtlrt/Dataset.h"
#include "mtlrt/Trainer.h"
#include "train/Sampling.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace mtlrt;
namespace fs = std::filesystem;

namespace {

bool allNan(std::span<const float> v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isnan(x); });
}

/// testmodel::makeData with only the tasks in `labelled` keeping their labels.
Dataset part(const std::string &name, int64_t rows, uint64_t seed, std::vector<int> labelled) {
  Dataset d = testmodel::makeData(rows, seed);
  d.name = name;
  for (int t = 0; t < testmodel::kTasks; ++t)
    if (std::find(labelled.begin(), labelled.end(), t) == labelled.end())
      std::fill(d.targets[size_t(t)].begin(), d.targets[size_t(t)].end(), NAN);
  return d;
}

const std::vector<InputSpec> kInputs = {{"x", 3, 0, {}}};
const std::vector<TaskSpec> kTasks = {{"y", TaskSpec::Regress, 1, {}},
                                      {"pos", TaskSpec::Binary, 1, {}},
                                      {"aux", TaskSpec::Regress, 1, {}}};

Dataset merged(Dataset a, Dataset b) {
  std::vector<Dataset> parts;
  parts.push_back(std::move(a));
  parts.push_back(std::move(b));
  Result<Dataset> m = mergeDatasets(std::move(parts), kInputs, kTasks);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error());
  return m.ok() ? std::move(m.value()) : Dataset{};
}

/// Which sources the rows of batch b of `plan` come from.
std::set<int32_t> batchSources(const EpochPlan &plan, size_t b, const std::vector<int32_t> &of) {
  std::set<int32_t> out;
  for (int64_t k = b == 0 ? 0 : plan.ends[b - 1]; k < plan.ends[b]; ++k)
    out.insert(of[size_t(plan.rows[size_t(k)])]);
  return out;
}

} // namespace

TEST(PerTaskData, AnUnboundInputOrTaskIsMissingOnEveryRow) {
  fs::path dir = mtl::test::scratchDir("per-task", "unbound");
  std::ofstream(dir / "a.csv") << "a,b\n1,2\n3,\n5,6\n";
  DataSpec spec;
  spec.name = "a";
  spec.csv.path = (dir / "a.csv").string();
  BindingSpec x;
  x.target = "x";
  x.slot = 0;
  x.columns = {{"a", -1}};
  BindingSpec y;
  y.target = "y";
  y.isTask = true;
  y.slot = 0;
  y.columns = {{"b", -1}};
  spec.bindings = {x, y};
  const std::vector<InputSpec> inputs = {{"x", 1, 0, {}}, {"z", 2, 0, {}}};
  const std::vector<TaskSpec> tasks = {{"y", TaskSpec::Regress, 1, {}},
                                       {"w", TaskSpec::Regress, 2, {}}};
  Result<Dataset> d = loadDataset(spec, inputs, tasks);
  ASSERT_TRUE(d.ok()) << d.error();
  // No row is dropped for the input no binding feeds; the missing label only masks.
  EXPECT_EQ(d->rows, 3);
  EXPECT_EQ(d->inputs[0], (std::vector<float>{1, 3, 5}));
  EXPECT_EQ(d->inputs[1].size(), 6u);
  EXPECT_TRUE(allNan(d->inputs[1]));
  EXPECT_EQ(d->inputGaps, (std::vector<uint8_t>{0, 1}));
  EXPECT_TRUE(std::isnan(d->targets[0][1]));
  // A task no binding labels has no label on any row.
  EXPECT_EQ(d->targets[1].size(), 6u);
  EXPECT_TRUE(allNan(d->targets[1]));
}

TEST(PerTaskData, MergeStacksRowsAndMarksSources) {
  Dataset a = part("a", 3, 1, {0});
  Dataset b = part("b", 2, 2, {1, 2});
  std::ranges::fill(b.inputs[0].write(), NAN); // b binds no input
  const Values ax = a.inputs[0];
  Dataset m = merged(a, b);
  EXPECT_EQ(m.name, "a+b");
  EXPECT_EQ(m.rows, 5);
  EXPECT_EQ(m.sourceNames, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m.sources, (std::vector<int32_t>{0, 0, 0, 1, 1}));
  EXPECT_EQ(m.sourceRows, (std::vector<int64_t>{0, 1, 2, 0, 1}));
  EXPECT_EQ(m.inputGaps, (std::vector<uint8_t>{1}));
  ASSERT_EQ(m.inputs[0].size(), 15u);
  EXPECT_TRUE(std::equal(ax.begin(), ax.end(), m.inputs[0].begin()));
  EXPECT_TRUE(allNan(std::span(m.inputs[0]).subspan(9)));
  EXPECT_TRUE(allNan(std::span(m.targets[0]).subspan(3)));
  EXPECT_TRUE(allNan(std::span(m.targets[1]).first(3)));
  EXPECT_EQ(m.targets[2][3], b.targets[2][0]);
  EXPECT_EQ(sourceRowLists(m), (std::vector<std::vector<int64_t>>{{0, 1, 2}, {3, 4}}));
}

TEST(PerTaskData, MergeRefusesVocabulariesOrScalingThatDiffer) {
  Dataset a = part("a", 3, 1, {1}), b = part("b", 3, 2, {1});
  a.classNames[1] = {"no", "yes"};
  b.classNames[1] = {"n", "y"};
  std::vector<Dataset> parts{a, b};
  Result<Dataset> m = mergeDatasets(parts, kInputs, kTasks);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error(), "data sets 'a' and 'b' number the classes of task 'pos' differently; the "
                       "data sets that train together must share one vocabulary");
  b.classNames[1] = a.classNames[1];
  b.standardizeInputs = {1};
  parts = {a, b};
  m = mergeDatasets(parts, kInputs, kTasks);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error(), "data sets 'a' and 'b' bind input 'x' with and without standardize; the "
                       "data sets that train together must agree");
}

TEST(PerTaskData, EachDataSetKeepsItsShareOfHeldOutRows) {
  Dataset one = testmodel::makeData(40, 3);
  Split same = splitSources(one, 0.2, 7, 0.1);
  Split direct = splitRows(40, 0.2, 7, 0.1);
  EXPECT_EQ(same.train, direct.train);
  EXPECT_EQ(same.validation, direct.validation);
  EXPECT_EQ(same.test, direct.test);

  Dataset m = merged(part("a", 10, 1, {0}), part("b", 30, 2, {1}));
  Split s = splitSources(m, 0.2, 7);
  auto count = [&](const std::vector<int64_t> &rows, int32_t source) {
    return std::count_if(rows.begin(), rows.end(),
                         [&](int64_t r) { return m.sources[size_t(r)] == source; });
  };
  EXPECT_EQ(count(s.validation, 0), 2); // ceil(0.2 * 10)
  EXPECT_EQ(count(s.validation, 1), 6); // ceil(0.2 * 30)
  EXPECT_EQ(s.train.size(), 32u);
  // The first data set's split is the one it would have alone.
  Split a = splitRows(10, 0.2, 7);
  EXPECT_EQ(std::vector<int64_t>(s.validation.begin(), s.validation.begin() + 2), a.validation);
}

TEST(PerTaskData, OneDataSetGivesTheShuffledRowsCutInOrder) {
  std::vector<std::vector<int64_t>> sources = {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}};
  EpochPlan plan;
  for (const char *text : {"round_robin", "proportional", "temperature(3)"}) {
    planEpoch(Sampling::parse(text).value(), sources, 4, true, 5, 3, plan);
    std::vector<int64_t> order = sources[0];
    shuffleRows(order, 5, 3);
    EXPECT_EQ(plan.rows, order) << text;
    EXPECT_EQ(plan.ends, (std::vector<int64_t>{4, 8, 10})) << text;
  }
}

TEST(PerTaskData, RoundRobinTakesTurnsAndStartsNewPasses) {
  // a: rows 0..7, b: rows 8..10; batch 2 gives 4 + 2 = 6 steps.
  std::vector<std::vector<int64_t>> sources = {{0, 1, 2, 3, 4, 5, 6, 7}, {8, 9, 10}};
  std::vector<int32_t> of = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
  EpochPlan plan;
  planEpoch(Sampling::parse("round_robin").value(), sources, 2, true, 5, 1, plan);
  ASSERT_EQ(plan.ends.size(), 6u);
  for (size_t b = 0; b < 6; ++b)
    EXPECT_EQ(batchSources(plan, b, of), std::set<int32_t>{int32_t(b % 2)}) << b;
  // b's first pass gives 2 rows then 1; its third batch starts a new pass.
  EXPECT_EQ(plan.ends, (std::vector<int64_t>{2, 4, 6, 7, 9, 11}));
  std::set<int64_t> firstPass(plan.rows.begin() + 2, plan.rows.begin() + 4);
  firstPass.insert(plan.rows[6]);
  EXPECT_EQ(firstPass, (std::set<int64_t>{8, 9, 10}));
  // Without shuffling, each pass reads the rows in order.
  planEpoch(Sampling::parse("round_robin").value(), sources, 2, false, 5, 1, plan);
  EXPECT_EQ(plan.rows, (std::vector<int64_t>{0, 1, 8, 9, 2, 3, 10, 4, 5, 8, 9}));
}

TEST(PerTaskData, SamplingDrawsDataSetsByTheirShares) {
  // a: 1000 rows, b: 10; batch 1 gives 1010 steps. The draws are fixed by
  // the seed; the bounds are about 3.5 standard deviations of each share.
  std::vector<std::vector<int64_t>> sources(2);
  std::vector<int32_t> of;
  for (int64_t r = 0; r < 1010; ++r) {
    sources[r < 1000 ? 0 : 1].push_back(r);
    of.push_back(r < 1000 ? 0 : 1);
  }
  auto fromB = [&](const char *text) {
    EpochPlan plan;
    planEpoch(Sampling::parse(text).value(), sources, 1, true, 9, 1, plan);
    EXPECT_EQ(plan.ends.size(), 1010u);
    return std::count_if(plan.rows.begin(), plan.rows.end(), [](int64_t r) { return r >= 1000; });
  };
  const int64_t proportional = fromB("proportional"); // p = 10 / 1010: 10 ± 3.1
  EXPECT_LE(proportional, 21);
  const int64_t sqrtShare = fromB("temperature(2)"); // p = √10 / (√1000 + √10) = 1/11: 92 ± 9
  EXPECT_GE(sqrtShare, 60);
  EXPECT_LE(sqrtShare, 124);
  const int64_t flat = fromB("temperature(1000)"); // p ≈ 0.499: 504 ± 16
  EXPECT_GE(flat, 448);
  EXPECT_LE(flat, 560);
  const int64_t turns = fromB("round_robin");
  EXPECT_EQ(turns, 505);
  // A small T gives the larger set every draw, also where n^(1/T) is past
  // the range of a double (1000^1000), and the limit of a huge T is uniform.
  EXPECT_EQ(fromB("temperature(0.001)"), 0);
  EXPECT_EQ(fromB("temperature(1e-300)"), 0);
  const int64_t uniform = fromB("temperature(1e300)"); // p = 0.5: 505 ± 16
  EXPECT_GE(uniform, 449);
  EXPECT_LE(uniform, 561);
}

TEST(PerTaskData, AnEpochDependsOnlyOnTheSeedAndItsNumber) {
  std::vector<std::vector<int64_t>> sources = {{0, 1, 2, 3, 4, 5, 6}, {7, 8, 9}};
  const Sampling s = Sampling::parse("proportional").value();
  EpochPlan a, b, c;
  planEpoch(s, sources, 2, true, 1, 4, a);
  planEpoch(s, sources, 2, true, 1, 5, c);
  planEpoch(s, sources, 2, true, 1, 4, b);
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.ends, b.ends);
  EXPECT_NE(a.rows, c.rows);
}

TEST(PerTaskData, SamplingTexts) {
  EXPECT_EQ(Sampling::parse("round_robin")->kind, Sampling::Kind::RoundRobin);
  EXPECT_EQ(Sampling::parse("proportional")->kind, Sampling::Kind::Proportional);
  EXPECT_EQ(Sampling::parse("temperature(t = 2.5)")->temperature, 2.5);
  EXPECT_EQ(Sampling::parse("temperature(4)")->temperature, 4.0);
  EXPECT_EQ(Sampling::parse("temperature(0)").error(),
            "sampling 'temperature(0)': the temperature must be a finite number > 0");
  EXPECT_EQ(Sampling::parse("temperature(inf)").error(),
            "sampling 'temperature(inf)': the temperature must be a finite number > 0");
  EXPECT_EQ(Sampling::parse("temperature(1e300)")->temperature, 1e300);
  EXPECT_EQ(Sampling::parse("uniform").error(),
            "unknown sampling 'uniform'; use round_robin, proportional or temperature(T)");
}

TEST(PerTaskData, EachStepTrainsTheTasksOfItsDataSet) {
  fs::path dir = mtl::test::scratchDir("per-task", "steps");
  Dataset m = merged(part("a", 60, 1, {0}), part("b", 40, 2, {1, 2}));
  TrainOptions o;
  o.epochs = 2;
  o.batch = 8;
  o.seed = 3;
  o.lr = 0.05f;
  o.quiet = true;
  o.validate = 0.2;
  o.sampling = "round_robin";
  o.logPath = (dir / "log.jsonl").string();
  o.logEvery = 1;
  Result<Trainer> trainer = Trainer::create(&testmodel::kModel, o);
  ASSERT_TRUE(trainer.ok()) << trainer.error();
  Result<TrainResult> r = trainer->fit(m);
  ASSERT_TRUE(r.ok()) << r.error();
  // 48 and 32 training rows: 6 + 4 steps an epoch, the data sets in turn.
  EXPECT_EQ(r->steps, 20);
  std::ifstream log(dir / "log.jsonl");
  int64_t steps = 0;
  for (std::string line; std::getline(log, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j["type"] != "step")
      continue;
    const int64_t inEpoch = (j["step"].get<int64_t>() - 1) % 10;
    const bool fromA = inEpoch % 2 == 0;
    EXPECT_EQ(j["tasks"]["y"]["labelled"].get<double>() > 0, fromA) << line;
    EXPECT_EQ(j["tasks"]["aux"]["labelled"].get<double>() > 0, !fromA) << line;
    ++steps;
  }
  EXPECT_EQ(steps, 20);
  // Each task is scored on its own data set's validation rows: 12 and 8.
  const EvalReport &val = *r->epochs.back().validation;
  EXPECT_EQ(val.tasks[0].labelled, 12);
  EXPECT_EQ(val.tasks[2].labelled, 8);
}

TEST(PerTaskData, TheTotalLossDoesNotDependOnTheBatches) {
  // Rows of a label task 0 only, rows of b tasks 1 and 2, and ten of b's
  // rows lack task 2's label too: evaluated in batches of any size, each
  // task's loss is over the rows that label it and the total is Σ_t w_t L_t.
  Dataset m = merged(part("a", 37, 1, {0}), part("b", 23, 2, {1, 2}));
  for (size_t r = 40; r < 50; ++r)
    m.targets[2][r] = NAN;
  std::vector<double> totals;
  for (int64_t batch : {1, 4, 7, 64}) {
    TrainOptions o;
    o.batch = batch;
    o.seed = 3;
    o.quiet = true;
    Result<Trainer> trainer = Trainer::create(&testmodel::kModel, o);
    ASSERT_TRUE(trainer.ok()) << trainer.error();
    Result<EvalReport> e = trainer->evaluate(m);
    ASSERT_TRUE(e.ok()) << e.error();
    EXPECT_EQ(e->tasks[2].labelled, 13);
    double weighted = 0;
    for (int t = 0; t < testmodel::kTasks; ++t)
      weighted += double(testmodel::kTaskDescs[t].weight) * e->tasks[size_t(t)].loss;
    EXPECT_NEAR(e->loss, weighted, 1e-6 * weighted) << "batch " << batch;
    totals.push_back(e->loss);
  }
  for (double total : totals)
    EXPECT_NEAR(total, totals[0], 1e-6 * totals[0]);
}

TEST(PerTaskData, AResumedRunIsBitIdentical) {
  Dataset m = merged(part("a", 70, 1, {0}), part("b", 30, 2, {1, 2}));
  fs::path straightDir = mtl::test::scratchDir("per-task", "straight"),
           splitDir = mtl::test::scratchDir("per-task", "split");
  auto options = [](const fs::path &dir, int64_t epochs) {
    TrainOptions o;
    o.epochs = epochs;
    o.batch = 8;
    o.seed = 5;
    o.lr = 0.03f;
    o.quiet = true;
    o.validate = 0.2;
    o.sampling = "temperature(2)";
    o.keepStepLosses = true;
    o.checkpointDir = dir.string();
    return o;
  };
  Trainer straight = Trainer::create(&testmodel::kModel, options(straightDir, 4)).value();
  TrainResult all = straight.fit(m).value();
  Trainer first = Trainer::create(&testmodel::kModel, options(splitDir, 2)).value();
  TrainResult head = first.fit(m).value();
  TrainOptions o = options(splitDir, 4);
  o.resumeFrom = (splitDir / "last.safetensors").string();
  Trainer resumed = Trainer::create(&testmodel::kModel, o).value();
  TrainResult tail = resumed.fit(m).value();
  std::vector<float> losses = head.stepLosses;
  losses.insert(losses.end(), tail.stepLosses.begin(), tail.stepLosses.end());
  ASSERT_EQ(losses.size(), all.stepLosses.size());
  EXPECT_EQ(std::memcmp(losses.data(), all.stepLosses.data(), losses.size() * 4), 0);
  ASSERT_EQ(resumed.params().size(), straight.params().size());
  EXPECT_EQ(
      std::memcmp(resumed.params().data(), straight.params().data(), straight.params().size() * 4),
      0);
  // Another sampling is another run: resuming with it is refused.
  o.sampling = "round_robin";
  Result<Trainer> other = Trainer::create(&testmodel::kModel, o);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().find("sampling: checkpoint 'temperature(2)', now 'round_robin'"),
            std::string::npos)
      << other.error();
}
