// main_llvm.cpp: mtlc-llvm, the whole compiler and every mtlc command; mtlc (main.cpp) runs
// it for every command but those that only parse and check.
#include "driver/Commands.h"

#include "mtlrt/Program.h"

#include <cstdio>

int main(int argc, char **argv) {
  using namespace mtl::driver;
  CLI::App app;
  GlobalOptions global;
  configureApp(app, global);

  int status = 0;
  addFrontCommands(app, global, status);
  addEmitCommand(app, global, status);
  addBuildCommand(app, global, status);
  addTrainCommand(app, global, status);
  addExperimentCommand(app, global, status);
  addReplCommand(app, global, status);
  addReportCommand(app, global, status);

  if (mtlrt::rejectUnknownCommand(app, argc, argv))
    return 2;
  return runApp(app, argc, argv, status);
}
