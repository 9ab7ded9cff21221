// DatasetMerge.cpp: several data sets trained on together, as one Dataset with per-row sources.
#include "mtlrt/Dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mtlrt {

namespace {

/// Whether every row of `values` (rows x width) is NaN: the part binds nothing to the slot.
bool unbound(const std::vector<float> &values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return std::isnan(v); });
}

/// Takes `part`'s vocabulary for a slot into `merged`, which the first part
/// that binds the slot sets; a later one must agree.
template <class Vocabulary>
Status agree(Vocabulary &merged, const Vocabulary &part, const std::string &what,
             const std::string &first, const std::string &other) {
  if (part.empty())
    return Ok{};
  if (merged.empty()) {
    merged = part;
    return Ok{};
  }
  if (merged == part)
    return Ok{};
  return fail(fmt::format("data sets '{}' and '{}' number the {} differently; the data sets "
                          "that train together must share one vocabulary",
                          first, other, what));
}

/// `v[i]`, or an empty value where `v` is shorter (a Dataset built by hand
/// may leave per-slot lists empty).
template <class T> T slot(const std::vector<T> &v, size_t i) { return i < v.size() ? v[i] : T{}; }

} // namespace

Result<Dataset> mergeDatasets(std::vector<Dataset> parts, const std::vector<InputSpec> &inputs,
                              const std::vector<TaskSpec> &tasks) {
  if (parts.empty())
    return fail("no data sets to merge");
  if (parts.size() == 1)
    return std::move(parts.front());
  Dataset out;
  const Dataset &head = parts.front();
  out.inputWidths = head.inputWidths;
  out.targetWidths = head.targetWidths;
  out.inputs.resize(head.inputs.size());
  out.targets.resize(head.targets.size());
  out.classNames.resize(head.targets.size());
  out.categories.resize(head.inputs.size());
  out.standardizeInputs.assign(head.inputs.size(), 0);
  out.standardizeTargets.assign(head.targets.size(), 0);
  out.inputGaps.assign(head.inputs.size(), 0);
  // Which part first bound each slot, for messages.
  std::vector<int> inputOwner(head.inputs.size(), -1), taskOwner(head.targets.size(), -1);
  for (size_t p = 0; p < parts.size(); ++p) {
    Dataset &part = parts[p];
    if (part.inputWidths != out.inputWidths || part.targetWidths != out.targetWidths ||
        part.inputs.size() != inputs.size() || part.targets.size() != tasks.size())
      return fail(fmt::format("data sets '{}' and '{}' do not have the same inputs and tasks",
                              head.name, part.name));
    out.name += (p ? "+" : "") + part.name;
    out.sourceNames.push_back(part.name);
    out.sources.insert(out.sources.end(), size_t(part.rows), int32_t(p));
    out.sourceRows.insert(out.sourceRows.end(), part.sourceRows.begin(), part.sourceRows.end());
    out.notes.insert(out.notes.end(), part.notes.begin(), part.notes.end());
    out.rows += part.rows;
    for (size_t i = 0; i < part.inputs.size(); ++i) {
      const bool binds = !unbound(part.inputs[i]);
      const bool gaps = i < part.inputGaps.size() && part.inputGaps[i];
      out.inputGaps[i] = out.inputGaps[i] || !binds || gaps;
      if (binds) {
        const bool standardize = slot(part.standardizeInputs, i) != 0;
        if (inputOwner[i] >= 0 && bool(out.standardizeInputs[i]) != standardize)
          return fail(fmt::format("data sets '{}' and '{}' bind input '{}' with and "
                                  "without standardize; the data sets that train together must "
                                  "agree",
                                  parts[size_t(inputOwner[i])].name, part.name, inputs[i].name));
        out.standardizeInputs[i] = standardize;
        const std::string first = inputOwner[i] >= 0 ? parts[size_t(inputOwner[i])].name : "";
        if (Status s =
                agree(out.categories[i], slot(part.categories, i),
                      fmt::format("categories of input '{}'", inputs[i].name), first, part.name);
            !s)
          return s.takeError();
        if (inputOwner[i] < 0)
          inputOwner[i] = int(p);
      }
      out.inputs[i].insert(out.inputs[i].end(), part.inputs[i].begin(), part.inputs[i].end());
      std::vector<float>().swap(part.inputs[i]); // the merged copy is the only one kept
    }
    for (size_t t = 0; t < part.targets.size(); ++t) {
      if (!unbound(part.targets[t])) {
        const bool standardize = slot(part.standardizeTargets, t) != 0;
        if (taskOwner[t] >= 0 && bool(out.standardizeTargets[t]) != standardize)
          return fail(fmt::format("data sets '{}' and '{}' bind task '{}' with and "
                                  "without standardize; the data sets that train together must "
                                  "agree",
                                  parts[size_t(taskOwner[t])].name, part.name, tasks[t].name));
        out.standardizeTargets[t] = standardize;
        const std::string first = taskOwner[t] >= 0 ? parts[size_t(taskOwner[t])].name : "";
        if (Status s = agree(out.classNames[t], slot(part.classNames, t),
                             fmt::format("classes of task '{}'", tasks[t].name), first, part.name);
            !s)
          return s.takeError();
        if (taskOwner[t] < 0)
          taskOwner[t] = int(p);
      }
      out.targets[t].insert(out.targets[t].end(), part.targets[t].begin(), part.targets[t].end());
      std::vector<float>().swap(part.targets[t]);
    }
  }
  // A task no part binds still names its classes as each part does.
  for (size_t t = 0; t < out.classNames.size(); ++t)
    if (out.classNames[t].empty())
      out.classNames[t] = slot(head.classNames, t);
  return out;
}

std::vector<std::vector<int64_t>> sourceRowLists(const Dataset &data) {
  if (data.sources.empty()) {
    std::vector<int64_t> all(size_t(std::max<int64_t>(data.rows, 0)));
    for (size_t r = 0; r < all.size(); ++r)
      all[r] = int64_t(r);
    return {std::move(all)};
  }
  std::vector<std::vector<int64_t>> lists(data.sourceNames.size());
  for (size_t r = 0; r < data.sources.size(); ++r)
    lists[size_t(data.sources[r])].push_back(int64_t(r));
  return lists;
}

Dataset subsetRows(const Dataset &data, std::span<const int64_t> rows) {
  Dataset out;
  out.name = data.name;
  out.rows = int64_t(rows.size());
  out.inputWidths = data.inputWidths;
  out.targetWidths = data.targetWidths;
  out.classNames = data.classNames;
  out.categories = data.categories;
  out.standardizeInputs = data.standardizeInputs;
  out.standardizeTargets = data.standardizeTargets;
  out.inputGaps = data.inputGaps;
  out.sourceNames = data.sourceNames;
  auto pick = [&](const std::vector<std::vector<float>> &from, const std::vector<int64_t> &widths,
                  std::vector<std::vector<float>> &to) {
    to.resize(from.size());
    for (size_t s = 0; s < from.size(); ++s)
      for (int64_t r : rows)
        to[s].insert(to[s].end(), from[s].begin() + r * widths[s],
                     from[s].begin() + (r + 1) * widths[s]);
  };
  pick(data.inputs, data.inputWidths, out.inputs);
  pick(data.targets, data.targetWidths, out.targets);
  for (int64_t r : rows) {
    if (r < int64_t(data.sourceRows.size()))
      out.sourceRows.push_back(data.sourceRows[size_t(r)]);
    if (r < int64_t(data.sources.size()))
      out.sources.push_back(data.sources[size_t(r)]);
  }
  return out;
}

uint64_t splitStream(int64_t source) {
  return source == 0 ? 1 : 0x53504c4900000000ull + uint64_t(source);
}

Split splitSources(const Dataset &data, double validateFraction, uint64_t seed,
                   double testFraction) {
  if (data.sources.empty())
    return splitRows(data.rows, validateFraction, seed, testFraction);
  Split out;
  const std::vector<std::vector<int64_t>> lists = sourceRowLists(data);
  for (size_t s = 0; s < lists.size(); ++s) {
    const std::vector<int64_t> &rows = lists[s];
    Split part = splitRows(int64_t(rows.size()), validateFraction, seed, testFraction,
                           splitStream(int64_t(s)));
    for (auto [from, to] :
         {std::pair{&part.train, &out.train}, std::pair{&part.validation, &out.validation},
          std::pair{&part.test, &out.test}})
      for (int64_t k : *from)
        to->push_back(rows[size_t(k)]);
  }
  for (std::vector<int64_t> *v : {&out.train, &out.validation, &out.test})
    std::sort(v->begin(), v->end());
  return out;
}

} // namespace mtlrt
