// DataSpecs.h: the checked model's data sets and train settings, described for the runtime.
#pragma once

#include "driver/Front.h"
#include "sema/Model.h"
#include "support/Diagnostics.h"

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

/// The files a command on `c` reads and may not write over: its sources
/// (sourceFiles), then every data file of its models (absolute).
std::vector<std::string> filesRead(const Checked &c);

/// Reports, at the data set that names it, each file a run of `model` would
/// read that does not exist (`mtlc check` lets them be made later); a set
/// replaced by a `--data` item is the item's. So too the checkpoint of the
/// train block's `init`, unless `initReplaced` (--init-from, --resume).
/// Whether every file exists.
bool runFilesExist(const sema::Model &model, const std::vector<std::string> &dataFlags,
                   bool initReplaced, DiagnosticEngine &diags);

} // namespace mtl::driver
