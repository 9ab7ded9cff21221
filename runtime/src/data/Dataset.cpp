// Dataset.cpp: turning a DataSpec's bindings over CSV or IDX files into input and target matrices.
#include "mtlrt/Dataset.h"

#include "data/DatasetBlocks.h"
#include "mtlrt/Idx.h"
#include "support/Memory.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <new>
#include <optional>
#include <type_traits>

namespace mtlrt {

namespace detail {
/// Synthetic.cpp: the Synthetic kind of loadDataset, after its common checks.
Result<Dataset> loadSynthetic(const DataSpec &spec, const std::vector<InputSpec> &inputs,
                              const std::vector<TaskSpec> &tasks);
} // namespace detail

int64_t targetWidth(const TaskSpec &task) {
  return task.kind == TaskSpec::Classify ? 1 : task.width;
}

std::vector<TaskSpec> withClasses(std::vector<TaskSpec> tasks,
                                  const std::vector<std::vector<std::string>> &names) {
  for (size_t t = 0; t < tasks.size() && t < names.size(); ++t)
    if (tasks[t].classes.empty())
      tasks[t].classes = names[t];
  return tasks;
}

int64_t categoryCount(const Categories &categories) {
  int64_t n = 0;
  for (const std::vector<std::string> &column : categories)
    n += static_cast<int64_t>(column.size());
  return n;
}

std::vector<InputSpec> withCategories(std::vector<InputSpec> inputs,
                                      const std::vector<Categories> &names) {
  for (size_t i = 0; i < inputs.size() && i < names.size(); ++i)
    if (inputs[i].categories.empty())
      inputs[i].categories = names[i];
  return inputs;
}

using detail::Block;
using detail::slotName;
using detail::Sources;

namespace {

constexpr float missing = std::numeric_limits<float>::quiet_NaN();

/// Category ids for input `b` from columns `cols` (Block::source and
/// elementNames already set), by the input's vocabulary or a new one.
Status readCategories(Block &block, const CsvTable &table, const std::vector<size_t> &cols,
                      const BindingSpec &b, const InputSpec &input) {
  auto read = categoryColumns(table, cols, block.path, input.categories);
  if (!read)
    return read.takeError();
  block.width = static_cast<int64_t>(cols.size());
  block.values.assign(read->ids.begin(), read->ids.end());
  block.categories = std::move(read->names);
  const int64_t count = categoryCount(block.categories);
  if (input.categories.empty() && count > input.vocab)
    return fail(fmt::format("{}: {} reads {} categories from {} (each column's values and its "
                            "<unk>), but the embedding it feeds has {} rows; make it "
                            "embedding({}, ...)",
                            block.path, slotName(b), count, block.source, input.vocab, count));
  if (read->unknown > 0)
    block.notes.push_back(fmt::format("{}: {} value{} that training did not see read as {} (the "
                                      "first: {})",
                                      block.path, read->unknown, read->unknown == 1 ? "" : "s",
                                      kUnknownCategory, read->firstUnknown));
  if (read->missing > 0)
    block.notes.push_back(fmt::format("{}: {} missing value{} of {} read as {}", block.path,
                                      read->missing, read->missing == 1 ? "" : "s", slotName(b),
                                      kUnknownCategory));
  return Ok{};
}

Result<Block> fromColumns(const Sources &src, const BindingSpec &b,
                          const std::vector<InputSpec> &inputs,
                          const std::vector<TaskSpec> &tasks) {
  const CsvTable &table = *src.table;
  const std::string &path = src.spec.csv.path;
  if (b.columns.empty())
    return fail(fmt::format("{}: {} selects no columns", path, slotName(b)));
  std::vector<size_t> cols;
  std::vector<std::string> taken; // what the data set reads: no suggestion for a missing name
  for (const BindingSpec &other : src.spec.bindings)
    for (const ColumnSel &sel : other.columns)
      taken.push_back(sel.name);
  for (const ColumnSel &sel : b.columns) {
    if (!sel.name.empty()) {
      auto col = findColumn(table, sel.name, path, taken);
      if (!col)
        return col.takeError();
      cols.push_back(*col);
    } else if (sel.index < 0 || static_cast<size_t>(sel.index) >= table.columns.size()) {
      return fail(fmt::format("{}: column {} is out of range (the file has {} columns, numbered "
                              "from 0)",
                              path, sel.index, table.columns.size()));
    } else {
      cols.push_back(static_cast<size_t>(sel.index));
    }
  }
  Block block;
  block.path = path;
  for (size_t c : cols)
    block.elementNames.push_back(describeColumn(table, c));
  block.source =
      fmt::format("column{} {}", cols.size() == 1 ? "" : "s", fmt::join(block.elementNames, ", "));
  const size_t rows = table.rowCount();
  if (b.asCategory) {
    if (Status ok = readCategories(block, table, cols, b, inputs[static_cast<size_t>(b.slot)]); !ok)
      return ok.takeError();
    return block;
  }
  if (b.asClass) {
    if (cols.size() != 1)
      return fail(fmt::format("{}: {} is read 'as class' from {}; that needs exactly one column",
                              path, slotName(b), block.source));
    auto classes = classColumn(table, cols[0], path, tasks[static_cast<size_t>(b.slot)].classes);
    if (!classes)
      return classes.takeError();
    block.width = 1;
    block.values.resize(rows);
    for (size_t r = 0; r < rows; ++r)
      block.values[r] = classes->ids[r] < 0 ? missing : static_cast<float>(classes->ids[r]);
    block.classNames = std::move(classes->names);
    return block;
  }
  block.width = static_cast<int64_t>(cols.size());
  auto values = numericColumns(table, cols, path);
  if (!values)
    return values.takeError();
  block.values = std::move(*values);
  return block;
}

Result<Block> fromIdx(const Sources &src, const BindingSpec &b,
                      const std::vector<TaskSpec> &tasks) {
  const bool images = b.from == BindingSpec::Images;
  const IdxArray &array = images ? *src.images : *src.labels;
  Block block;
  block.path = images ? src.spec.images : src.spec.labels;
  block.width = array.itemSize();
  std::vector<int64_t> shape(array.dims.begin() + 1, array.dims.end());
  block.source =
      shape.empty()
          ? fmt::format("the {} (one value each)", images ? "images" : "labels")
          : fmt::format("the {} ({})", images ? "images" : "labels", fmt::join(shape, " x "));
  reserveHuge(block.values, array.data.size());
  block.values.assign(array.data.begin(), array.data.end());
  if (b.asClass) {
    if (block.width != 1)
      return fail(fmt::format("{}: {} is read 'as class' from {}; that needs one value per item",
                              block.path, slotName(b), block.source));
    const std::vector<std::string> &vocabulary = tasks[static_cast<size_t>(b.slot)].classes;
    if (vocabulary.empty()) {
      int max = -1;
      for (uint8_t v : array.data)
        max = std::max<int>(max, v);
      for (int i = 0; i <= max; ++i)
        block.classNames.push_back(std::to_string(i));
      return block;
    }
    // Labels are looked up by name, as CSV labels are.
    std::vector<int> ids(256, -1);
    for (size_t i = 0; i < vocabulary.size(); ++i)
      for (int v = 0; v < 256; ++v)
        if (vocabulary[i] == std::to_string(v))
          ids[size_t(v)] = static_cast<int>(i);
    for (size_t item = 0; item < array.data.size(); ++item) {
      int id = ids[array.data[item]];
      if (id < 0)
        return fail(fmt::format("{}: item {}: class '{}' is not one of the task's {} classes ({})",
                                block.path, item, array.data[item], vocabulary.size(),
                                fmt::join(vocabulary, ", ")));
      block.values[item] = static_cast<float>(id);
    }
    block.classNames = vocabulary;
  }
  return block;
}

/// Multiplies the values by `scale` (unless it is 1) and says whether any
/// that is not NaN is then infinite or outside [lo, hi], or may be (-0 with
/// lo = 0): one pass of integer operations on the floats' bits ordered as
/// integers, which is vectorised.
bool scaleOutside(std::vector<float> &values, double scale, float lo, float hi) {
  auto key = [](int32_t u) { return u ^ ((u >> 31) & 0x7fffffff); };
  const int32_t low = key(std::bit_cast<int32_t>(lo)), high = key(std::bit_cast<int32_t>(hi));
  int32_t any = 0;
  auto pass = [&](auto scaled) {
    for (float &v : values) {
      if constexpr (scaled)
        v = static_cast<float>(v * scale);
      const int32_t u = std::bit_cast<int32_t>(v), magnitude = u & 0x7fffffff, k = key(u);
      any |= int32_t(magnitude <= 0x7f800000) &
             (int32_t(magnitude == 0x7f800000) | int32_t(k < low) | int32_t(k > high));
    }
  };
  if (scale != 1.0)
    pass(std::true_type{});
  else
    pass(std::false_type{});
  return any != 0;
}

/// Applies `in [..]` and `scale`, then checks the values suit the slot.
Status prepare(Block &block, const BindingSpec &b, const Sources &src,
               const std::vector<InputSpec> &inputs, const std::vector<TaskSpec> &tasks) {
  const int64_t expected =
      b.isTask ? targetWidth(tasks[b.slot]) : inputs[static_cast<size_t>(b.slot)].width;
  if (block.width != expected || (b.width > 0 && b.width != block.width))
    return fail(fmt::format("{}: {} gets {} value{} per row from {}, but it needs {}", block.path,
                            slotName(b), block.width, block.width == 1 ? "" : "s", block.source,
                            b.width > 0 && b.width != block.width ? b.width : expected));
  if (!b.inSet.empty()) {
    // Compare as floats: the values were read as floats, so 0.1 must match 0.1f.
    std::vector<float> listed(b.inSet.begin(), b.inSet.end());
    for (float &v : block.values)
      if (!std::isnan(v))
        v = std::find(listed.begin(), listed.end(), v) != listed.end() ? 1.0f : 0.0f;
  }
  const TaskSpec *task = b.isTask ? &tasks[static_cast<size_t>(b.slot)] : nullptr;
  if (task && !block.classNames.empty()) {
    size_t limit = task->kind == TaskSpec::Classify ? static_cast<size_t>(task->width)
                   : task->kind == TaskSpec::Binary ? 2
                                                    : 0;
    if (block.classNames.size() > limit && limit > 0)
      return fail(
          fmt::format("{}: {} has {} classes ({}), but task '{}' is {}", block.path, block.source,
                      block.classNames.size(), fmt::join(block.classNames, ", "), task->name,
                      task->kind == TaskSpec::Binary ? std::string("binary")
                                                     : fmt::format("classify({})", task->width)));
    if (limit == 0)
      return fail(fmt::format("{}: {} is read 'as class', which suits classify and binary tasks "
                              "only",
                              block.path, slotName(b)));
    if (block.classNames.size() < limit && task->classes.empty()) // the training data's
      block.notes.push_back(fmt::format(
          "{}: task '{}' is {}, and {} names {} of its classes ({}); the others have ids from {} "
          "on, no name, and no rows to learn from",
          block.path, task->name,
          task->kind == TaskSpec::Binary ? std::string("binary")
                                         : fmt::format("classify({})", task->width),
          block.source, block.classNames.size(), fmt::join(block.classNames, ", "),
          block.classNames.size()));
  }
  // The kind of value each slot accepts, and how to say so. Every value must
  // be finite (NaN is a missing value): `scale` can overflow a float.
  double lo = -INFINITY, hi = INFINITY;
  bool integer = false;
  std::string need = fmt::format("{} takes finite values{}", slotName(b),
                                 b.scale != 1.0 ? fmt::format(" (after scale({}))", b.scale) : "");
  if (task && task->kind == TaskSpec::Classify) {
    lo = 0, hi = static_cast<double>(task->width - 1), integer = true;
    need = fmt::format("task '{}' is classify({}) and needs class ids 0..{}", task->name,
                       task->width, task->width - 1);
  } else if (task && task->kind != TaskSpec::Regress) {
    lo = 0, hi = 1;
    need = fmt::format("task '{}' needs targets in [0, 1]; 'in [..]' or 'as class' can make "
                       "them",
                       task->name);
  } else if (!task && inputs[static_cast<size_t>(b.slot)].vocab > 0) {
    const InputSpec &in = inputs[static_cast<size_t>(b.slot)];
    lo = 0, hi = static_cast<double>(in.vocab - 1), integer = true;
    need = fmt::format("input '{}' takes ids 0..{}", in.name, in.vocab - 1);
  }
  auto fits = [&](float v) {
    return std::isnan(v) ||
           (std::isfinite(v) && v >= lo && v <= hi && (!integer || v == std::floor(v)));
  };
  // Most slots take any finite value: the pass that scales the values finds
  // whether any may not fit, before the search for the first that does not.
  if (!integer && !scaleOutside(block.values, b.scale, float(lo), float(hi)))
    return Ok{};
  if (integer && b.scale != 1.0)
    for (float &v : block.values)
      v = static_cast<float>(v * b.scale);
  for (size_t i = 0; i < block.values.size(); ++i) {
    float v = block.values[i];
    if (fits(v))
      continue;
    size_t row = i / static_cast<size_t>(block.width);
    size_t element = i % static_cast<size_t>(block.width);
    std::string where = src.table ? fmt::format("{}:{}", block.path, src.sourceRows[row])
                                  : fmt::format("{}: item {}", block.path, row);
    std::string what = element < block.elementNames.size()
                           ? fmt::format("column {}: ", block.elementNames[element])
                           : std::string();
    const bool inRange = std::isfinite(v) && v >= lo && v <= hi;
    return fail(fmt::format("{}: {}{} is {}: {}", where, what, v,
                            inRange ? "not a whole number" : "out of range", need));
  }
  return Ok{};
}

Status readSources(Sources &src) {
  const DataSpec &spec = src.spec;
  if (spec.kind == DataSpec::Npy || spec.kind == DataSpec::Npz)
    return detail::readArrays(src);
  if (spec.kind == DataSpec::Csv) {
    auto table = readCsv(spec.csv);
    if (!table)
      return table.takeError();
    if (table->rowCount() == 0)
      return fail(fmt::format("{}: no data rows{}", spec.csv.path,
                              spec.csv.header ? " after the header" : ""));
    src.rows = static_cast<int64_t>(table->rowCount());
    src.sourceRows = table->lines;
    src.table = std::move(*table);
    return Ok{};
  }
  auto uses = [&](BindingSpec::From from) {
    return std::any_of(spec.bindings.begin(), spec.bindings.end(),
                       [&](const BindingSpec &b) { return b.from == from; });
  };
  for (bool images : {true, false}) {
    const std::string &path = images ? spec.images : spec.labels;
    if (!uses(images ? BindingSpec::Images : BindingSpec::Labels))
      continue;
    if (path.empty())
      return fail(fmt::format("data '{}': a binding reads {}, but no {} file is given", spec.name,
                              images ? "images" : "labels", images ? "images" : "labels"));
    auto array = readIdx(path);
    if (!array)
      return array.takeError();
    if (array->items() == 0)
      return fail(fmt::format("{}: the IDX file holds no items", path));
    (images ? src.images : src.labels) = std::move(*array);
  }
  if (src.images && src.labels && src.images->items() != src.labels->items())
    return fail(fmt::format("{} has {} items but {} has {}; they must match", spec.images,
                            src.images->items(), spec.labels, src.labels->items()));
  src.rows = src.images ? src.images->items() : src.labels ? src.labels->items() : 0;
  for (int64_t i = 0; i < src.rows; ++i)
    src.sourceRows.push_back(i);
  return Ok{};
}

Status checkBindings(const DataSpec &spec, const std::vector<InputSpec> &inputs,
                     const std::vector<TaskSpec> &tasks) {
  std::vector<int> inputSeen(inputs.size()), taskSeen(tasks.size());
  for (const BindingSpec &b : spec.bindings) {
    size_t count = b.isTask ? tasks.size() : inputs.size();
    if (b.slot < 0 || static_cast<size_t>(b.slot) >= count)
      return fail(fmt::format("data '{}': {} has slot {}, but the model has {} {}", spec.name,
                              slotName(b), b.slot, count, b.isTask ? "tasks" : "inputs"));
    int &seen = (b.isTask ? taskSeen : inputSeen)[static_cast<size_t>(b.slot)];
    if (seen++)
      return fail(fmt::format("data '{}': {} is bound twice", spec.name, slotName(b)));
    bool csvBinding = b.from == BindingSpec::Columns;
    const bool arrays = spec.kind == DataSpec::Npy || spec.kind == DataSpec::Npz;
    if (csvBinding != (spec.kind == DataSpec::Csv) || (b.from == BindingSpec::Array) != arrays)
      return fail(fmt::format("data '{}': {} reads {}, which a {} data set does not have",
                              spec.name, slotName(b),
                              csvBinding                     ? "columns"
                              : b.from == BindingSpec::Array ? "NumPy arrays"
                                                             : "IDX files",
                              spec.kind == DataSpec::Csv   ? "CSV"
                              : spec.kind == DataSpec::Idx ? "IDX"
                                                           : "NumPy"));
    if (b.asClass && !b.inSet.empty())
      return fail(
          fmt::format("data '{}': {} uses both 'as class' and 'in [..]'", spec.name, slotName(b)));
    if (b.asCategory && (b.isTask || !csvBinding || inputs[size_t(b.slot)].vocab <= 0))
      return fail(fmt::format("data '{}': {} is read 'as category', which suits CSV columns "
                              "feeding an i32 input of an embedding",
                              spec.name, slotName(b)));
  }
  return Ok{};
}

/// Keeps the rows whose bound inputs are all present; a model cannot consume NaN.
void dropIncompleteRows(Dataset &ds, const std::string &path, bool csv) {
  std::vector<int64_t> keep, dropped;
  for (int64_t r = 0; r < ds.rows; ++r) {
    int32_t missing = 0; // any NaN, by the bits: the row's loop is vectorised
    for (size_t i = 0; i < ds.inputs.size(); ++i)
      if (!ds.inputGaps[i])
        for (const float *v = ds.inputs[i].data() + r * ds.inputWidths[i],
                         *end = v + ds.inputWidths[i];
             v < end; ++v)
          missing |= int32_t((std::bit_cast<int32_t>(*v) & 0x7fffffff) > 0x7f800000);
    (missing ? dropped : keep).push_back(r);
  }
  if (dropped.empty())
    return;
  auto compact = [&](std::vector<float> &m, int64_t width) {
    for (size_t k = 0; k < keep.size(); ++k)
      std::copy_n(m.begin() + keep[k] * width, width, m.begin() + static_cast<int64_t>(k) * width);
    m.resize(keep.size() * static_cast<size_t>(width));
  };
  for (size_t i = 0; i < ds.inputs.size(); ++i)
    compact(ds.inputs[i].write(), ds.inputWidths[i]);
  for (size_t t = 0; t < ds.targets.size(); ++t)
    compact(ds.targets[t], ds.targetWidths[t]);
  std::vector<int64_t> where;
  for (size_t k = 0; k < dropped.size() && k < 5; ++k)
    where.push_back(ds.sourceRows[static_cast<size_t>(dropped[k])]);
  ds.notes.push_back(fmt::format("{}: dropped {} row{} with missing input values ({} {}{})", path,
                                 dropped.size(), dropped.size() == 1 ? "" : "s",
                                 csv ? "lines" : "items", fmt::join(where, ", "),
                                 dropped.size() > 5 ? ", ..." : ""));
  std::vector<int64_t> rows;
  for (int64_t r : keep)
    rows.push_back(ds.sourceRows[static_cast<size_t>(r)]);
  ds.sourceRows = std::move(rows);
  ds.rows = static_cast<int64_t>(keep.size());
}

Result<Dataset> loadFiles(const DataSpec &spec, const std::vector<InputSpec> &inputs,
                          const std::vector<TaskSpec> &tasks) {
  if (auto ok = checkBindings(spec, inputs, tasks); !ok)
    return ok.takeError();
  Sources src{spec, {}, {}, {}, {}, 0, {}};
  if (auto ok = readSources(src); !ok)
    return ok.takeError();

  Dataset ds;
  ds.name = spec.name;
  ds.rows = src.rows;
  ds.sourceRows = src.sourceRows;
  ds.inputs.resize(inputs.size());
  ds.standardizeInputs.assign(inputs.size(), 0);
  ds.inputGaps.assign(inputs.size(), 1);
  for (size_t i = 0; i < inputs.size(); ++i)
    ds.inputWidths.push_back(inputs[i].width);
  ds.targets.resize(tasks.size());
  ds.classNames.resize(tasks.size());
  ds.categories.resize(inputs.size());
  ds.standardizeTargets.assign(tasks.size(), 0);
  for (size_t t = 0; t < tasks.size(); ++t)
    ds.targetWidths.push_back(targetWidth(tasks[t]));
  for (const BindingSpec &b : spec.bindings) {
    auto block = b.from == BindingSpec::Columns ? fromColumns(src, b, inputs, tasks)
                 : b.from == BindingSpec::Array ? detail::fromArray(src, b, tasks)
                                                : fromIdx(src, b, tasks);
    if (!block)
      return block.takeError();
    if (auto ok = prepare(*block, b, src, inputs, tasks); !ok)
      return ok.takeError();
    size_t slot = static_cast<size_t>(b.slot);
    if (b.isTask) {
      ds.targets[slot] = std::move(block->values);
    } else {
      ds.inputs[slot] = std::move(block->values);
      ds.inputGaps[slot] = 0;
    }
    (b.isTask ? ds.standardizeTargets : ds.standardizeInputs)[slot] = b.standardize;
    if (b.isTask)
      ds.classNames[slot] = std::move(block->classNames);
    else
      ds.categories[slot] = std::move(block->categories);
    ds.notes.insert(ds.notes.end(), block->notes.begin(), block->notes.end());
  }
  for (size_t t = 0; t < tasks.size(); ++t) { // numeric ids still deserve names in reports
    if (!ds.classNames[t].empty())
      continue;
    if (!tasks[t].classes.empty())
      ds.classNames[t] = tasks[t].classes;
    else if (tasks[t].kind == TaskSpec::Classify)
      for (int64_t c = 0; c < tasks[t].width; ++c)
        ds.classNames[t].push_back(std::to_string(c));
  }
  const std::string &path = spec.kind == DataSpec::Csv || spec.kind == DataSpec::Npz ? spec.csv.path
                            : spec.kind == DataSpec::Npy
                                ? (spec.arrays.empty() ? spec.name : spec.arrays[0].second)
                            : src.images ? spec.images
                                         : spec.labels;
  // What no binding gives is missing throughout. A bound slot's values
  // replace it whole, so it is not filled first (for Fashion-MNIST's images,
  // 188 MB written and dropped).
  auto missingUnbound = [&](auto &slots, const std::vector<int64_t> &widths) {
    for (size_t k = 0; k < slots.size(); ++k)
      if (slots[k].empty())
        slots[k] = std::vector<float>(static_cast<size_t>(src.rows * widths[k]), missing);
  };
  missingUnbound(ds.inputs, ds.inputWidths);
  missingUnbound(ds.targets, ds.targetWidths);
  dropIncompleteRows(ds, path, spec.kind == DataSpec::Csv);
  if (ds.rows == 0)
    return fail(fmt::format("{}: every row has a missing input value", path));
  // A bound task without one label would train on nothing and score nothing.
  for (const BindingSpec &b : spec.bindings) {
    const std::vector<float> &y = ds.targets[static_cast<size_t>(b.slot)];
    if (!b.isTask || !std::all_of(y.begin(), y.end(), [](float v) { return std::isnan(v); }))
      continue;
    // The file the labels come from: of several .npy arrays, the task's own.
    std::string from = path;
    if (spec.kind == DataSpec::Npy && b.from == BindingSpec::Array)
      for (const auto &[name, file] : spec.arrays)
        if (name == b.array)
          from = file;
    return fail(fmt::format("{}: {} has no labelled rows: every value it reads is missing", from,
                            slotName(b)));
  }
  return ds;
}

} // namespace

Result<Dataset> loadDataset(const DataSpec &spec, const std::vector<InputSpec> &inputs,
                            const std::vector<TaskSpec> &tasks) {
  try {
    for (const InputSpec &in : inputs)
      if (in.width < 1)
        return fail(
            fmt::format("data '{}': input '{}' has width {}", spec.name, in.name, in.width));
    for (const TaskSpec &task : tasks)
      if (task.width < 1)
        return fail(
            fmt::format("data '{}': task '{}' has width {}", spec.name, task.name, task.width));
    if (spec.kind == DataSpec::Synthetic)
      return detail::loadSynthetic(spec, inputs, tasks);
    return loadFiles(spec, inputs, tasks);
  } catch (const std::bad_alloc &) {
    throw;
  } catch (const std::exception &e) {
    return fail(fmt::format("data '{}': {}", spec.name, e.what()));
  }
}

} // namespace mtlrt
