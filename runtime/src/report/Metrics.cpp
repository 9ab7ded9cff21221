// Metrics.cpp: accuracy, precision, recall, F1, AUC and regression errors over masked rows.
#include "mtlrt/Metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace mtlrt {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

bool rowScored(const MetricInput &in, int64_t r) {
  return in.mask.empty() || in.mask[static_cast<size_t>(r)] != 0;
}

/// Confusion counts of one binary problem.
struct Counts {
  double tp = 0, fp = 0, fn = 0, tn = 0;
  double total() const { return tp + fp + fn + tn; }
  double precision() const { return tp + fp > 0 ? tp / (tp + fp) : 0.0; }
  double recall() const { return tp + fn > 0 ? tp / (tp + fn) : 0.0; }
  double f1() const { return 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0.0; }
  void add(bool predicted, bool actual) {
    (predicted ? (actual ? tp : fp) : (actual ? fn : tn)) += 1;
  }
};

int64_t argmax(const float *values, int64_t n) {
  int64_t best = 0;
  for (int64_t a = 1; a < n; ++a)
    if (values[a] > values[best])
      best = a;
  return best;
}

/// One-vs-rest counts: per class for classify, per label for binary (k = 1)
/// and multilabel. Binary gets a second entry for class 0, used by macro-F1.
std::vector<Counts> perClassCounts(const MetricInput &in) {
  const bool classify = in.kind == TaskSpec::Classify;
  const int64_t k = in.width;
  std::vector<Counts> counts(static_cast<size_t>(in.kind == TaskSpec::Binary ? 2 : k));
  for (int64_t r = 0; r < in.rows; ++r) {
    if (!rowScored(in, r))
      continue;
    const float *out = &in.outputs[static_cast<size_t>(r * k)];
    if (classify) {
      float target = in.targets[static_cast<size_t>(r)];
      if (std::isnan(target))
        continue;
      int64_t truth = static_cast<int64_t>(target), predicted = argmax(out, k);
      for (int64_t c = 0; c < k; ++c)
        counts[static_cast<size_t>(c)].add(predicted == c, truth == c);
      continue;
    }
    for (int64_t j = 0; j < k; ++j) {
      float target = in.targets[static_cast<size_t>(r * k + j)];
      if (std::isnan(target))
        continue;
      bool predicted = out[j] > in.threshold, actual = target >= 0.5f;
      counts[static_cast<size_t>(j)].add(predicted, actual);
      if (in.kind == TaskSpec::Binary)
        counts[1].add(!predicted, !actual);
    }
  }
  return counts;
}

/// Micro (pooled) counts for binary and multilabel.
Counts pooled(const std::vector<Counts> &counts, TaskSpec::Kind kind) {
  if (kind == TaskSpec::Binary)
    return counts[0];
  Counts sum;
  for (const Counts &c : counts) {
    sum.tp += c.tp, sum.fp += c.fp, sum.fn += c.fn, sum.tn += c.tn;
  }
  return sum;
}

/// True when the counts mean nothing: no element was scored (for classify,
/// every class sees every row), or a scored element's output is NaN, which
/// chooses no class (AUC and the regression metrics are NaN there too).
bool countsUndefined(const std::vector<Counts> &counts, const MetricInput &in) {
  const int64_t k = in.width;
  const bool classify = in.kind == TaskSpec::Classify;
  for (int64_t r = 0; r < in.rows; ++r) {
    const float *out = &in.outputs[static_cast<size_t>(r * k)];
    for (int64_t j = 0; j < k && rowScored(in, r); ++j) {
      // A classify row's one target scores all of its k logits.
      float target = in.targets[static_cast<size_t>(classify ? r : r * k + j)];
      if (!std::isnan(target) && std::isnan(out[j]))
        return true;
    }
  }
  if (counts.empty())
    return true;
  if (in.kind != TaskSpec::Multilabel)
    return counts[0].total() == 0;
  return std::all_of(counts.begin(), counts.end(), [](const Counts &c) { return c.total() == 0; });
}

/// Macro average over classes that occur in targets or predictions.
template <typename F> double macro(const std::vector<Counts> &counts, F score) {
  double sum = 0;
  int n = 0;
  for (const Counts &c : counts)
    if (c.tp + c.fp + c.fn > 0) {
      sum += score(c);
      ++n;
    }
  return n ? sum / n : 0.0;
}

template <typename F> double countMetric(const MetricInput &in, F score) {
  std::vector<Counts> counts = perClassCounts(in);
  if (countsUndefined(counts, in))
    return nan;
  if (in.kind == TaskSpec::Classify)
    return macro(counts, score);
  return score(pooled(counts, in.kind));
}

/// Per-column regression sums; `finish` turns a column's residuals into a score.
template <typename F> double columnMean(const MetricInput &in, F finish) {
  double total = 0;
  int64_t columns = 0;
  std::vector<double> y, yhat;
  for (int64_t j = 0; j < in.width; ++j) {
    y.clear(), yhat.clear();
    for (int64_t r = 0; r < in.rows; ++r) {
      size_t i = static_cast<size_t>(r * in.width + j);
      if (rowScored(in, r) && !std::isnan(in.targets[i])) {
        y.push_back(in.targets[i]);
        yhat.push_back(in.outputs[i]);
      }
    }
    if (y.empty())
      continue;
    total += finish(y, yhat);
    ++columns;
  }
  return columns ? total / static_cast<double>(columns) : nan;
}

} // namespace

const char *metricKindName(MetricKind metric) {
  switch (metric) {
  case MetricKind::Accuracy:
    return "accuracy";
  case MetricKind::Precision:
    return "precision";
  case MetricKind::Recall:
    return "recall";
  case MetricKind::F1:
    return "f1";
  case MetricKind::MacroF1:
    return "macro_f1";
  case MetricKind::Auc:
    return "auc";
  case MetricKind::Mse:
    return "mse";
  case MetricKind::Mae:
    return "mae";
  case MetricKind::R2:
    return "r2";
  }
  return "?";
}

bool metricHigherIsBetter(MetricKind metric) {
  return metric != MetricKind::Mse && metric != MetricKind::Mae;
}

bool higherIsBetter(std::string_view monitored) {
  return monitored != "loss" && monitored != metricKindName(MetricKind::Mse) &&
         monitored != metricKindName(MetricKind::Mae);
}

bool metricSuits(MetricKind metric, TaskSpec::Kind kind) {
  bool regression =
      metric == MetricKind::Mse || metric == MetricKind::Mae || metric == MetricKind::R2;
  return regression == (kind == TaskSpec::Regress);
}

double accuracy(const MetricInput &in) {
  std::vector<Counts> counts = perClassCounts(in);
  if (countsUndefined(counts, in))
    return nan;
  if (in.kind == TaskSpec::Classify) { // every row adds one tp to its true class if correct
    double correct = 0;
    for (const Counts &c : counts)
      correct += c.tp;
    return correct / counts[0].total();
  }
  Counts c = pooled(counts, in.kind);
  return (c.tp + c.tn) / c.total();
}

double precision(const MetricInput &in) {
  return countMetric(in, [](const Counts &c) { return c.precision(); });
}
double recall(const MetricInput &in) {
  return countMetric(in, [](const Counts &c) { return c.recall(); });
}
double f1(const MetricInput &in) {
  return countMetric(in, [](const Counts &c) { return c.f1(); });
}

double macroF1(const MetricInput &in) {
  std::vector<Counts> counts = perClassCounts(in);
  if (countsUndefined(counts, in))
    return nan;
  if (in.kind == TaskSpec::Multilabel) {
    double sum = 0;
    for (const Counts &c : counts)
      sum += c.f1();
    return sum / static_cast<double>(counts.size());
  }
  return macro(counts, [](const Counts &c) { return c.f1(); });
}

double binaryAuc(std::span<const double> scores, std::span<const uint8_t> positive) {
  const size_t n = std::min(scores.size(), positive.size());
  double p = 0;
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(scores[i]))
      return nan; // would break the sort's ordering, and the AUC means nothing
    p += positive[i] != 0;
  }
  const double negatives = static_cast<double>(n) - p;
  if (p == 0 || negatives == 0)
    return nan;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double rankSum = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]])
      ++j;
    double averageRank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2; // 1-based
    for (size_t t = i; t < j; ++t)
      if (positive[order[t]])
        rankSum += averageRank;
    i = j;
  }
  return (rankSum - p * (p + 1) / 2) / (p * negatives);
}

double auc(const MetricInput &in) {
  const int64_t k = in.width;
  const bool classify = in.kind == TaskSpec::Classify;
  double sum = 0;
  int defined = 0;
  std::vector<double> scores, probs(static_cast<size_t>(k));
  std::vector<uint8_t> positive;
  for (int64_t c = 0; c < k; ++c) {
    scores.clear(), positive.clear();
    for (int64_t r = 0; r < in.rows; ++r) {
      if (!rowScored(in, r))
        continue;
      const float *out = &in.outputs[static_cast<size_t>(r * k)];
      float target = in.targets[static_cast<size_t>(classify ? r : r * k + c)];
      if (std::isnan(target))
        continue;
      if (classify) { // softmax, shifted by the max for range
        double top = *std::max_element(out, out + k), z = 0;
        for (int64_t a = 0; a < k; ++a)
          z += probs[static_cast<size_t>(a)] = std::exp(static_cast<double>(out[a]) - top);
        scores.push_back(probs[static_cast<size_t>(c)] / z);
        positive.push_back(static_cast<int64_t>(target) == c);
      } else {
        scores.push_back(out[c]);
        positive.push_back(target >= 0.5f);
      }
    }
    for (double s : scores)
      if (std::isnan(s))
        return nan;
    double a = binaryAuc(scores, positive);
    if (!std::isnan(a)) {
      sum += a;
      ++defined;
    }
  }
  return defined ? sum / defined : nan;
}

double mse(const MetricInput &in) {
  return columnMean(in, [](const std::vector<double> &y, const std::vector<double> &yhat) {
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i)
      s += (y[i] - yhat[i]) * (y[i] - yhat[i]);
    return s / static_cast<double>(y.size());
  });
}

double mae(const MetricInput &in) {
  return columnMean(in, [](const std::vector<double> &y, const std::vector<double> &yhat) {
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i)
      s += std::abs(y[i] - yhat[i]);
    return s / static_cast<double>(y.size());
  });
}

double r2(const MetricInput &in) {
  return columnMean(in, [](const std::vector<double> &y, const std::vector<double> &yhat) {
    if (y.size() < 2)
      return nan;
    double mean = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(y.size());
    double residual = 0, spread = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      residual += (y[i] - yhat[i]) * (y[i] - yhat[i]);
      spread += (y[i] - mean) * (y[i] - mean);
    }
    if (spread == 0)
      return residual == 0 ? 1.0 : 0.0;
    return 1 - residual / spread;
  });
}

Result<double> computeMetric(MetricKind metric, const MetricInput &in) {
  static const char *kinds[] = {"regress", "binary", "classify", "multilabel"};
  if (!metricSuits(metric, in.kind))
    return fail(fmt::format("metric '{}' does not apply to a {} task", metricKindName(metric),
                            kinds[in.kind]));
  const int64_t tw = in.kind == TaskSpec::Classify ? 1 : in.width;
  if (in.rows < 0 || in.width < 1 || in.outputs.size() != static_cast<size_t>(in.rows * in.width) ||
      in.targets.size() != static_cast<size_t>(in.rows * tw) ||
      (!in.mask.empty() && in.mask.size() != static_cast<size_t>(in.rows)))
    return fail(fmt::format("metric '{}': {} rows of width {} need {} outputs, {} targets and "
                            "{} mask flags; got {}, {} and {}",
                            metricKindName(metric), in.rows, in.width, in.rows * in.width,
                            in.rows * tw, in.rows, in.outputs.size(), in.targets.size(),
                            in.mask.size()));
  if (in.kind == TaskSpec::Classify)
    for (float t : in.targets)
      if (!std::isnan(t) && (t < 0 || t >= static_cast<float>(in.width) || t != std::floor(t)))
        return fail(fmt::format("metric '{}': target {} is not a class id of classify({})",
                                metricKindName(metric), t, in.width));
  switch (metric) {
  case MetricKind::Accuracy:
    return accuracy(in);
  case MetricKind::Precision:
    return precision(in);
  case MetricKind::Recall:
    return recall(in);
  case MetricKind::F1:
    return f1(in);
  case MetricKind::MacroF1:
    return macroF1(in);
  case MetricKind::Auc:
    return auc(in);
  case MetricKind::Mse:
    return mse(in);
  case MetricKind::Mae:
    return mae(in);
  case MetricKind::R2:
    return r2(in);
  }
  return fail("unknown metric");
}

} // namespace mtlrt
