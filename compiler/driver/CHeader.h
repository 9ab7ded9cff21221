// CHeader.h: the C header of a model library: the embedding interface, the getter and the model's
// constants.
#pragma once

#include "sema/Model.h"
#include "support/Diagnostics.h"

#include <string>
#include <vector>

namespace mtl::driver {

/// The text of NAME.h for `mtlc build --lib`: the declarations of
/// runtime/include/mtlrt/Embed.h, the descriptor getter `getter`, and
/// constants for every input and task (slot numbers and values per row),
/// with a comment saying how the header was made and how to link.
std::string modelHeader(const sema::Model &model, const std::string &getter,
                        const std::string &sourcePath, const std::string &sourceHash,
                        const std::string &targetCpu);

/// One identifier NAME.h defines for a model's slots and sizes, and whose it is.
struct HeaderName {
  std::string identifier; ///< "WINE_INPUT_X_SIZE"
  std::string owner;      ///< "input 'x'", "task 'class'", "model 'wine'"
  std::string role;       ///< "slot", "values per row", "outputs per row", ...
  SourceLoc loc;          ///< where the owner is declared
};

/// Every identifier modelHeader defines for `model` (the include guard, the
/// counts, and each input's and task's constants), in the header's order.
/// Constants are the model's name and the slot's name in upper case, every
/// character other than a letter or digit written '_'.
std::vector<HeaderName> headerNames(const sema::Model &model);

/// Reports an error, located at the later declaration with a note at the
/// earlier one, for every two names of `model` that become the same
/// identifier in NAME.h (`x` and `X`, or a task `t` and a task `t_size`);
/// false when there is any. `mtlc build --lib` refuses such a model.
bool checkHeaderNames(const sema::Model &model, DiagnosticEngine &diags);

} // namespace mtl::driver
