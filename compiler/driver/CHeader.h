// CHeader.h: the C header of a model library: the embedding interface, the getter and the model's
// constants.
#pragma once

#include "sema/Model.h"

#include <string>

namespace mtl::driver {

/// The text of NAME.h for `mtlc build --lib`: the declarations of
/// runtime/include/mtlrt/Embed.h, the descriptor getter `getter`, and
/// constants for every input and task (slot numbers and values per row),
/// with a comment saying how the header was made and how to link.
std::string modelHeader(const sema::Model &model, const std::string &getter,
                        const std::string &sourcePath, const std::string &sourceHash,
                        const std::string &targetCpu);

} // namespace mtl::driver
