// ProgramCommands.h: the subcommands of a built program besides train, one file each.
#pragma once

#include "mtlrt/Abi.h"

#include <CLI/CLI.hpp>

namespace mtlrt {

/// Each adds one subcommand to `app`; when it runs, it stores its exit status
/// in `status`. `model` must outlive `app`.
void addEvalCommand(CLI::App &app, const mtl_model &model, int &status);
void addPredictCommand(CLI::App &app, const mtl_model &model, int &status);
void addInfoCommand(CLI::App &app, const mtl_model &model, int &status);

} // namespace mtlrt
