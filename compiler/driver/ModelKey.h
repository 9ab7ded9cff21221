// ModelKey.h: what a compilation's code depends on, as one key (the model index's).
#pragma once

#include "driver/Pipeline.h"

#include <string>

namespace mtl::driver {

/// A SHA-1 of everything a checked compilation's generated code depends on
/// but the target (which backend::FunctionCache adds): the compiler (a hash
/// of its and the runtime's sources, taken at build time), the text and
/// absolute path of every source file read (the main file and its imports),
/// the working directory, the size and modification time of every data file
/// the models name (the checker reads their headers: columns, image sizes),
/// and the options that change lowering or the descriptor. Empty when
/// `o.adjust` is set: a function cannot be keyed.
std::string modelKey(const Compilation &c, const PipelineOptions &o);

} // namespace mtl::driver
