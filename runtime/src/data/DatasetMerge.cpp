// DatasetMerge.cpp: several data sets trained on together, as one Dataset with per-row sources.
#include "mtlrt/Dataset.h"

#include "support/Memory.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace mtlrt {

namespace {

/// Whether every row of `values` (rows x width) is NaN: the part binds nothing to the slot.
bool unbound(std::span<const float> values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return std::isnan(v); });
}

/// A slot's values to write: a target's vector, or an input's own array.
std::vector<float> &writable(std::vector<float> &values) { return values; }
std::vector<float> &writable(Values &values) { return values.write(); }

/// `v[i]`, or an empty value where `v` is shorter (a Dataset built by hand
/// may leave per-slot lists empty).
template <class T> T slot(const std::vector<T> &v, size_t i) { return i < v.size() ? v[i] : T{}; }

/// Where one slot (an input or a task) of the merged Dataset goes, and which
/// part first bound it (-1: none yet), for messages.
template <class Vocabulary> struct SlotInto {
  std::vector<float> &values;
  uint8_t &standardize;
  Vocabulary &vocabulary;
  int &owner;
};

/// Appends part `p`'s values of a slot (`slotName`: "input 'x'"). The first
/// part that binds the slot sets its standardize flag and vocabulary; a
/// later one must agree.
template <class Vocabulary, class Slot>
Status mergeSlot(SlotInto<Vocabulary> into, Slot &values, bool standardize,
                 const Vocabulary &vocabulary, const std::vector<Dataset> &parts, size_t p,
                 const std::string &slotName, const char *vocabularyName) {
  if (!unbound(values)) {
    const std::string &first = into.owner >= 0 ? parts[size_t(into.owner)].name : parts[p].name;
    if (into.owner >= 0 && bool(into.standardize) != standardize)
      return fail(fmt::format("data sets '{}' and '{}' bind {} with and without standardize; "
                              "the data sets that train together must agree",
                              first, parts[p].name, slotName));
    into.standardize = standardize;
    if (into.vocabulary.empty())
      into.vocabulary = vocabulary;
    else if (!vocabulary.empty() && into.vocabulary != vocabulary)
      return fail(fmt::format("data sets '{}' and '{}' number the {} of {} differently; the data "
                              "sets that train together must share one vocabulary",
                              first, parts[p].name, vocabularyName, slotName));
    if (into.owner < 0)
      into.owner = int(p);
  }
  into.values.insert(into.values.end(), values.begin(), values.end());
  values = Slot(); // the merged copy is the only one kept
  return Ok{};
}

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
  // Each slot's whole length up front: the parts are appended without
  // moving what came before, and a large slot gets huge pages.
  auto reserveSlots = [&](auto &to, auto Dataset::*member) {
    for (size_t k = 0; k < to.size(); ++k) {
      size_t total = 0;
      for (const Dataset &part : parts)
        total += k < (part.*member).size() ? (part.*member)[k].size() : 0;
      reserveHuge(writable(to[k]), total);
    }
  };
  reserveSlots(out.inputs, &Dataset::inputs);
  reserveSlots(out.targets, &Dataset::targets);
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
      out.inputGaps[i] = out.inputGaps[i] || unbound(part.inputs[i]) || slot(part.inputGaps, i);
      SlotInto<Categories> into{out.inputs[i].write(), out.standardizeInputs[i], out.categories[i],
                                inputOwner[i]};
      if (Status s = mergeSlot(into, part.inputs[i], slot(part.standardizeInputs, i) != 0,
                               slot(part.categories, i), parts, p,
                               fmt::format("input '{}'", inputs[i].name), "categories");
          !s)
        return s.takeError();
    }
    for (size_t t = 0; t < part.targets.size(); ++t) {
      SlotInto<std::vector<std::string>> into{out.targets[t], out.standardizeTargets[t],
                                              out.classNames[t], taskOwner[t]};
      if (Status s = mergeSlot(into, part.targets[t], slot(part.standardizeTargets, t) != 0,
                               slot(part.classNames, t), parts, p,
                               fmt::format("task '{}'", tasks[t].name), "classes");
          !s)
        return s.takeError();
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
  auto pick = [&](const auto &from, const std::vector<int64_t> &widths, auto &to) {
    to.resize(from.size());
    for (size_t s = 0; s < from.size(); ++s) {
      std::vector<float> &into = writable(to[s]);
      reserveHuge(into, rows.size() * size_t(widths[s]));
      for (int64_t r : rows)
        into.insert(into.end(), from[s].begin() + r * widths[s],
                    from[s].begin() + (r + 1) * widths[s]);
    }
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

size_t shareEqualInputs(Dataset &data, const Dataset &like) {
  size_t freed = 0;
  for (size_t i = 0; i < data.inputs.size() && i < like.inputs.size(); ++i) {
    const Values &a = data.inputs[i], &b = like.inputs[i];
    // Bit for bit: NaN marks a gap.
    if (a.sharesWith(b) || a.empty() || a.size() != b.size() ||
        std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) != 0)
      continue;
    freed += a.size() * sizeof(float);
    data.inputs[i] = b;
  }
  return freed;
}

} // namespace mtlrt
