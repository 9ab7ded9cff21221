// metrics_test.cpp: every metric against values computed by hand.
#include "mtlrt/Metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace mtlrt;

namespace {

const float missing = std::nanf("");

MetricInput input(TaskSpec::Kind kind, int64_t rows, int64_t width,
                  const std::vector<float> &outputs, const std::vector<float> &targets,
                  const std::vector<uint8_t> &mask = {}) {
  MetricInput in;
  in.kind = kind;
  in.rows = rows;
  in.width = width;
  in.outputs = outputs;
  in.targets = targets;
  in.mask = mask;
  return in;
}

double metric(MetricKind kind, const MetricInput &in) {
  auto value = computeMetric(kind, in);
  EXPECT_TRUE(value.ok()) << value.error();
  return value.ok() ? *value : -1;
}

} // namespace

TEST(Metrics, Binary) {
  // Predicted positive where the logit > 0: 1 0 1 0 1 (row 5's label is missing).
  std::vector<float> out = {2, -1, 0.5f, -3, 1, -0.5f};
  std::vector<float> y = {1, 0, 0, 1, 1, missing};
  MetricInput in = input(TaskSpec::Binary, 6, 1, out, y); // tp 2, tn 1, fp 1, fn 1
  EXPECT_DOUBLE_EQ(metric(MetricKind::Accuracy, in), 3.0 / 5);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Precision, in), 2.0 / 3);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Recall, in), 2.0 / 3);
  EXPECT_DOUBLE_EQ(metric(MetricKind::F1, in), 2.0 / 3);
  EXPECT_DOUBLE_EQ(metric(MetricKind::MacroF1, in), (2.0 / 3 + 1.0 / 2) / 2);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Auc, in), 4.0 / 6); // positives 2, -3, 1; negatives -1, 0.5

  std::vector<uint8_t> mask = {0, 1, 1, 1, 1, 1}; // tp 1, tn 1, fp 1, fn 1
  EXPECT_DOUBLE_EQ(metric(MetricKind::Accuracy, input(TaskSpec::Binary, 6, 1, out, y, mask)), 0.5);

  std::vector<float> probs = {0.9f, 0.2f, 0.6f, 0.1f, 0.7f, 0.4f};
  MetricInput p = input(TaskSpec::Binary, 6, 1, probs, y);
  p.threshold = 0.5;
  EXPECT_DOUBLE_EQ(metric(MetricKind::F1, p), 2.0 / 3);
}

TEST(Metrics, NoPredictedPositivesScoreZeroLikeScikitLearn) {
  std::vector<float> out = {-1, -2, -3}, y = {1, 0, 0};
  MetricInput in = input(TaskSpec::Binary, 3, 1, out, y);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Precision, in), 0.0);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Recall, in), 0.0);
  EXPECT_DOUBLE_EQ(metric(MetricKind::F1, in), 0.0);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Accuracy, in), 2.0 / 3);
  std::vector<float> none = {missing, missing, missing};
  EXPECT_TRUE(std::isnan(metric(MetricKind::Accuracy, input(TaskSpec::Binary, 3, 1, out, none))));
  std::vector<float> allNeg = {0, 0, 0};
  EXPECT_TRUE(std::isnan(metric(MetricKind::Auc, input(TaskSpec::Binary, 3, 1, out, allNeg))));
}

TEST(Metrics, AucAveragesTiedRanks) {
  std::vector<double> scores = {0.5, 0.5, 0.2, 0.8};
  std::vector<uint8_t> positive = {1, 0, 0, 1};
  EXPECT_DOUBLE_EQ(binaryAuc(scores, positive), 3.5 / 4);
  std::vector<double> allTied = {1, 1, 1, 1};
  EXPECT_DOUBLE_EQ(binaryAuc(allTied, positive), 0.5);
  std::vector<double> withNan = {1, missing, 0, 2};
  EXPECT_TRUE(std::isnan(binaryAuc(withNan, positive)));
}

TEST(Metrics, Classify) {
  // Predictions (argmax, first on ties) 0 1 2 2 0 0 against targets 0 1 1 2 2 0.
  std::vector<float> out = {2, 1, 0, 0, 3, 1, 1, 0, 2, 0, 0, 1, 5, 1, 1, 1, 1, 0};
  std::vector<float> y = {0, 1, 1, 2, 2, 0};
  MetricInput in = input(TaskSpec::Classify, 6, 3, out, y);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Accuracy, in), 4.0 / 6);
  // Per class (P, R, F1): 0: (2/3, 1, 4/5); 1: (1, 1/2, 2/3); 2: (1/2, 1/2, 1/2).
  EXPECT_DOUBLE_EQ(metric(MetricKind::MacroF1, in), (4.0 / 5 + 2.0 / 3 + 1.0 / 2) / 3);
  EXPECT_DOUBLE_EQ(metric(MetricKind::F1, in), (4.0 / 5 + 2.0 / 3 + 1.0 / 2) / 3);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Precision, in), (2.0 / 3 + 1 + 1.0 / 2) / 3);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Recall, in), (1 + 1.0 / 2 + 1.0 / 2) / 3);

  // A fourth class that never occurs nor is predicted does not dilute the macro mean.
  std::vector<float> out4;
  for (size_t r = 0; r < 6; ++r) {
    out4.insert(out4.end(), out.begin() + static_cast<long>(r * 3),
                out.begin() + static_cast<long>(r * 3 + 3));
    out4.push_back(-9);
  }
  EXPECT_DOUBLE_EQ(metric(MetricKind::MacroF1, input(TaskSpec::Classify, 6, 4, out4, y)),
                   (4.0 / 5 + 2.0 / 3 + 1.0 / 2) / 3);

  // With two classes, one-vs-rest AUC on softmax equals the AUC of the logit margin.
  std::vector<float> two = {0, 1, 2, 0.5f, 0, -1, 1, 1, 3, 2};
  std::vector<float> y2 = {1, 0, 0, 1, 1};
  std::vector<double> margin;
  std::vector<uint8_t> pos;
  for (size_t r = 0; r < 5; ++r) {
    margin.push_back(two[2 * r + 1] - two[2 * r]);
    pos.push_back(y2[r] == 1);
  }
  EXPECT_NEAR(metric(MetricKind::Auc, input(TaskSpec::Classify, 5, 2, two, y2)),
              binaryAuc(margin, pos), 1e-12);
  std::vector<float> perfect = {5, 0, 0, 0, 5, 0, 0, 0, 5};
  std::vector<float> y3 = {0, 1, 2};
  EXPECT_DOUBLE_EQ(metric(MetricKind::Auc, input(TaskSpec::Classify, 3, 3, perfect, y3)), 1.0);
}

TEST(Metrics, MacroF1CountsClassesNeverPredictedAndNeverTrue) {
  // Targets 0 0 1 1; predictions 0 0 0 2. Scikit-learn's f1_score(average =
  // "macro") averages over the classes in targets or predictions:
  //   class 0: tp 2, fp 1, fn 0: P 2/3, R 1, F1 4/5;
  //   class 1: occurs twice, never predicted: F1 0;
  //   class 2: predicted once, never occurs: F1 0;
  //   class 3: neither: left out.
  std::vector<float> out = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0};
  std::vector<float> y = {0, 0, 1, 1};
  MetricInput in = input(TaskSpec::Classify, 4, 4, out, y);
  EXPECT_DOUBLE_EQ(metric(MetricKind::MacroF1, in), (4.0 / 5 + 0 + 0) / 3);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Precision, in), (2.0 / 3 + 0 + 0) / 3);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Recall, in), (1.0 + 0 + 0) / 3);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Accuracy, in), 2.0 / 4);
}

TEST(Metrics, AScoredOutputThatIsNanMakesEveryMetricNan) {
  // Row 0's logits are NaN and its class is 0, which an argmax over NaN
  // would choose: no metric may count it correct.
  const std::vector<MetricKind> counted = {MetricKind::Accuracy, MetricKind::Precision,
                                           MetricKind::Recall,   MetricKind::F1,
                                           MetricKind::MacroF1,  MetricKind::Auc};
  std::vector<float> out = {missing, missing, missing, 0, 3, 1};
  std::vector<float> y = {0, 1};
  for (MetricKind kind : counted)
    EXPECT_TRUE(std::isnan(metric(kind, input(TaskSpec::Classify, 2, 3, out, y))))
        << metricKindName(kind);
  // Binary and multilabel: a NaN logit with a negative target, which
  // "output > threshold" would count a true negative.
  std::vector<float> logits = {missing, 2, -1}, labels = {0, 1, 0};
  for (TaskSpec::Kind kind : {TaskSpec::Binary, TaskSpec::Multilabel})
    for (MetricKind metricKind : counted) {
      const int64_t rows = kind == TaskSpec::Binary ? 3 : 1, width = 4 - rows;
      EXPECT_TRUE(std::isnan(metric(metricKind, input(kind, rows, width, logits, labels))))
          << metricKindName(metricKind);
    }
  // A NaN output that nothing scores (no label, or a row the mask leaves
  // out) changes nothing; infinite logits are ordered and score.
  EXPECT_DOUBLE_EQ(
      metric(MetricKind::Accuracy, input(TaskSpec::Binary, 2, 1, {missing, 2}, {missing, 1})), 1.0);
  EXPECT_DOUBLE_EQ(
      metric(MetricKind::Accuracy, input(TaskSpec::Binary, 2, 1, {missing, 2}, {0, 1}, {0, 1})),
      1.0);
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_DOUBLE_EQ(
      metric(MetricKind::Accuracy, input(TaskSpec::Classify, 2, 2, {inf, 0, -inf, 0}, {0, 1})),
      1.0);
}

TEST(Metrics, MultilabelIsMicroAveraged) {
  std::vector<float> out = {1, -1, 1, 1, -1, -1, -2, 2};
  std::vector<float> y = {1, 0, 0, 1, 1, missing, 0, 1};
  MetricInput in = input(TaskSpec::Multilabel, 4, 2, out, y); // tp 3, fp 1, fn 1, tn 2
  EXPECT_DOUBLE_EQ(metric(MetricKind::Accuracy, in), 5.0 / 7);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Precision, in), 3.0 / 4);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Recall, in), 3.0 / 4);
  EXPECT_DOUBLE_EQ(metric(MetricKind::F1, in), 3.0 / 4);
  EXPECT_DOUBLE_EQ(metric(MetricKind::MacroF1, in), (0.5 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Auc, in), (2.5 / 4 + 1.0) / 2);
}

TEST(Metrics, RegressionMeansOverColumns) {
  std::vector<float> out = {1, 2, 2, 4, 3, 6, 4, 8};
  std::vector<float> y = {1, 3, 2, 5, 4, 7, missing, 9};
  MetricInput in = input(TaskSpec::Regress, 4, 2, out, y);
  // Column 0 (3 rows): errors 0 0 1; column 1 (4 rows): errors 1 1 1 1.
  EXPECT_DOUBLE_EQ(metric(MetricKind::Mse, in), (1.0 / 3 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Mae, in), (1.0 / 3 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(metric(MetricKind::R2, in), (11.0 / 14 + 0.8) / 2);

  std::vector<float> constant = {2, 2}, exact = {2, 2}, off = {2, 3};
  EXPECT_DOUBLE_EQ(metric(MetricKind::R2, input(TaskSpec::Regress, 2, 1, exact, constant)), 1.0);
  EXPECT_DOUBLE_EQ(metric(MetricKind::R2, input(TaskSpec::Regress, 2, 1, off, constant)), 0.0);
  std::vector<float> one = {1}, oneY = {2};
  EXPECT_TRUE(std::isnan(metric(MetricKind::R2, input(TaskSpec::Regress, 1, 1, one, oneY))));
  EXPECT_DOUBLE_EQ(metric(MetricKind::Mse, input(TaskSpec::Regress, 1, 1, one, oneY)), 1.0);
}

// A row the mask leaves out (the task's rows of another data set, or held out)
// is not scored even though its target is a number.
TEST(Metrics, RegressionScoresOnlyTheRowsTheMaskKeeps) {
  std::vector<float> out = {1, 2, 10, 4};
  std::vector<float> y = {1, 3, 0, 5};
  std::vector<uint8_t> mask = {1, 1, 0, 1};
  MetricInput in = input(TaskSpec::Regress, 4, 1, out, y, mask);
  // Rows 0, 1, 3: errors 0, 1, 1; mean of y = 3, total sum of squares 4 + 0 + 4.
  EXPECT_DOUBLE_EQ(metric(MetricKind::Mse, in), 2.0 / 3);
  EXPECT_DOUBLE_EQ(metric(MetricKind::Mae, in), 2.0 / 3);
  EXPECT_DOUBLE_EQ(metric(MetricKind::R2, in), 1 - 2.0 / 8);
}

TEST(Metrics, ComputeMetricChecksItsInput) {
  std::vector<float> out = {0.5f}, y = {1};
  auto wrongKind = computeMetric(MetricKind::Mse, input(TaskSpec::Binary, 1, 1, out, y));
  ASSERT_FALSE(wrongKind.ok());
  EXPECT_EQ(wrongKind.error(), "metric 'mse' does not apply to a binary task");
  auto wrongSize = computeMetric(MetricKind::Accuracy, input(TaskSpec::Binary, 2, 1, out, y));
  ASSERT_FALSE(wrongSize.ok());
  EXPECT_EQ(wrongSize.error(), "metric 'accuracy': 2 rows of width 1 need 2 outputs, 2 targets "
                               "and 2 mask flags; got 1, 1 and 0");
  std::vector<float> logits = {1, 2}, badId = {2};
  auto badClass =
      computeMetric(MetricKind::Accuracy, input(TaskSpec::Classify, 1, 2, logits, badId));
  ASSERT_FALSE(badClass.ok());
  EXPECT_EQ(badClass.error(), "metric 'accuracy': target 2 is not a class id of classify(2)");
  EXPECT_STREQ(metricKindName(MetricKind::MacroF1), "macro_f1");
  EXPECT_TRUE(metricHigherIsBetter(MetricKind::Auc));
  EXPECT_FALSE(metricHigherIsBetter(MetricKind::Mae));
  EXPECT_TRUE(metricSuits(MetricKind::R2, TaskSpec::Regress));
  EXPECT_FALSE(metricSuits(MetricKind::Auc, TaskSpec::Regress));
}
