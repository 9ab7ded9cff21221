// Commands.h: the mtlc subcommands; each file Cmd*.cpp defines one.
#pragma once

#include "driver/Front.h"

#include <CLI/CLI.hpp>
#include <string>

namespace mtl::driver {

/// Options every command shares.
struct GlobalOptions {
  std::string color = "auto";
  bool verbose = false;
};

/// Flags of every command that compiles a model past sema.
struct CompileFlags {
  std::string model;                ///< --model: which model of the file
  std::string targetCpu = "native"; ///< --target-cpu
  int optLevel = 2;                 ///< -O
  bool noCache = false;             ///< --no-cache: neither read nor fill the on-disk cache
};

/// mtlc's description, --version and the global options (--color, -v), on the
/// app of mtlc and of mtlc-llvm alike.
void configureApp(CLI::App &app, GlobalOptions &global);

/// Parses argv with `app`, which runs the command; returns the exit status:
/// `status` as the command set it, or CLI11's (0 after --help, 2 for a usage error).
int runApp(CLI::App &app, int argc, char **argv, const int &status);

/// Adds --model, --target-cpu, -O and --no-cache to `cmd`, stored in `flags`.
void addCompileFlags(CLI::App *cmd, CompileFlags &flags);

/// The pipeline options those flags and the global options ask for.
PipelineOptions pipelineOptions(const CompileFlags &flags, const GlobalOptions &global);

/// Each function adds one subcommand to `app`; when the subcommand runs, it
/// stores its exit status in `status`. Options outlive the parse because the
/// returned objects are owned by `app` through callbacks.
void addCheckCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addShapesCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addEmitCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addFmtCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addBuildCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addTrainCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addExperimentCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addReplCommand(CLI::App &app, const GlobalOptions &global, int &status);
void addReportCommand(CLI::App &app, const GlobalOptions &global, int &status);

/// check, shapes and fmt: the commands that need no LLVM, which mtlc runs itself.
void addFrontCommands(CLI::App &app, const GlobalOptions &global, int &status);

} // namespace mtl::driver
