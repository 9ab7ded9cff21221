// DataSpecs.h: the checked model's data sets, described for the runtime's loader.
#pragma once

#include "sema/Model.h"

#include "mtlrt/Dataset.h"
#include "mtlrt/RunConfig.h"

#include <map>
#include <string>

namespace mtl::driver {

/// The runtime's view of the model's inputs and tasks.
std::vector<mtlrt::InputSpec> inputSpecs(const sema::Model &model);
std::vector<mtlrt::TaskSpec> taskSpecs(const sema::Model &model);

/// The loader description of data set `index`. `paths` overrides file paths
/// by data set name (`name` for a CSV file, `name.images` / `name.labels`
/// for IDX files), as `--data name=path` on the command line.
mtlrt::DataSpec dataSpec(const sema::Model &model, int index,
                         const std::map<std::string, std::string> &paths);

/// The run configuration the descriptor carries (mtl_model.config): every
/// data set with absolute paths, and the `train` item's settings.
mtlrt::RunConfig runConfig(const sema::Model &model);

/// Loads data set `index`, or returns the loader's message.
mtlrt::Result<mtlrt::Dataset> loadModelData(const sema::Model &model, int index,
                                            const std::map<std::string, std::string> &paths);

} // namespace mtl::driver
