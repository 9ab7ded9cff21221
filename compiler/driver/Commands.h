// Commands.h: the mtlc subcommands; each file Cmd*.cpp defines one.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace mtl::driver {

/// Options every command shares.
struct GlobalOptions {
  std::string color = "auto";
  bool verbose = false;
};

/// Each function adds one subcommand to `app`; when the subcommand runs, it
/// stores its exit status in `status`. Options outlive the parse because the
/// returned objects are owned by `app` through callbacks.
void addCheckCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addShapesCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addEmitCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addFmtCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addTrainCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addReplCommand(CLI::App &app, const GlobalOptions &global, int &status);

} // namespace mtl::driver
