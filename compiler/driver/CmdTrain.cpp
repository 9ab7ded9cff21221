// CmdTrain.cpp: `mtlc train FILE`: compile with the JIT, then train as a built program's `train`
// does.
#include "driver/Commands.h"
#include "driver/Pipeline.h"
#include "driver/Terminal.h"

#include "mtlrt/Program.h"

namespace mtl::driver {
namespace {

struct TrainCommandOptions {
  std::string file;
  CompileFlags compile;
  mtlrt::TrainFlags train;
};

int runTrain(const TrainCommandOptions &o, const GlobalOptions &global) {
  Compilation c;
  bool ok = runPipeline(o.file, Stage::Jit, c, pipelineOptions(o.compile, global));
  c.diags.flush(stderr, useColor(global.color, stderr));
  if (!ok)
    return 1;
  // The same code path as `NAME train` of a program built by `mtlc build`.
  return mtlrt::runTrain(*c.compiled, o.train);
}

} // namespace

void addTrainCommand(CLI::App &app, const GlobalOptions &global, int &status) {
  auto o = std::make_shared<TrainCommandOptions>();
  CLI::App *cmd = app.add_subcommand("train", "Compile a model with the JIT and train it");
  cmd->add_option("file", o->file, ".mtl file")->required();
  addCompileFlags(cmd, o->compile);
  mtlrt::addTrainFlags(cmd, o->train);
  cmd->callback([o, &global, &status] { status = runTrain(*o, global); });
}

} // namespace mtl::driver
