// Program.cpp: the main function of a built program: its subcommands and their exit statuses.
#include "mtlrt/Program.h"

#include "mtlrt/CommandLine.h"
#include "mtlrt/Init.h"
#include "program/ProgramCommands.h"

#include <fmt/format.h>

namespace mtlrt {

bool rejectUnknownCommand(const CLI::App &app, int argc, char **argv) {
  if (argc < 2 || argv[1][0] == '-')
    return false;
  std::string names;
  for (const CLI::App *sub : app.get_subcommands({})) {
    if (sub->get_name() == argv[1])
      return false;
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  fmt::print(stderr, "error: unknown command '{}'; the commands are: {} (see --help)\n", argv[1],
             names);
  return true;
}

int programMain(const mtl_model *model, int argc, char **argv) {
  if (Status s = model ? checkModel(*model) : Status(fail("no model")); !s) {
    fmt::print(stderr, "error: {}\n", s.error());
    return 1;
  }
  CLI::App app(fmt::format("{}: a multi-task model compiled by mtlc {} (tasks: {})", model->name,
                           model->mtlc_version, model->num_tasks),
               model->name);
  app.set_version_flag("--version",
                       fmt::format("{} (mtlc {}, target CPU {}, source {})", model->name,
                                   model->mtlc_version, model->target_cpu, model->source_hash));
  app.require_subcommand(1);
  int status = 0;
  auto train = std::make_shared<TrainFlags>();
  CLI::App *cmd = app.add_subcommand("train", "Train on the model's data (or --data files)");
  addTrainFlags(cmd, *train);
  cmd->callback([train, model, &status] { status = runTrain(*model, *train); });
  addEvalCommand(app, *model, status);
  addPredictCommand(app, *model, status);
  addInfoCommand(app, *model, status);
  if (rejectUnknownCommand(app, argc, argv))
    return 2;
  return runCommandLine(app, argc, argv, status); // exit statuses as mtlc's
}

} // namespace mtlrt
