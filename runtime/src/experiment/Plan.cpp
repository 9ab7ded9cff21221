// Plan.cpp: an experiment's search points and its cross-validation folds.
#include "mtlrt/Experiment.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>

namespace mtlrt {

std::vector<SearchPoint> searchPoints(const ExperimentPlan &plan, uint64_t seed) {
  using Weights = std::vector<std::pair<std::string, double>>;
  std::vector<Weights> weights = {{}};
  if (plan.randomPoints > 0) {
    Rng rng(seed, kSearchStream);
    weights.clear();
    for (int64_t i = 0; i < plan.randomPoints; ++i) {
      Weights point;
      for (const WeightChoice &c : plan.weights) {
        double lo = std::log(c.values[0]), hi = std::log(c.values[1]);
        point.emplace_back(c.task, std::exp(lo + (hi - lo) * rng.uniform()));
      }
      weights.push_back(std::move(point));
    }
  } else {
    for (const WeightChoice &c : plan.weights) {
      std::vector<Weights> grown;
      for (const Weights &w : weights)
        for (double v : c.values) {
          grown.push_back(w);
          grown.back().emplace_back(c.task, v);
        }
      weights = std::move(grown);
    }
  }
  std::vector<std::string> balances =
      plan.balance.empty() ? std::vector<std::string>{""} : plan.balance;
  std::vector<std::optional<double>> lrs = {std::nullopt};
  if (!plan.lr.empty())
    lrs.assign(plan.lr.begin(), plan.lr.end());
  std::vector<SearchPoint> points;
  for (const Weights &w : weights)
    for (const std::string &b : balances)
      for (const std::optional<double> &lr : lrs)
        points.push_back({w, b, lr});
  return points;
}

std::string describePoint(const SearchPoint &point) {
  std::vector<std::string> parts;
  for (const auto &[task, w] : point.weights)
    parts.push_back(fmt::format("{} = {:.4g}", task, w));
  if (!point.balance.empty())
    parts.push_back("balance = " + point.balance);
  if (point.lr)
    parts.push_back(fmt::format("lr = {:.4g}", *point.lr));
  return parts.empty() ? "the model's settings" : fmt::format("{}", fmt::join(parts, ", "));
}

std::vector<std::vector<int64_t>> kFolds(const Dataset &data, std::span<const int64_t> rows,
                                         int64_t k, int strataTask, uint64_t seed) {
  // Groups by (source, class); std::map keeps them in a fixed order.
  std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> groups;
  for (int64_t r : rows) {
    int64_t source = data.sources.empty() ? 0 : data.sources[size_t(r)];
    int64_t label = -1;
    if (strataTask >= 0) {
      float y = data.targets[size_t(strataTask)][size_t(r)];
      label = std::isnan(y) ? -1 : int64_t(y);
    }
    groups[{source, label}].push_back(r);
  }
  Rng rng(seed, kFoldStream);
  std::vector<std::vector<int64_t>> folds(size_t(std::max<int64_t>(k, 1)));
  size_t next = 0;
  for (auto &[key, members] : groups) {
    for (size_t i = members.size(); i > 1; --i)
      std::swap(members[i - 1], members[size_t(rng.below(i))]);
    for (int64_t r : members) {
      folds[next].push_back(r);
      next = (next + 1) % folds.size();
    }
  }
  for (std::vector<int64_t> &f : folds)
    std::sort(f.begin(), f.end());
  return folds;
}

} // namespace mtlrt
