// main.cpp: the mtlc command line.
#include "driver/Commands.h"

#include "mtlrt/Program.h"

#include <cstdio>

int main(int argc, char **argv) {
  using namespace mtl::driver;
  CLI::App app{"mtlc: a compiler for multi-task learning models (.mtl)"};
  app.set_version_flag("--version", std::string("mtlc ") + MTLC_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  GlobalOptions global;
  app.add_option("--color", global.color, "Colour diagnostics: auto, always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  app.add_flag("-v,--verbose", global.verbose, "Print the time each compiler stage takes");

  int status = 0;
  addCheckCommand(app, global, status);
  addShapesCommand(app, global, status);
  addEmitCommand(app, global, status);
  addFmtCommand(app, global, status);
  addBuildCommand(app, global, status);
  addTrainCommand(app, global, status);
  addExperimentCommand(app, global, status);
  addReplCommand(app, global, status);
  addReportCommand(app, global, status);

  if (mtlrt::rejectUnknownCommand(app, argc, argv))
    return 2;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return status;
}
