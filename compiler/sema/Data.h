// Data.h: data sets: sources, bindings of columns to inputs and task targets, modifiers.
#pragma once

#include "sema/SemaContext.h"

#include <map>
#include <optional>
#include <vector>

namespace mtl::sema {

/// Fills Model::data (one entry per declaration, in order) and Context::data:
/// checks each source (csv/idx/synthetic and their arguments; paths resolved
/// against the folder of the .mtl file), each binding (its target is an input
/// or a task, bound once; its selection suits the source and gives as many
/// values as the target's width; its modifiers suit the target) and, when a
/// CSV or IDX file exists, that named columns exist ("did you mean"),
/// numbered columns are in range and IDX shapes fit. Needs checkTasks().
void checkData(Context &ctx, const std::vector<const ast::DataDecl *> &decls);

/// Path `p` as written in `modelFile`: relative paths are resolved against
/// the file's folder.
std::string resolvePath(const std::string &modelFile, const std::string &p);

/// The most columns (or array elements) one selection may name.
inline constexpr int64_t kMaxColumns = int64_t(1) << 20;

/// A NumPy source's arrays as check time sees them: known when the files
/// could be read; per array name, its shape when known (an .npz member's is
/// read at training time).
struct ArrayFiles {
  bool known = false;
  std::map<std::string, std::optional<std::vector<int64_t>>> shapes;
};

/// Part of checkData: reads `npy(NAME = "PATH", ...)` or `npz("PATH")` into
/// `ds` (paths resolved against `modelFile`) and what the files say into
/// `files`, reporting unreadable files, unsupported dtypes and arrays whose
/// row counts differ.
void readArraySource(Context &ctx, const ast::Expr &e, DataSet &ds, const std::string &modelFile,
                     ArrayFiles &files);

/// Part of checkData: reads `array(NAME)` or `array(NAME, 0..3, 7)` (elements
/// of each row, flattened in C order) into `b`; returns how many values it
/// selects when known. `ok` is false after an error.
std::optional<int64_t> readArraySelection(Context &ctx, const ast::Expr &e, const DataSet &ds,
                                          const ArrayFiles &files, DataBinding &b, bool &ok);

/// Part of checkData: checks binding `ab` against its resolved target
/// (`b.isTask`, `b.index`): the selection's width `count` (when known) against
/// the target's width, and each modifier against the target's kind; fills
/// `b`'s modifier fields.
void checkBindingTarget(Context &ctx, const ast::Binding &ab, DataBinding &b,
                        std::optional<int64_t> count);

} // namespace mtl::sema
