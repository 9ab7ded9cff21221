// DataSpecs.h: the checked model's data sets and train settings, described for the runtime.
#pragma once

#include "sema/Model.h"

#include "mtlrt/RunConfig.h"

namespace mtl::driver {

/// The run configuration the descriptor carries (mtl_model.config): the
/// inputs and tasks as the runtime's loader sees them, every data set with
/// absolute paths, and the `train` item's settings. `--data` replaces paths
/// at run time (mtlrt::runData).
mtlrt::RunConfig runConfig(const sema::Model &model);

/// The absolute path of every file `model`'s data sets name (what the
/// checker read the headers of).
std::vector<std::string> dataFiles(const sema::Model &model);

} // namespace mtl::driver
