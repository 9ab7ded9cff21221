// CmdCheck.cpp: `mtlc check FILE...`: parse and check, report every error.
#include "driver/Commands.h"
#include "driver/Terminal.h"

namespace mtl::driver {

void addCheckCommand(CLI::App &app, const GlobalOptions &global, int &status) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App *cmd = app.add_subcommand("check", "Parse and check .mtl files; print every error");
  cmd->add_option("files", *files, ".mtl files")->required();
  cmd->callback([files, &global, &status] {
    bool color = useColor(global.color, stderr);
    PipelineOptions options;
    options.verbose = global.verbose;
    for (const std::string &path : *files) {
      Checked c;
      if (!runFront(path, Stage::Check, c, options))
        status = 1;
      c.diags.flush(stderr, color);
    }
  });
}

} // namespace mtl::driver
