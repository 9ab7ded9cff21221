// DatasetBlocks.h: what the loaders of each source kind share (private to the runtime).
#pragma once

#include "mtlrt/Csv.h"
#include "mtlrt/Dataset.h"
#include "mtlrt/Idx.h"
#include "mtlrt/Npy.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mtlrt::detail {

/// One binding's values before they are checked and stored.
struct Block {
  std::vector<float> values; ///< rows x width
  int64_t width = 0;
  std::vector<std::string> classNames;
  Categories categories;                 ///< 'as category' inputs
  std::vector<std::string> notes;        ///< e.g. how many values read as <unk>
  std::vector<std::string> elementNames; ///< per element of a row, for messages
  std::string source;                    ///< "columns a, b", "the images (28 x 28)", for messages
  std::string path;                      ///< the file the values came from
};

/// The raw data a binding can draw from: a CSV table, IDX arrays or NumPy arrays.
struct Sources {
  const DataSpec &spec;
  std::optional<CsvTable> table;
  std::optional<IdxArray> images, labels;
  std::map<std::string, NpyArray> arrays; ///< Npy and Npz: the arrays bindings read
  int64_t rows = 0;
  std::vector<int64_t> sourceRows;
};

/// "input 'x'" or "task 'y'", for messages.
inline std::string slotName(const BindingSpec &b) {
  return fmt::format("{} '{}'", b.isTask ? "task" : "input", b.target);
}

/// DatasetArrays.cpp: Npy and Npz: the arrays the bindings read, which must
/// have one row per item alike, into `src`.
Status readArrays(Sources &src);

/// DatasetArrays.cpp: the values binding `b` selects from its array.
Result<Block> fromArray(const Sources &src, const BindingSpec &b,
                        const std::vector<TaskSpec> &tasks);

} // namespace mtlrt::detail
