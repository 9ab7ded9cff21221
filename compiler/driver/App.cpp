// App.cpp: what mtlc and mtlc-llvm's command lines share, besides the commands.
#include "driver/Commands.h"

#include "mtlrt/CommandLine.h"

namespace mtl::driver {

void configureApp(CLI::App &app, GlobalOptions &global) {
  app.description("mtlc: a compiler for multi-task learning models (.mtl)");
  app.set_version_flag("--version", std::string("mtlc ") + MTLC_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--color", global.color, "Colour diagnostics: auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  app.add_flag("-v,--verbose", global.verbose, "Print the time each compiler stage takes");
}

void addFrontCommands(CLI::App &app, const GlobalOptions &global, int &status) {
  addCheckCommand(app, global, status);
  addShapesCommand(app, global, status);
  addFmtCommand(app, global, status);
}

int runApp(CLI::App &app, int argc, char **argv, const int &status) {
  return mtlrt::runCommandLine(app, argc, argv, status);
}

} // namespace mtl::driver
