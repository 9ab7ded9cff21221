// Metrics.h: per-task evaluation metrics over a set of rows, defined as scikit-learn defines them.
#pragma once

#include "mtlrt/Dataset.h"
#include "mtlrt/Result.h"

#include <cstdint>
#include <span>
#include <string_view>

namespace mtlrt {

/// The metrics a task can report; the order matches the compiler's Metric enum.
enum class MetricKind { Accuracy, Precision, Recall, F1, MacroF1, Auc, Mse, Mae, R2 };

/// "accuracy", "precision", "recall", "f1", "macro_f1", "auc", "mse", "mae", "r2".
const char *metricKindName(MetricKind metric);
/// True when larger values are better (all but mse and mae).
bool metricHigherIsBetter(MetricKind metric);
/// The same for a monitored quantity by name: "loss" is minimised, and so is
/// a metric named as metricKindName names mse and mae.
bool higherIsBetter(std::string_view monitored);
/// Whether a metric is defined for a kind of task: mse, mae and r2 for
/// regress; the others for binary, classify and multilabel.
bool metricSuits(MetricKind metric, TaskSpec::Kind kind);

/// One task's outputs and targets over some rows.
///
/// A target element is scored when its row is in the mask (or there is no
/// mask) and the element is not NaN. Meaning of the values per kind:
///  - regress(n): outputs and targets are n values per row;
///  - binary: one raw output per row (a logit), predicted positive iff
///    output > threshold; the target is positive iff it is >= 0.5;
///  - classify(k): k logits per row, the prediction is the first argmax;
///    the target is one class id in [0, k);
///  - multilabel(k): k logits and k 0/1 targets per row, each as for binary.
struct MetricInput {
  TaskSpec::Kind kind = TaskSpec::Regress;
  int64_t rows = 0;
  int64_t width = 1;              ///< the head's width: n, 1, k, k
  std::span<const float> outputs; ///< rows x width
  std::span<const float> targets; ///< rows x targetWidth (1 for classify)
  std::span<const uint8_t> mask;  ///< empty, or rows flags: 1 = the row has a label
  double threshold = 0.0;         ///< 0 for logits; 0.5 if outputs are probabilities
};

// Every metric returns NaN when nothing is scored, and when a scored
// element's output is NaN (parameters that diverged, inputs that overflow
// the model): no class is chosen from it, so no count means anything.
// With tp, fp, fn, tn counted over the scored elements (binary: positive
// class 1; multilabel: micro, i.e. pooled over all labels; classify: per
// class, then the unweighted mean over the classes that occur in the
// targets or the predictions, i.e. macro):

/// (tp + tn) / scored elements; classify: correct rows / scored rows.
/// Multilabel: pooled over labels (1 - Hamming loss), not scikit-learn's
/// subset accuracy, so that partial credit shows.
double accuracy(const MetricInput &in);
/// tp / (tp + fp), 0 when nothing is predicted positive.
double precision(const MetricInput &in);
/// tp / (tp + fn), 0 when nothing is positive.
double recall(const MetricInput &in);
/// 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall; 0 when
/// the denominator is 0.
double f1(const MetricInput &in);
/// The unweighted mean of per-class F1: classify and binary over the classes
/// that occur in the targets or predictions (both 0 and 1 for binary);
/// multilabel over all k labels (a label never present nor predicted scores 0).
double macroF1(const MetricInput &in);
/// Area under the ROC curve = P(score of a positive > score of a negative),
/// ties counting 1/2: (Σ ranks of positives − P(P+1)/2) / (P·N), with tied
/// scores given their average rank. NaN if P or N is 0 or a score is NaN.
/// Multilabel: mean over labels where it is defined; classify: one-vs-rest
/// on softmax probabilities, mean over classes where it is defined.
double auc(const MetricInput &in);
/// Mean over output columns of mean((y − ŷ)²) over the column's scored rows.
double mse(const MetricInput &in);
/// Mean over output columns of mean(|y − ŷ|).
double mae(const MetricInput &in);
/// Mean over output columns of 1 − Σ(y − ŷ)² / Σ(y − ȳ)²; a column with
/// constant targets scores 1 if predicted exactly, else 0; NaN below 2 rows.
double r2(const MetricInput &in);

/// The AUC of `scores` against 0/1 `positive` flags, as for auc().
double binaryAuc(std::span<const double> scores, std::span<const uint8_t> positive);

/// Checks that the metric suits the task, that the spans have the sizes that
/// rows and width imply, and that classify targets are class ids; then
/// computes the metric.
Result<double> computeMetric(MetricKind metric, const MetricInput &in);

} // namespace mtlrt
