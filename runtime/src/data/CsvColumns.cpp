// CsvColumns.cpp: finding columns by name and converting cells to numbers, class ids or category
// ids.
#include "mtlrt/Csv.h"

#include "support/Memory.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <new>
#include <string_view>
#include <unordered_map>

namespace mtlrt {
namespace {

/// Integer labels above this are more likely a mistake (an id column, a
/// price) than a class, and would make a huge class table.
constexpr int64_t maxClassId = 1'000'000;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

/// Levenshtein distance, case-insensitive, for did-you-mean suggestions.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// Parses a whole cell as a float: from_chars, plus the leading '+' it refuses.
bool parseFloat(std::string_view s, float &value, bool &outOfRange) {
  outOfRange = false;
  if (s.size() > 1 && s[0] == '+' && s[1] != '-' && s[1] != '+')
    s.remove_prefix(1);
  if (s.empty())
    return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (end != s.data() + s.size())
    return false;
  if (ec == std::errc::result_out_of_range) {
    // libstdc++ also reports underflow here; tiny values are fine as floats.
    double wide = std::strtod(std::string(s).c_str(), nullptr);
    value = static_cast<float>(wide);
    outOfRange = std::isinf(value);
    return true;
  }
  return ec == std::errc();
}

bool parseInteger(std::string_view s, int64_t &value) {
  if (s.size() > 1 && s[0] == '+')
    s.remove_prefix(1);
  if (s.empty())
    return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end == s.data() + s.size();
}

std::string where(const CsvTable &table, const std::string &path, size_t row) {
  return fmt::format("{}:{}", path, row < table.lines.size() ? table.lines[row] : 0);
}

Result<size_t> checkColumn(const CsvTable &table, size_t col, const std::string &path) {
  if (col >= table.columns.size())
    return fail(fmt::format("{}: column {} is out of range (the file has {} column{}, numbered "
                            "from 0)",
                            path, col, table.columns.size(), table.columns.size() == 1 ? "" : "s"));
  return col;
}

} // namespace

std::string describeColumn(const CsvTable &table, size_t col) {
  if (col < table.columns.size() && !table.columns[col].empty())
    return fmt::format("'{}'", table.columns[col]);
  return std::to_string(col);
}

Result<size_t> findColumn(const CsvTable &table, const std::string &name, const std::string &path,
                          const std::vector<std::string> &taken) {
  auto it = std::find(table.columns.begin(), table.columns.end(), name);
  if (it != table.columns.end())
    return static_cast<size_t>(it - table.columns.begin());
  bool named = std::any_of(table.columns.begin(), table.columns.end(),
                           [](const std::string &c) { return !c.empty(); });
  if (!named)
    return fail(fmt::format("{}: no column named '{}': the file is read without a header, so "
                            "select columns by number (from 0)",
                            path, name));
  // A header that read as one column holding separators: the file is most
  // likely separated by another character (the checker says the same).
  if (table.columns.size() == 1) {
    const std::string &only = table.columns[0];
    char likely = 0;
    size_t most = 0;
    for (char c : {';', '\t', '|', ','}) {
      size_t n = static_cast<size_t>(std::count(only.begin(), only.end(), c));
      if (n > most) {
        most = n;
        likely = c;
      }
    }
    if (likely) {
      std::string gap = likely == '\t' ? "\\t" : std::string(1, likely);
      // The first two fields show the pattern; the rest would only be long.
      size_t second = only.find(likely, only.find(likely) + 1);
      std::string shown;
      for (char c : only.substr(0, second))
        shown += c == '\t' ? "\\t" : std::string(1, c);
      if (second != std::string::npos)
        shown += gap + "...";
      if (shown.size() > 80)
        shown = shown.substr(0, 77) + "...";
      return fail(fmt::format("{}: no column named '{}': its header has one column '{}'; is the "
                              "file separated by {}? add sep = \"{}\" to csv(...)",
                              path, name, shown,
                              likely == '\t' ? "tabs" : fmt::format("'{}'", likely), gap));
    }
  }
  constexpr size_t listed = 12;
  std::string list;
  for (size_t i = 0; i < table.columns.size() && i < listed; ++i)
    list += (i ? ", " : "") + table.columns[i];
  if (table.columns.size() > listed)
    list += fmt::format(", ... ({} in all)", table.columns.size());
  std::string message = fmt::format("{}: no column named '{}' (columns: {})", path, name, list);
  // Suggest the closest name if it is close enough to be a plausible typo.
  const std::string *best = nullptr;
  size_t bestDistance = std::numeric_limits<size_t>::max();
  for (const std::string &column : table.columns) {
    if (std::find(taken.begin(), taken.end(), column) != taken.end())
      continue;
    size_t d = editDistance(name, column);
    if (d < bestDistance) {
      bestDistance = d;
      best = &column;
    }
  }
  if (best && bestDistance <= std::max<size_t>(2, std::max(name.size(), best->size()) / 3))
    message += fmt::format("; did you mean '{}'?", *best);
  return fail(std::move(message));
}

Result<std::vector<float>> numericColumn(const CsvTable &table, size_t col,
                                         const std::string &path) {
  if (auto ok = checkColumn(table, col, path); !ok)
    return ok.takeError();
  try {
    std::vector<float> values(table.rowCount());
    for (size_t r = 0; r < table.rowCount(); ++r) {
      std::string_view cell = trimCell(table.cell(r, col));
      if (cell.empty()) {
        values[r] = std::numeric_limits<float>::quiet_NaN();
        continue;
      }
      bool outOfRange = false;
      if (!parseFloat(cell, values[r], outOfRange))
        return fail(fmt::format("{}: column {}: '{}' is not a number", where(table, path, r),
                                describeColumn(table, col), cell));
      if (outOfRange)
        return fail(fmt::format("{}: column {}: {} is out of range for a 32-bit float",
                                where(table, path, r), describeColumn(table, col), cell));
      // A model cannot learn from inf or NaN; a file that means "missing" by
      // them says so with na = "...", which turns them into empty cells.
      if (!std::isfinite(values[r]))
        return fail(fmt::format("{}: column {}: '{}' is not a finite number; if it marks a "
                                "missing value, declare it with na = \"{}\" in csv(...)",
                                where(table, path, r), describeColumn(table, col), cell, cell));
    }
    return values;
  } catch (const std::bad_alloc &) {
    throw;
  } catch (const std::exception &e) {
    return fail(fmt::format("{}: {}", path, e.what()));
  }
}

Result<std::vector<float>> numericColumns(const CsvTable &table, const std::vector<size_t> &cols,
                                          const std::string &path) {
  // Row by row, where a column at a time went through the whole text once
  // per column: on 400,000 rows of 100 columns most of the time was the
  // cache misses of finding each cell.
  const size_t rows = table.rowCount(), width = cols.size();
  std::vector<float> values;
  reserveHuge(values, rows * width);
  values.resize(rows * width);
  bool refused = std::any_of(cols.begin(), cols.end(),
                             [&](size_t col) { return col >= table.columns.size(); });
  for (size_t r = 0; r < rows && !refused; ++r)
    for (size_t j = 0; j < width && !refused; ++j) {
      std::string_view cell = trimCell(table.cell(r, cols[j]));
      float &v = values[r * width + j];
      bool outOfRange = false;
      if (cell.empty())
        v = std::numeric_limits<float>::quiet_NaN();
      else
        refused = !parseFloat(cell, v, outOfRange) || outOfRange || !std::isfinite(v);
    }
  if (refused) // the first column's message, as a column at a time would give it
    for (size_t col : cols)
      if (auto column = numericColumn(table, col, path); !column)
        return column.takeError();
  return values;
}

Result<ClassColumn> classColumn(const CsvTable &table, size_t col, const std::string &path,
                                std::vector<std::string> order) {
  if (auto ok = checkColumn(table, col, path); !ok)
    return ok.takeError();
  try {
    const size_t rows = table.rowCount();
    auto cell = [&](size_t r) { return trimCell(table.cell(r, col)); };
    ClassColumn out;
    out.ids.assign(rows, -1);
    if (!order.empty()) {
      std::unordered_map<std::string_view, int32_t> ids;
      for (size_t i = 0; i < order.size(); ++i)
        ids.emplace(order[i], static_cast<int32_t>(i));
      for (size_t r = 0; r < rows; ++r) {
        std::string_view label = cell(r);
        if (label.empty())
          continue;
        auto it = ids.find(label);
        // Integer labels match by value, so "+2" and "02" are class "2".
        int64_t value = 0;
        std::string canonical;
        if (it == ids.end() && parseInteger(label, value))
          it = ids.find(canonical = std::to_string(value));
        if (it == ids.end())
          return fail(fmt::format("{}: column {}: class '{}' is not one of the task's {} "
                                  "classes ({})",
                                  where(table, path, r), describeColumn(table, col), label,
                                  order.size(), fmt::join(order, ", ")));
        out.ids[r] = it->second;
      }
      out.names = std::move(order);
      return out;
    }
    bool integers = true;
    int64_t maxId = -1;
    for (size_t r = 0; r < rows && integers; ++r) {
      std::string_view label = cell(r);
      int64_t value = 0;
      if (label.empty())
        continue;
      if (!parseInteger(label, value)) {
        integers = false;
        break;
      }
      if (value < 0)
        return fail(fmt::format("{}: column {}: class label {} is negative (integer labels are "
                                "class ids, which start at 0)",
                                where(table, path, r), describeColumn(table, col), value));
      if (value > maxClassId)
        return fail(fmt::format("{}: column {}: class label {} is too large (integer labels are "
                                "class ids, at most {})",
                                where(table, path, r), describeColumn(table, col), value,
                                maxClassId));
      out.ids[r] = static_cast<int32_t>(value);
      maxId = std::max(maxId, value);
    }
    if (integers) {
      for (int64_t i = 0; i <= maxId; ++i)
        out.names.push_back(std::to_string(i));
      return out;
    }
    std::map<std::string_view, int32_t> sorted;
    for (size_t r = 0; r < rows; ++r)
      if (std::string_view label = cell(r); !label.empty())
        sorted.emplace(label, 0);
    for (auto &[label, id] : sorted) {
      id = static_cast<int32_t>(out.names.size());
      out.names.emplace_back(label);
    }
    for (size_t r = 0; r < rows; ++r) {
      std::string_view label = cell(r);
      out.ids[r] = label.empty() ? -1 : sorted.at(label);
    }
    return out;
  } catch (const std::bad_alloc &) {
    throw;
  } catch (const std::exception &e) {
    return fail(fmt::format("{}: {}", path, e.what()));
  }
}

Result<CategoryColumns> categoryColumns(const CsvTable &table, const std::vector<size_t> &cols,
                                        const std::string &path,
                                        const std::vector<std::vector<std::string>> &vocabulary) {
  for (size_t col : cols)
    if (auto ok = checkColumn(table, col, path); !ok)
      return ok.takeError();
  if (!vocabulary.empty() && vocabulary.size() != cols.size())
    return fail(fmt::format("{}: {} columns are read 'as category', but the vocabulary has {}",
                            path, cols.size(), vocabulary.size()));
  try {
    const size_t rows = table.rowCount(), width = cols.size();
    CategoryColumns out;
    out.ids.assign(rows * width, 0);
    int32_t offset = 0;
    for (size_t j = 0; j < width; ++j) {
      const size_t col = cols[j];
      auto cell = [&](size_t r) { return trimCell(table.cell(r, col)); };
      std::vector<std::string> names;
      if (!vocabulary.empty()) {
        names = vocabulary[j];
      } else {
        std::map<std::string_view, int> sorted;
        for (size_t r = 0; r < rows; ++r)
          if (std::string_view value = cell(r); !value.empty())
            sorted.emplace(value, 0);
        names.emplace_back(kUnknownCategory);
        for (const auto &entry : sorted)
          names.emplace_back(entry.first);
      }
      std::unordered_map<std::string_view, int32_t> ids;
      for (size_t i = 1; i < names.size(); ++i)
        ids.emplace(names[i], static_cast<int32_t>(i));
      for (size_t r = 0; r < rows; ++r) {
        std::string_view value = cell(r);
        auto it = value.empty() ? ids.end() : ids.find(value);
        if (value.empty()) {
          ++out.missing;
        } else if (it == ids.end()) {
          if (out.unknown++ == 0)
            out.firstUnknown = fmt::format("{}: column {}: '{}'", where(table, path, r),
                                           describeColumn(table, col), value);
        }
        out.ids[r * width + j] = offset + (it == ids.end() ? 0 : it->second);
      }
      offset += static_cast<int32_t>(names.size());
      out.names.push_back(std::move(names));
    }
    return out;
  } catch (const std::bad_alloc &) {
    throw;
  } catch (const std::exception &e) {
    return fail(fmt::format("{}: {}", path, e.what()));
  }
}

} // namespace mtlrt
