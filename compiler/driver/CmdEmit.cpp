// CmdEmit.cpp: `mtlc emit STAGE FILE`: dump the output of one pipeline stage.
#include "driver/Commands.h"
#include "driver/Pipeline.h"
#include "driver/Terminal.h"
#include "frontend/AstPrinter.h"

#include <fmt/format.h>

namespace mtl::driver {

void addEmitCommand(CLI::App &app, const GlobalOptions &global, int &status) {
  auto stage = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  CLI::App *cmd = app.add_subcommand("emit", "Print what a pipeline stage produces");
  cmd->add_option("stage", *stage, "ast")->required()->check(CLI::IsMember({"ast"}));
  cmd->add_option("file", *file, ".mtl file")->required();
  cmd->callback([stage, file, &global, &status] {
    Compilation c;
    bool ok = runPipeline(*file, Stage::Parse, c);
    c.diags.flush(stderr, useColor(global.color, stderr));
    if (!ok) {
      status = 1;
      return;
    }
    for (const ast::File &f : c.files)
      fmt::print("{}", printAst(f, c.sources));
  });
}

} // namespace mtl::driver
