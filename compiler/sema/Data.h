// Data.h: data sets: sources, bindings of columns to inputs and task targets, modifiers.
#pragma once

#include "sema/SemaContext.h"

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

/// Part of checkData: checks binding `ab` against its resolved target
/// (`b.isTask`, `b.index`): the selection's width `count` (when known) against
/// the target's width, and each modifier against the target's kind; fills
/// `b`'s modifier fields.
void checkBindingTarget(Context &ctx, const ast::Binding &ab, DataBinding &b,
                        std::optional<int64_t> count);

} // namespace mtl::sema
