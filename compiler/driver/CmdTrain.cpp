// CmdTrain.cpp: `mtlc train FILE`: load the data while compiling with the JIT, then train as a
// built program's `train` does.
#include "driver/Commands.h"
#include "driver/CompileCancel.h"
#include "driver/DataSpecs.h"
#include "driver/Pipeline.h"
#include "driver/Terminal.h"

#include "mtlrt/AtomicFile.h"
#include "mtlrt/Program.h"

#include <fmt/format.h>

#include <thread>

namespace mtl::driver {
namespace {

struct TrainCommandOptions {
  std::string file;
  CompileFlags compile;
  bool tiered = false; ///< --tiered: start with -O0 code (PipelineOptions::tiered)
  mtlrt::TrainFlags train;
};

int runTrain(const TrainCommandOptions &o, const GlobalOptions &global) {
  // The model is checked and its files found first; then its data loads on a
  // thread while the JIT compiles it, and a bad cell cancels the compile.
  PipelineOptions options = pipelineOptions(o.compile, global);
  options.taskGradients = o.train.gradStats || mtlrt::balanceCombinesGradients(o.train.balance);
  if (!o.train.balance.empty())
    options.balance = o.train.balance;
  options.epochs = o.train.epochs;
  options.tiered = o.tiered;
  PipelineOptions checkOnly = options;
  checkOnly.verbose = false;
  checkOnly.timings = nullptr;
  Compilation checked;
  if (!runPipeline(o.file, Stage::Lower, checked, checkOnly)) {
    checked.diags.flush(stderr, useColor(global.color, stderr));
    return 1;
  }
  if (mtlrt::Status s = mtlrt::distinctOutput(o.train.log, sourceFiles(checked), "--log"); !s) {
    fmt::print(stderr, "error: {}\n", s.error());
    return 1;
  }
  const bool initReplaced = !o.train.initFrom.empty() || !o.train.resume.empty();
  if (!runFilesExist(*checked.model, o.train.data, initReplaced, checked.diags)) {
    checked.diags.flush(stderr, useColor(global.color, stderr));
    return 1;
  }
  CompileCancel cancel;
  options.cacheCreated = [&cancel](backend::FunctionCache &cache) { cancel.add(cache); };
  std::optional<mtlrt::Result<mtlrt::TrainingData>> data;
  PipelineOptions loading; // -v's line for the data stage; `timings` is the compile's alone
  loading.verbose = options.verbose;
  std::thread loader([&, config = runConfig(*checked.model)]() mutable {
    StageTimer t(loading, "data"); // reading, checking and numbering the data files
    data = mtlrt::loadTrainingData(std::move(config), checked.model->name, o.train);
    if (!*data)
      cancel.cancel();
  });
  Compilation c;
  const bool ok = runPipeline(o.file, Stage::Jit, c, options);
  loader.join();
  if (!*data) {
    checked.diags.flush(stderr, useColor(global.color, stderr)); // its warnings
    fmt::print(stderr, "error: {}\n", data->error());
    return 1;
  }
  c.diags.flush(stderr, useColor(global.color, stderr));
  if (!ok)
    return 1;
  // The same code path as `NAME train` of a program built by `mtlc build`.
  if (!c.background)
    return mtlrt::runTrain(*c.compiled, o.train, std::move(**data));
  int status = mtlrt::runTrain(*c.compiled, o.train, std::move(**data), c.background->swap());
  // Only a run that went well waits for the compile, to store it for the next.
  c.background->finish(!options.diskCache.empty() && status == 0, options.verbose);
  return status;
}

} // namespace

void addTrainCommand(CLI::App &app, const GlobalOptions &global, int &status) {
  auto o = std::make_shared<TrainCommandOptions>();
  CLI::App *cmd = app.add_subcommand("train", "Compile a model with the JIT and train it");
  cmd->add_option("file", o->file, ".mtl file")->required();
  addCompileFlags(cmd, o->compile);
  cmd->add_flag("--tiered", o->tiered,
                "When the model is not in the disk cache, start training with -O0 code, which "
                "compiles several times faster, while the -O level compiles in the background "
                "(the same results either way; first steps sooner, a run of more than a moment "
                "longer)");
  mtlrt::addTrainFlags(cmd, o->train);
  cmd->callback([o, &global, &status] { status = runTrain(*o, global); });
}

} // namespace mtl::driver
