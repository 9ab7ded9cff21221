// experiment_test.cpp: the pieces of `mtlc experiment` that decide its numbers: the search's
// points, the k folds, the t distribution and paired test, and Δm, each against values
// worked out by hand.
#include "experiment/Detail.h"
#include "mtlrt/Experiment.h"
#include "mtlrt/Stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace mtlrt {
namespace {

TEST(ExperimentSearch, TheGridIsTheProductFirstTaskSlowestThenBalanceThenLr) {
  ExperimentPlan plan;
  plan.search = true;
  plan.weights = {{"sex", {0.5, 1}}, {"mass", {2, 3, 4}}};
  plan.balance = {"static", "pcgrad"};
  plan.lr = {0.1};
  std::vector<SearchPoint> points = searchPoints(plan, 1);
  ASSERT_EQ(points.size(), 12u);
  EXPECT_EQ(describePoint(points[0]), "sex = 0.5, mass = 2, balance = static, lr = 0.1");
  EXPECT_EQ(describePoint(points[1]), "sex = 0.5, mass = 2, balance = pcgrad, lr = 0.1");
  EXPECT_EQ(describePoint(points[2]), "sex = 0.5, mass = 3, balance = static, lr = 0.1");
  EXPECT_EQ(describePoint(points[11]), "sex = 1, mass = 4, balance = pcgrad, lr = 0.1");
  EXPECT_EQ(describePoint(searchPoints(ExperimentPlan{}, 1).at(0)), "the model's settings");
}

TEST(ExperimentSearch, RandomPointsLieInTheirRangesAndRepeatForASeed) {
  ExperimentPlan plan;
  plan.search = true;
  plan.randomPoints = 50;
  plan.weights = {{"a", {0.1, 10}}};
  std::vector<SearchPoint> points = searchPoints(plan, 4), again = searchPoints(plan, 4);
  ASSERT_EQ(points.size(), 50u);
  int below1 = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    double w = points[i].weights.at(0).second;
    EXPECT_GE(w, 0.1);
    EXPECT_LE(w, 10.0);
    EXPECT_EQ(w, again[i].weights.at(0).second);
    below1 += w < 1;
  }
  // Log-uniform on [0.1, 10]: half below 1 on average; 50 draws land far from 0 or 50.
  EXPECT_GT(below1, 10);
  EXPECT_LT(below1, 40);
  EXPECT_NE(searchPoints(plan, 5)[0].weights[0].second, points[0].weights[0].second);
}

/// 30 rows: class 0 on 18 of them, class 1 on 9, and 3 unlabelled.
Dataset labelled() {
  Dataset d;
  d.rows = 30;
  d.targets.resize(1);
  for (int r = 0; r < 30; ++r)
    d.targets[0].push_back(r < 18 ? 0.0f : r < 27 ? 1.0f : NAN);
  return d;
}

TEST(ExperimentFolds, AreDisjointCoverTheRowsAreStratifiedAndRepeat) {
  Dataset d = labelled();
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < 30; ++r)
    if (r != 4) // rows outside the pool (test rows) stay out of every fold
      rows.push_back(r);
  auto folds = kFolds(d, rows, 3, 0, 11);
  ASSERT_EQ(folds.size(), 3u);
  std::multiset<int64_t> seen;
  for (const auto &f : folds) {
    EXPECT_TRUE(std::is_sorted(f.begin(), f.end()));
    seen.insert(f.begin(), f.end());
    EXPECT_GE(f.size(), 9u);
    EXPECT_LE(f.size(), 10u);
    // 17 rows of class 0 in the pool: 5 or 6 per fold; 9 of class 1: 3 per fold.
    int zeros = 0, ones = 0;
    for (int64_t r : f)
      (r < 18 ? zeros : r < 27 ? ones : zeros) += r < 27 ? 1 : 0;
    EXPECT_GE(zeros, 5);
    EXPECT_LE(zeros, 6);
    EXPECT_EQ(ones, 3);
  }
  EXPECT_EQ(seen, std::multiset<int64_t>(rows.begin(), rows.end())); // each once
  EXPECT_EQ(kFolds(d, rows, 3, 0, 11), folds);
  EXPECT_NE(kFolds(d, rows, 3, 0, 12), folds);
}

TEST(ExperimentStats, StudentTMatchesItsClosedForms) {
  // One degree of freedom is the Cauchy distribution: F(t) = 1/2 + atan(t) / pi;
  // two: F(t) = 1/2 + t / (2 sqrt(2 + t^2)).
  for (double t : {-3.0, -0.5, 0.0, 0.7, 2.0, 10.0}) {
    EXPECT_NEAR(studentTCdf(t, 1), 0.5 + std::atan(t) / M_PI, 1e-12) << t;
    EXPECT_NEAR(studentTCdf(t, 2), 0.5 + t / (2 * std::sqrt(2 + t * t)), 1e-12) << t;
  }
  // t(0.975, 2): t / sqrt(2 + t^2) = 0.95, so t^2 = 0.9025 * 2 / 0.0975.
  EXPECT_NEAR(studentTQuantile(0.975, 2), std::sqrt(0.9025 * 2 / 0.0975), 1e-9);
  EXPECT_NEAR(studentTQuantile(0.975, 1), std::tan(M_PI * 0.475), 1e-7);
}

TEST(ExperimentStats, PairedTestOfThreePairs) {
  // Differences 0.3, 0.1, 0.2: mean 0.2, s = 0.1, se = 0.1 / sqrt(3), t = 2 sqrt(3);
  // with 2 degrees of freedom p = 1 - t / sqrt(2 + t^2) = 1 - sqrt(12 / 14).
  const double a[] = {1.3, 2.1, 0.7}, b[] = {1.0, 2.0, 0.5};
  PairedTest t = pairedTTest(a, b);
  EXPECT_EQ(t.n, 3);
  EXPECT_NEAR(t.mean, 0.2, 1e-12);
  EXPECT_NEAR(t.p, 1 - std::sqrt(12.0 / 14.0), 1e-9);
  double half = std::sqrt(0.9025 * 2 / 0.0975) * 0.1 / std::sqrt(3.0);
  EXPECT_NEAR(t.lo, 0.2 - half, 1e-9);
  EXPECT_NEAR(t.hi, 0.2 + half, 1e-9);
  const double same[] = {1.0, 2.0, 0.5};
  EXPECT_EQ(pairedTTest(same, b).p, 1.0);
  // Two seeds, each one test row of 69 apart: equal differences but for
  // rounding, no spread to test; the test is undefined (it said p = 2e-15).
  const double mtl[] = {0.9565217391304348, 0.9420289855072463};
  const double alone[] = {0.9710144927536232, 0.9565217391304348};
  PairedTest flat = pairedTTest(mtl, alone);
  EXPECT_NEAR(flat.mean, -1.0 / 69, 1e-12);
  EXPECT_TRUE(std::isnan(flat.p));
  EXPECT_TRUE(std::isnan(flat.lo) && std::isnan(flat.hi));
  EXPECT_TRUE(std::isnan(pairedTTest(std::span(a, 1), std::span(b, 1)).p));
  EXPECT_TRUE(std::isnan(summarize(std::vector<double>{0.5}).std)); // undefined for one value
  Summary s = summarize(std::vector<double>{1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(5.0 / 3.0)); // squares 2.25 + 0.25 + 0.25 + 2.25 over 3
}

TEST(ExperimentResults, DeltaMIsTheMeanSignedRelativeChange) {
  // Seed 1: accuracy 0.9 against 0.8 (+12.5%), mse 0.5 against 0.4 (worse: -25%): -6.25%.
  // Seed 2: accuracy 0.8 against 0.8 (0%), mse 0.3 against 0.4 (better: +25%): +12.5%.
  ExperimentPlan plan;
  plan.singleTaskBaselines = true;
  plan.goals = {{"c", "accuracy", true}, {"r", "mse", false}};
  experiment::RunRecords runs;
  auto run = [](double acc, double mse) {
    return experiment::json{{"scored_on", "test"},
                            {"scores", {{"c", {{"accuracy", acc}}}, {"r", {{"mse", mse}}}}}};
  };
  runs["mtl/seed1"] = run(0.9, 0.5);
  runs["mtl/seed2"] = run(0.8, 0.3);
  for (const char *t : {"c", "r"}) {
    runs[std::string("stl:") + t + "/seed1"] = run(0.8, 0.4);
    runs[std::string("stl:") + t + "/seed2"] = run(0.8, 0.4);
  }
  experiment::json r = experiment::experimentResults(plan, runs, {1, 2}, nullptr, "m", 1.0);
  const auto &delta = r["delta_m"]["values"];
  EXPECT_NEAR(delta[0].get<double>(), -6.25, 1e-9);
  EXPECT_NEAR(delta[1].get<double>(), 12.5, 1e-9);
  EXPECT_NEAR(r["delta_m"]["mean"].get<double>(), 3.125, 1e-9);
  EXPECT_NEAR(r["tasks"][0]["difference"]["mean"].get<double>(), 0.05, 1e-9);
  std::string table = experiment::resultsTable(r);
  EXPECT_NE(table.find("Δm = +3.1"), std::string::npos) << table;
  std::string csv = experiment::resultsCsv(r);
  EXPECT_NE(csv.find("delta_m,percent,true,3.125,"), std::string::npos) << csv;

  // One seed: the spreads are undefined, written as "-" (null in JSON, empty
  // in CSV), not 0. A metric undefined in a run (NaN) leaves Δm undefined.
  experiment::json one = experiment::experimentResults(plan, runs, {1}, nullptr, "m", 1.0);
  EXPECT_TRUE(std::isnan(one["delta_m"]["std"].get<double>()));
  EXPECT_EQ(experiment::json::parse(one.dump())["tasks"][0]["mtl"]["std"], nullptr);
  table = experiment::resultsTable(one);
  EXPECT_NE(table.find("0.9000 ± -"), std::string::npos) << table;
  EXPECT_NE(table.find("Δm = -6.25% ± - ("), std::string::npos) << table;
  EXPECT_NE(experiment::resultsCsv(one).find("delta_m,percent,true,-6.25,,"), std::string::npos);
  runs["mtl/seed2"]["scores"]["c"]["accuracy"] = nullptr;
  table =
      experiment::resultsTable(experiment::experimentResults(plan, runs, {1, 2}, nullptr, "m", 1));
  EXPECT_NE(table.find("Δm = - (undefined"), std::string::npos) << table;
  EXPECT_EQ(table.find("nan"), std::string::npos) << table;
}

TEST(ExperimentResults, TheSearchChoosesTheBestMeanInTheMetricsDirection) {
  ExperimentPlan plan;
  plan.search = true;
  plan.folds = 2;
  plan.metric = "loss";
  plan.lr = {0.1, 0.01, 0.001};
  std::vector<SearchPoint> points = searchPoints(plan, 0);
  experiment::RunRecords runs;
  const double losses[3][2] = {{0.5, 0.7}, {0.4, 0.6}, {0.3, 0.9}}; // means 0.6, 0.5, 0.6
  for (int p = 0; p < 3; ++p)
    for (int f = 0; f < 2; ++f)
      runs["search/p" + std::to_string(p + 1) + "/f" + std::to_string(f + 1)] = {
          {"total_loss", losses[p][f]}};
  int64_t chosen = -1;
  experiment::json s = experiment::searchResults(plan, points, runs, chosen);
  EXPECT_EQ(chosen, 1);
  EXPECT_NEAR(s["points"][1]["mean"].get<double>(), 0.5, 1e-12);
  plan.maximize = true; // the first of the two best
  experiment::searchResults(plan, points, runs, chosen);
  EXPECT_EQ(chosen, 0);

  // A failed run (recorded without scores) leaves its point out, and the
  // table says it failed.
  plan.maximize = false;
  runs["search/p2/f1"] = {{"status", "failed"}, {"error", "training stopped"}};
  s = experiment::searchResults(plan, points, runs, chosen);
  EXPECT_EQ(chosen, 0);
  EXPECT_EQ(s["points"][1]["failed"], 1);
  experiment::json r = {{"search", s},
                        {"scored_on", "test"},
                        {"seeds", 1},
                        {"seconds", 1.0},
                        {"tasks", experiment::json::array()}};
  const std::string table = experiment::resultsTable(r);
  EXPECT_NE(table.find("- ± -  (failed on 1 of 2 folds)"), std::string::npos) << table;
}

} // namespace
} // namespace mtlrt
