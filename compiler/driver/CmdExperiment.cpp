// CmdExperiment.cpp: `mtlc experiment FILE`: compile the model (and each task alone), then run the
// experiment its `experiment` block and the flags describe (docs/experiments.md).
#include "driver/Commands.h"
#include "driver/DataSpecs.h"
#include "driver/ExperimentData.h"
#include "driver/Pipeline.h"
#include "driver/Terminal.h"

#include "mtlrt/CliNumbers.h"
#include "mtlrt/Experiment.h"
#include "mtlrt/HtmlReport.h"
#include "mtlrt/RunFolder.h"
#include "mtlrt/StopSignals.h"
#include "sema/SingleTask.h"

#include <fmt/format.h>
#include <memory>
#include <thread>

namespace mtl::driver {
namespace {

struct ExperimentCommandOptions {
  std::string file;
  CompileFlags compile;
  std::optional<int64_t> seeds, folds, epochs;
  std::optional<uint64_t> seed;
  int64_t logEvery = 0;
  std::string baselines; ///< empty: the model's
  std::vector<std::string> data;
  std::string dir, resume;
  int jobs = int(std::max(1u, std::thread::hardware_concurrency()));
  int threads = jobs;
  bool quiet = false;
  bool report = false;
};

/// The plan: the model's experiment block, then the flags.
mtlrt::ExperimentPlan experimentPlan(const sema::Model &m, const ExperimentCommandOptions &o) {
  const sema::Experiment &x = m.experiment;
  mtlrt::ExperimentPlan plan;
  plan.singleTaskBaselines =
      o.baselines.empty() ? x.singleTaskBaselines : o.baselines == "single_task";
  plan.seeds = o.seeds.value_or(x.seeds);
  plan.search = x.search;
  for (const sema::WeightChoice &w : x.weights)
    plan.weights.push_back({w.task, w.values});
  plan.randomPoints = x.randomPoints;
  plan.balance = x.balance;
  plan.lr = x.lr;
  plan.folds = o.folds.value_or(x.folds);
  plan.metric = x.metric;
  plan.maximize = x.maximize;
  for (const sema::Task &t : m.tasks) {
    if (t.auxiliary)
      continue;
    std::string metric = t.metrics.empty() ? "loss" : sema::metricName(t.metrics[0]);
    plan.goals.push_back({t.name, metric, sema::higherIsBetter(metric)});
  }
  return plan;
}

/// One compiled model of the experiment, kept alive with its compilation.
struct Compiled {
  std::unique_ptr<Compilation> c = std::make_unique<Compilation>();
  PipelineOptions options; ///< the command's, and what this model changes
  mtlrt::ExperimentModel model;
};

int runExperimentCommand(const ExperimentCommandOptions &o, const GlobalOptions &global) {
  // A folder that cannot take the experiment is said before anything compiles.
  if (!o.resume.empty() || !o.dir.empty())
    if (mtlrt::Status s =
            mtlrt::checkExperimentFolder(o.resume.empty() ? o.dir : o.resume, !o.resume.empty());
        !s) {
      fmt::print(stderr, "error: {}\n", s.error());
      return 1;
    }
  PipelineOptions options = pipelineOptions(o.compile, global);
  options.epochs = o.epochs;
  PipelineOptions checkOnly = options;
  checkOnly.verbose = false;
  checkOnly.timings = nullptr;
  Compilation checked;
  bool color = useColor(global.color, stderr);
  if (!runPipeline(o.file, Stage::Lower, checked, checkOnly)) {
    checked.diags.flush(stderr, color);
    return 1;
  }
  checked.diags.flush(stderr, color);
  const sema::Model &model = *checked.model;
  // A changed model cannot continue an experiment: said before compiling.
  if (!o.resume.empty())
    if (mtlrt::Status s =
            mtlrt::checkExperimentFolder(o.resume, true, model.name, hashText(checked.sourceText));
        !s) {
      fmt::print(stderr, "error: {}\n", s.error());
      return 1;
    }
  if (!runFilesExist(model, o.data, false, checked.diags)) {
    checked.diags.flush(stderr, color);
    return 1;
  }
  if (!model.experiment.declared && !o.seeds && o.baselines.empty()) {
    fmt::print(stderr,
               "error: model '{}' has no experiment block; add one, such as "
               "`experiment {{ baselines = single_task, seeds = 5 }}`, or give --seeds "
               "or --baselines (docs/experiments.md)\n",
               model.name);
    return 1;
  }
  if (o.folds && !model.experiment.search) {
    fmt::print(stderr,
               "error: --folds sets the search's cross-validation, and model '{}' has "
               "no search block\n",
               model.name);
    return 1;
  }
  mtlrt::ExperimentPlan plan = experimentPlan(model, o);
  if (plan.goals.empty()) {
    fmt::print(stderr,
               "error: an experiment compares the main tasks, and every task of model '{}' is "
               "auxiliary; make one a main task (leave out `auxiliary`)\n",
               model.name);
    return 1;
  }
  for (int d : model.train.trainData)
    if (plan.singleTaskBaselines && model.data[size_t(d)].kind == sema::DataKind::Synthetic) {
      fmt::print(stderr,
                 "error: single-task baselines need data that binds each task's labels; "
                 "synthetic data set '{}' draws each task's labels from a teacher in "
                 "task order, so a task alone would learn other labels\n",
                 model.data[size_t(d)].name);
      return 1;
    }

  mtlrt::TrainFlags flags;
  flags.epochs = o.epochs;
  flags.seed = o.seed;
  flags.data = o.data;
  flags.logEvery = o.logEvery;
  // Each baseline's task, in the order of the goals.
  std::vector<int> baselineTasks;
  if (plan.singleTaskBaselines)
    for (const mtlrt::TaskGoal &g : plan.goals) {
      int task = 0;
      while (model.tasks[size_t(task)].name != g.task)
        ++task;
      baselineTasks.push_back(task);
    }
  // The data loads while the models compile; a data error cancels the compiles
  // (whose caches, in `compiled`, outlive the loading).
  std::vector<Compiled> compiled;
  std::vector<ExperimentData::Read> reads = {{"mtl", runConfig(model)}};
  for (int task : baselineTasks)
    reads.emplace_back("stl:" + model.tasks[size_t(task)].name,
                       runConfig(sema::singleTaskModel(model, task)));
  ExperimentData data(std::move(reads), model.name, flags, options.verbose);
  options.cacheCreated = [&data](backend::FunctionCache &cache) { data.cancel().add(cache); };

  // The multi-task model, compiled once for each kind of code its methods
  // need: with each task's gradients when one combines them, and apart for
  // methods that add parameters (uncertainty's log-variances).
  std::vector<std::string> balances = plan.balance;
  if (balances.empty())
    balances.push_back(model.balance.text);
  bool taskGradients = false;
  for (const std::string &b : balances)
    taskGradients = taskGradients || mtlrt::balanceCombinesGradients(b);
  const bool ownParameters = mtlrt::balanceAddsParameters(model.balance.text);
  std::vector<bool> made;
  for (const std::string &b : balances) {
    bool params = mtlrt::balanceAddsParameters(b);
    if (std::find(made.begin(), made.end(), params) != made.end())
      continue;
    made.push_back(params);
    Compiled &m = compiled.emplace_back();
    m.options = options;
    m.options.taskGradients = taskGradients;
    if (params != ownParameters)
      m.options.balance = b;
    m.model.config = "mtl";
    m.model.balanceParameters = params;
  }
  for (int task : baselineTasks) {
    Compiled &m = compiled.emplace_back();
    m.options = options;
    m.options.adjust = [task](sema::Model &md) { md = sema::singleTaskModel(md, task); };
    m.model.config = "stl:" + model.tasks[size_t(task)].name;
  }
  const Compiled *failed = nullptr;
  for (Compiled &m : compiled) {
    if (data.cancel().cancelled() || !runPipeline(o.file, Stage::Jit, *m.c, m.options)) {
      failed = &m;
      break;
    }
  }
  // A data error is the one said (the compile it cancelled only failed for it).
  if (std::optional<std::string> error = data.wait()) {
    fmt::print(stderr, "error: {}\n", *error);
    return 1;
  }
  if (failed) {
    failed->c->diags.flush(stderr, color);
    return 1;
  }
  std::vector<mtlrt::ExperimentModel> models;
  for (Compiled &m : compiled) {
    m.model.model = m.c->compiled;
    // A second multi-task build (for a method with parameters) reads the first's data.
    m.model.data =
        m.model.config == "mtl" && !models.empty() ? models[0].data : data.take(m.model.config);
    models.push_back(std::move(m.model));
  }

  mtlrt::ExperimentOptions eo;
  eo.jobs = o.jobs;
  eo.threads = o.threads;
  eo.quiet = o.quiet;
  eo.resume = !o.resume.empty();
  eo.folder = o.resume;
  if (!eo.resume) {
    auto folder = mtlrt::createRunFolder(model.name, o.dir, "experiments");
    if (!folder) {
      fmt::print(stderr, "error: {}\n", folder.error());
      return 1;
    }
    eo.folder = *folder;
  }
  eo.banner =
      fmt::format("experiment {}: {} model{} compiled, {} {}", model.name, models.size(),
                  models.size() == 1 ? "" : "s", eo.resume ? "continuing" : "writing", eo.folder);
  mtlrt::StopSignals signals;
  eo.interrupt = &mtlrt::StopSignals::requested();
  mtlrt::Status s = mtlrt::runExperiment(plan, models, flags, eo);
  if (s && mtlrt::StopSignals::requested())
    return mtlrt::StopSignals::exitStatus(); // as the signal would have ended it
  if (s && o.report) {
    const std::string page = eo.folder + "/report.html";
    s = mtlrt::writeHtmlReport(eo.folder, page);
    if (s && !o.quiet)
      fmt::print("report: {}\n", page);
  }
  if (!s) {
    fmt::print(stderr, "error: {}\n", s.error());
    return 1;
  }
  return 0;
}

} // namespace

void addExperimentCommand(CLI::App &app, const GlobalOptions &global, int &status) {
  auto o = std::make_shared<ExperimentCommandOptions>();
  CLI::App *cmd = app.add_subcommand(
      "experiment", "Run the model's experiment: against single-task baselines, over seeds, "
                    "with a cross-validated search (docs/experiments.md)");
  cmd->add_option("file", o->file, ".mtl file")->required();
  addCompileFlags(cmd, o->compile);
  cmd->add_option("--seeds", o->seeds, "Runs of each configuration, instead of the block's")
      ->check(mtlrt::wholeNumber(1, 1000));
  cmd->add_option("--baselines", o->baselines, "single_task or none, instead of the block's")
      ->check(CLI::IsMember({"single_task", "none"}));
  cmd->add_option("--folds", o->folds, "The search's cross-validation folds")
      ->check(mtlrt::wholeNumber(2, 100));
  cmd->add_option("--epochs", o->epochs, "Override the number of epochs of every run")
      ->check(mtlrt::wholeNumber(1));
  cmd->add_option("--seed", o->seed, "The first seed (and the split's) instead of the model's")
      ->check(mtlrt::wholeNumber(0));
  mtlrt::addDataFlag(cmd, o->data);
  cmd->add_option("--log-every", o->logEvery,
                  "Each run's log records every N steps (0: epochs only)")
      ->check(mtlrt::wholeNumber(0));
  auto *dir =
      cmd->add_option("--dir", o->dir, "Write the experiment here instead of experiments/MODEL/N")
          ->check(mtlrt::nonEmpty());
  cmd->add_option("--resume", o->resume,
                  "Continue the experiment in this folder: finished runs are not repeated")
      ->check(mtlrt::nonEmpty())
      ->excludes(dir);
  cmd->add_option("--jobs", o->jobs, "Runs at once (default: the cores)")
      ->check(mtlrt::wholeNumber(1, mtlrt::kMaxThreads));
  mtlrt::addThreadsFlag(cmd, o->threads);
  cmd->add_flag("-q,--quiet", o->quiet, "No progress line or tables");
  cmd->add_flag("--report", o->report,
                "Write report.html in the experiment folder at the end (docs/reports.md)");
  cmd->callback([o, &global, &status] { status = runExperimentCommand(*o, global); });
}

} // namespace mtl::driver
