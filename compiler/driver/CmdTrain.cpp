// CmdTrain.cpp: `mtlc train FILE`: compile with the JIT and train on the model's data.
#include "driver/Commands.h"
#include "driver/DataSpecs.h"
#include "driver/Pipeline.h"
#include "driver/Terminal.h"

#include "mtlrt/Trainer.h"

#include <fmt/format.h>

namespace mtl::driver {
namespace {

struct TrainCommandOptions {
  std::string file;
  CompileFlags compile;
  std::optional<int64_t> epochs, batch;
  std::optional<double> lr;
  std::optional<uint64_t> seed;
  int threads = 2;
  bool noShuffle = false;
  std::vector<std::string> data;
  std::string log;
  int64_t logEvery = 0;
  bool quiet = false;
  std::string checkpointDir, resume, initFrom;
  bool keepBest = false, saveInit = false;
};

// "name=path" pairs from --data.
bool parseDataOverrides(const std::vector<std::string> &items,
                        std::map<std::string, std::string> &out) {
  for (const std::string &item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      fmt::print(stderr,
                 "error: --data expects NAME=PATH (for example --data train=other.csv), "
                 "got '{}'\n",
                 item);
      return false;
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return true;
}

int runTrain(const TrainCommandOptions &o, const GlobalOptions &global) {
  std::map<std::string, std::string> paths;
  if (!parseDataOverrides(o.data, paths))
    return 1;
  PipelineOptions po = pipelineOptions(o.compile, global);
  po.adjust = [&](sema::Model &m) {
    if (o.epochs)
      m.train.epochs = *o.epochs;
    if (o.batch)
      m.train.batch = *o.batch;
    if (o.seed)
      m.train.seed = *o.seed;
    if (o.lr)
      m.optimizer.lr = *o.lr;
    if (o.noShuffle)
      m.train.shuffle = false;
  };
  Compilation c;
  bool ok = runPipeline(o.file, Stage::Jit, c, po);
  c.diags.flush(stderr, useColor(global.color, stderr));
  if (!ok)
    return 1;
  const sema::Model &m = *c.model;
  if (m.train.trainData < 0) {
    fmt::print(stderr,
               "error: model '{}' has no data to train on; add a `data` block "
               "(see docs/language.md)\n",
               m.name);
    return 1;
  }
  auto load = [&](int index) -> std::optional<mtlrt::Dataset> {
    if (index < 0)
      return std::nullopt;
    auto d = loadModelData(m, index, paths);
    if (!d) {
      fmt::print(stderr, "error: {}\n", d.error());
      return std::nullopt;
    }
    for (const std::string &note : d->notes)
      fmt::print(stderr, "note: {}\n", note);
    return std::move(d.value());
  };
  std::optional<mtlrt::Dataset> train = load(m.train.trainData);
  if (!train)
    return 1;
  std::optional<mtlrt::Dataset> validation = load(m.train.validateData);
  std::optional<mtlrt::Dataset> test = load(m.train.testData);
  if ((m.train.validateData >= 0 && !validation) || (m.train.testData >= 0 && !test))
    return 1;

  mtlrt::TrainOptions to;
  to.epochs = m.train.epochs;
  to.batch = m.train.batch;
  to.seed = m.train.seed;
  to.shuffle = m.train.shuffle;
  to.threads = o.threads;
  to.lr = static_cast<float>(m.optimizer.lr);
  to.validate = m.train.validateFraction;
  to.earlyStop.enabled = m.train.earlyStop.enabled;
  to.earlyStop.patience = m.train.earlyStop.patience;
  to.earlyStop.monitor = m.train.earlyStop.monitor;
  to.earlyStop.minDelta = m.train.earlyStop.minDelta;
  to.logPath = o.log;
  to.logEvery = o.logEvery;
  to.quiet = o.quiet;
  to.checkpointDir = o.checkpointDir;
  to.keepBest = o.keepBest;
  to.saveInit = o.saveInit;
  to.resumeFrom = o.resume;
  to.initFrom = o.initFrom;
  auto trainer = mtlrt::Trainer::create(c.compiled, to);
  if (!trainer) {
    fmt::print(stderr, "error: {}\n", trainer.error());
    return 1;
  }
  auto result = trainer->fit(*train, validation ? &*validation : nullptr, test ? &*test : nullptr);
  if (!result) {
    fmt::print(stderr, "error: {}\n", result.error());
    return 1;
  }
  return 0;
}

} // namespace

void addTrainCommand(CLI::App &app, const GlobalOptions &global, int &status) {
  auto o = std::make_shared<TrainCommandOptions>();
  CLI::App *cmd = app.add_subcommand("train", "Compile a model with the JIT and train it");
  cmd->add_option("file", o->file, ".mtl file")->required();
  addCompileFlags(cmd, o->compile);
  cmd->add_option("--epochs", o->epochs, "Override the number of epochs")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch", o->batch, "Override the batch size")->check(CLI::PositiveNumber);
  cmd->add_option("--lr", o->lr, "Override the learning rate")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->seed, "Override the seed");
  cmd->add_option("--threads", o->threads, "Threads (results do not depend on it)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_flag("--no-shuffle", o->noShuffle, "Keep the training rows in file order");
  cmd->add_option("--data", o->data,
                  "Replace a data file: NAME=PATH (NAME.images=, NAME.labels= for idx)");
  cmd->add_option("--log", o->log, "Write a JSON-lines log to this file");
  cmd->add_option("--log-every", o->logEvery, "Log every N steps (0: epochs only)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("-q,--quiet", o->quiet, "No progress bar, table or summary");
  cmd->add_option("--checkpoint-dir", o->checkpointDir,
                  "Write last.safetensors there after every epoch (see docs/checkpoints.md)");
  cmd->add_flag("--keep-best", o->keepBest,
                "Also keep best.safetensors, by the early-stop monitor (needs --checkpoint-dir)");
  cmd->add_flag("--save-init", o->saveInit,
                "Write init.safetensors with the starting parameters (needs --checkpoint-dir)");
  auto *resume = cmd->add_option("--resume", o->resume,
                                 "Continue a run exactly from a checkpoint written by it");
  cmd->add_option("--init-from", o->initFrom, "Start from a checkpoint's parameters only")
      ->excludes(resume);
  cmd->callback([o, &global, &status] { status = runTrain(*o, global); });
}

} // namespace mtl::driver
