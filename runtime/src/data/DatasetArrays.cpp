// DatasetArrays.cpp: NumPy sources of a data set: reading the arrays its bindings name, and
// selecting from them.
#include "data/DatasetBlocks.h"
#include "support/Memory.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

namespace mtlrt::detail {
namespace {

/// Integer labels read 'as class': ids by the task's vocabulary (the labels'
/// decimal names, which may be negative: classes = [-1, 1]), or the labels
/// themselves with names "0".."max".
Status labelIds(Block &block, const std::vector<std::string> &vocabulary, const std::string &what) {
  std::map<std::string, int> ids;
  for (size_t i = 0; i < vocabulary.size(); ++i)
    ids[vocabulary[i]] = static_cast<int>(i);
  double max = -1;
  for (size_t item = 0; item < block.values.size(); ++item) {
    const float v = block.values[item];
    if (std::isnan(v))
      continue;
    if (v != std::floor(v) || std::fabs(v) > 1e6 || (vocabulary.empty() && v < 0))
      return fail(fmt::format("{}: item {}: label {} is not {}", what, item, v,
                              vocabulary.empty()
                                  ? std::string("a class id (an integer from 0)")
                                  : fmt::format("an integer, as the task's classes ({}) are",
                                                fmt::join(vocabulary, ", "))));
    max = std::max<double>(max, v);
    if (vocabulary.empty())
      continue;
    auto it = ids.find(fmt::format("{}", static_cast<int64_t>(v)));
    if (it == ids.end())
      return fail(fmt::format("{}: item {}: class '{}' is not one of the task's {} classes ({})",
                              what, item, static_cast<int64_t>(v), vocabulary.size(),
                              fmt::join(vocabulary, ", ")));
    block.values[item] = static_cast<float>(it->second);
  }
  block.classNames = vocabulary;
  for (int64_t i = 0; vocabulary.empty() && i <= static_cast<int64_t>(max); ++i)
    block.classNames.push_back(std::to_string(i));
  return Ok{};
}

} // namespace

Result<Block> fromArray(const Sources &src, const BindingSpec &b,
                        const std::vector<TaskSpec> &tasks) {
  const NpyArray &array = src.arrays.at(b.array);
  Block block;
  block.path = src.spec.kind == DataSpec::Npz
                   ? fmt::format("{}: array '{}'", src.spec.csv.path, b.array)
                   : array.name;
  const int64_t rowSize = array.rowSize();
  std::vector<int64_t> picked;
  for (const ColumnSel &c : b.columns) {
    if (c.index < 0 || c.index >= rowSize)
      return fail(fmt::format("{}: element {} is out of range: the array has {} value{} per row "
                              "(shape {})",
                              block.path, c.index, rowSize, rowSize == 1 ? "" : "s",
                              fmt::join(array.dims, " x ")));
    picked.push_back(c.index);
    block.elementNames.push_back(fmt::format("element {}", c.index));
  }
  block.width = picked.empty() ? rowSize : static_cast<int64_t>(picked.size());
  block.source = picked.empty()
                     ? fmt::format("array '{}' ({})", b.array, fmt::join(array.dims, " x "))
                     : fmt::format("array '{}', elements {}", b.array, fmt::join(picked, ", "));
  if (picked.empty()) {
    reserveHuge(block.values, array.data.size());
    block.values.assign(array.data.begin(), array.data.end());
  } else {
    reserveHuge(block.values, static_cast<size_t>(array.rows() * block.width));
    block.values.resize(static_cast<size_t>(array.rows() * block.width));
    for (int64_t r = 0; r < array.rows(); ++r)
      for (size_t j = 0; j < picked.size(); ++j)
        block.values[static_cast<size_t>(r * block.width) + j] =
            array.data[static_cast<size_t>(r * rowSize + picked[j])];
  }
  if (b.asClass) {
    if (block.width != 1)
      return fail(fmt::format("{}: {} is read 'as class' from {}; that needs one value per row",
                              block.path, slotName(b), block.source));
    if (Status s = labelIds(block, tasks[static_cast<size_t>(b.slot)].classes, block.path); !s)
      return s.takeError();
  }
  return block;
}

/// Npy and Npz: the arrays the bindings read, which must have one row per item alike.
Status readArrays(Sources &src) {
  const DataSpec &spec = src.spec;
  std::vector<NpyArray> all;
  if (spec.kind == DataSpec::Npz) {
    std::vector<std::string> named;
    for (const BindingSpec &b : spec.bindings)
      named.push_back(b.array);
    auto read = readNpz(spec.csv.path, named);
    if (!read)
      return read.takeError();
    all = std::move(*read);
  }
  std::string first;
  for (const BindingSpec &b : spec.bindings) {
    if (src.arrays.count(b.array))
      continue;
    if (spec.kind == DataSpec::Npy) {
      auto named = std::find_if(spec.arrays.begin(), spec.arrays.end(),
                                [&](const auto &a) { return a.first == b.array; });
      if (named == spec.arrays.end())
        return fail(fmt::format("data '{}': {} reads array '{}', which npy(...) does not name",
                                spec.name, slotName(b), b.array));
      auto read = readNpy(named->second);
      if (!read)
        return read.takeError();
      src.arrays[b.array] = std::move(*read);
    } else {
      // readNpz read every array a binding names, or failed naming the missing one.
      auto found = std::find_if(all.begin(), all.end(),
                                [&](const NpyArray &a) { return a.name == b.array; });
      src.arrays[b.array] = std::move(*found);
    }
    const NpyArray &a = src.arrays[b.array];
    if (first.empty()) {
      first = b.array;
      src.rows = a.rows();
    } else if (a.rows() != src.rows) {
      return fail(fmt::format("data '{}': array '{}' has {} rows but array '{}' has {}; the "
                              "arrays of a data set have one row per item",
                              spec.name, b.array, a.rows(), first, src.rows));
    }
  }
  if (src.rows == 0)
    return fail(
        fmt::format("data '{}': {}", spec.name,
                    first.empty() ? "no binding reads an array" : "the arrays have no rows"));
  for (int64_t i = 0; i < src.rows; ++i)
    src.sourceRows.push_back(i);
  return Ok{};
}

} // namespace mtlrt::detail
