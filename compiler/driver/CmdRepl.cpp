// CmdRepl.cpp: `mtlc repl [FILE]`: an interactive session of loading, changing and training models.
#include "driver/Commands.h"
#include "driver/Terminal.h"
#include "mtlrt/CliNumbers.h"
#include "repl/ReplCommands.h"

namespace mtl::driver {

void addReplCommand(CLI::App &app, const GlobalOptions &global, int &status) {
  auto o = std::make_shared<ReplOptions>();
  CLI::App *cmd = app.add_subcommand(
      "repl", "Interactive session: load a model, train, change weights or items, compare runs "
              "(`mtlc repl < session.txt` runs a script)");
  cmd->add_option("file", o->file, ".mtl file to load first");
  cmd->add_option("--model", o->model, "Which model of the file (if it has several)")
      ->check(mtlrt::nonEmpty());
  cmd->add_option("--target-cpu", o->targetCpu, "CPU to generate code for")
      ->check(mtlrt::nonEmpty())
      ->capture_default_str();
  cmd->add_flag("--stop-on-error", o->stopOnError,
                "In a script (standard input not a terminal), stop at the first input that "
                "fails");
  cmd->callback([o, &global, &status] {
    o->color = useColor(global.color, stdout);
    status = runRepl(*o);
  });
}

} // namespace mtl::driver
