// ProgramTrain.cpp: `train` (of mtlc and of built programs): data from the run configuration,
// overrides, the Trainer.
#include "balance/Method.h"
#include "mtlrt/AtomicFile.h"
#include "mtlrt/CliNumbers.h"
#include "mtlrt/HtmlReport.h"
#include "mtlrt/Log.h"
#include "mtlrt/Program.h"
#include "mtlrt/RunFolder.h"
#include "mtlrt/StopSignals.h"
#include "mtlrt/Trainer.h"
#include "train/ParamGroups.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mtlrt {

void addDataFlag(CLI::App *cmd, std::vector<std::string> &data) {
  cmd->add_option("--data", data,
                  "Replace a data file: NAME=PATH (NAME.images=, NAME.labels= for idx)");
}

void addThreadsFlag(CLI::App *cmd, int &threads) {
  cmd->add_option("--threads", threads, "Threads (results do not depend on it)")
      ->check(wholeNumber(1, kMaxThreads))
      ->capture_default_str();
}

void addTrainFlags(CLI::App *cmd, TrainFlags &f) {
  cmd->add_option("--epochs", f.epochs, "Override the number of epochs")->check(wholeNumber(1));
  cmd->add_option("--batch", f.batch, "Override the batch size")->check(wholeNumber(1));
  cmd->add_option("--lr", f.lr, "Override the learning rate")->check(floatNumber(false));
  cmd->add_option("--weight", f.weights,
                  "TASK=WEIGHT: override a task's loss weight (repeatable; the model is not "
                  "recompiled: weights are inputs of every step)");
  cmd->add_option("--seed", f.seed, "Override the seed")->check(wholeNumber(0));
  cmd->add_option("--threads", f.threads,
                  "Threads: N, or auto (2, or 1 where the first steps run faster on one); results "
                  "do not depend on it")
      ->transform(wholeNumberOrAuto(1, kMaxThreads))
      ->type_name("N|auto")
      ->default_str("auto");
  cmd->add_flag("--no-shuffle", f.noShuffle, "Keep the training rows in file order");
  cmd->add_flag("--no-ftz", f.noFtz,
                "Keep denormal floats instead of flushing them to zero (IEEE results; steps "
                "slow down once values decay into denormals)");
  cmd->add_option("--balance", f.balance,
                  fmt::format("Balance the task losses with this method instead of the "
                              "model's: {}, with an argument as in .mtl: 'cagrad(c = 0.4)' "
                              "(docs/balancing.md)",
                              fmt::join(balance::methodNames(), ", ")))
      ->check(nonEmpty());
  cmd->add_flag("--grad-stats", f.gradStats,
                "Log each task's gradient norm on the shared parameters and the tasks' "
                "gradient cosines every epoch, whatever the balancing method");
  addDataFlag(cmd, f.data);
  cmd->add_option("--log", f.log, "Write a JSON-lines log to this file")->check(nonEmpty());
  cmd->add_option("--log-every", f.logEvery, "Log every N steps (0: epochs only)")
      ->check(wholeNumber(0));
  cmd->add_flag("-q,--quiet", f.quiet, "No progress bar, table or summary");
  auto *runDir =
      cmd->add_option("--run-dir", f.runDir,
                      "Write the run's files here instead of runs/MODEL/N (see docs/programs.md)")
          ->check(nonEmpty());
  auto *noSave = cmd->add_flag("--no-save", f.noSave, "Write no run folder")->excludes(runDir);
  auto *overwrite =
      cmd->add_flag("--overwrite", f.overwrite,
                    "Replace the run that --run-dir holds (its checkpoints, log, summary and "
                    "report) instead of refusing the folder")
          ->needs(runDir);
  cmd->add_flag("--save-init", f.saveInit,
                "Also write init.safetensors with the starting parameters")
      ->excludes(noSave);
  cmd->add_flag("--report", f.report,
                "At the end, write report.html into the run folder: plots and tables of the "
                "run (docs/reports.md)")
      ->excludes(noSave);
  auto *resume = cmd->add_option("--resume", f.resume,
                                 "Continue a run exactly from a checkpoint written by it (in the "
                                 "checkpoint's run folder, unless --run-dir names another)")
                     ->check(nonEmpty())
                     ->excludes(overwrite);
  auto *init = cmd->add_option("--init-from", f.initFrom,
                               "Start from a checkpoint's parameters, matched by name "
                               "(docs/transfer.md)")
                   ->check(nonEmpty())
                   ->excludes(resume);
  cmd->add_option("--init-map", f.initMap,
                  "With --init-from: 'MODEL <- CHECKPOINT' names, such as 'trunk.* <- "
                  "encoder.*' (repeatable)")
      ->needs(init);
  cmd->add_option("--freeze", f.freeze,
                  "Do not train this parameter group: a shared value, a task, or a pattern "
                  "such as 'trunk.0.*' (repeatable; replaces the model's freeze)");
  cmd->add_option("--unfreeze-after", f.unfreezeAfter,
                  "Train the frozen groups from the epoch after this one on (0: keep them "
                  "frozen throughout, replacing the model's unfreeze_after)")
      ->check(wholeNumber(0));
  cmd->add_option("--schedule", f.schedule,
                  "The learning-rate schedule instead of the model's: constant, "
                  "'cosine(warmup = N)', 'step(every = N, gamma = G)' or 'plateau(patience = N, "
                  "factor = F)'")
      ->check(nonEmpty());
  cmd->add_option("--sampling", f.sampling,
                  "How batches draw from the model's training data sets, instead of its own "
                  "setting: round_robin, proportional or 'temperature(T)'")
      ->check(nonEmpty());
  cmd->add_option("--clip-norm", f.clipNorm,
                  "Clip each step's gradients to this L2 norm (0: no clipping)")
      ->check(floatNumber(true));
  cmd->add_option("--lr-scale", f.lrScales,
                  "GROUP=SCALE: multiply the learning rate of a parameter group (repeatable; "
                  "replaces the model's lr_scale)");
  // A resume goes on in the folder of the run it continues, as with --run-dir there.
  cmd->parse_complete_callback([&f] {
    if (!f.resume.empty() && f.runDir.empty() && !f.noSave)
      f.runDir = resumedRunFolder(f.resume);
  });
}

Result<RunData> runData(const mtl_model &model, const std::vector<std::string> &items) {
  Result<RunConfig> parsed = modelRunConfig(model);
  if (!parsed)
    return parsed.takeError();
  return runData(std::move(*parsed), items);
}

Result<RunData> runData(RunConfig config, const std::vector<std::string> &items) {
  std::vector<std::string> names;
  // The keys of each data set's files: NAME, or NAME.images/.labels (IDX), NAME.ARRAY (npy).
  auto keysOf = [](const DataSpec &d) {
    std::vector<std::string> keys;
    if (d.kind == DataSpec::Idx)
      keys = {d.name + ".images", d.name + ".labels"};
    else if (d.kind == DataSpec::Npy)
      for (const auto &[name, path] : d.arrays)
        keys.push_back(d.name + "." + name);
    else if (d.kind != DataSpec::Synthetic)
      keys = {d.name};
    return keys;
  };
  for (const DataSpec &d : config.data)
    for (const std::string &key : keysOf(d))
      names.push_back(key);
  std::map<std::string, std::string> out;
  for (const std::string &item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      return fail(fmt::format("--data expects NAME=PATH (for example --data train=other.csv), "
                              "got '{}'",
                              item));
    std::string key = item.substr(0, eq);
    bool known = std::find(names.begin(), names.end(), key) != names.end();
    if (!known)
      return fail(fmt::format("--data {}: the model has no data file named '{}' (it has: {})", item,
                              key,
                              names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
    out[key] = item.substr(eq + 1);
  }
  return RunData{std::move(config), std::move(out)};
}

void applyPaths(DataSpec &spec, const std::map<std::string, std::string> &paths) {
  auto replace = [&](const std::string &key, std::string &path) {
    if (auto it = paths.find(key); it != paths.end())
      path = it->second;
  };
  replace(spec.name, spec.csv.path);
  replace(spec.name + ".images", spec.images);
  replace(spec.name + ".labels", spec.labels);
  for (auto &[name, file] : spec.arrays)
    replace(spec.name + "." + name, file);
}

Result<Dataset> loadConfigData(const RunConfig &config, std::span<const int> indices,
                               const std::map<std::string, std::string> &paths, bool notes) {
  RunConfig c = config;
  for (DataSpec &spec : c.data)
    applyPaths(spec, paths);
  Result<Dataset> data = loadDataSets(c, indices);
  if (data && notes)
    for (const std::string &note : data->notes)
      fmt::print(stderr, "note: {}\n", note);
  return data;
}

namespace {

/// "NAME=NUMBER" items of a repeatable flag (--lr-scale trunk=0.1, --weight
/// sex=2); `form` says what is expected, such as "GROUP=SCALE, such as trunk=0.1".
Result<std::vector<std::pair<std::string, double>>>
parsePairs(const std::vector<std::string> &items, const char *flag, const char *form) {
  std::vector<std::pair<std::string, double>> out;
  for (const std::string &item : items) {
    size_t eq = item.find('=');
    double value = 0;
    const char *begin = item.c_str() + (eq == std::string::npos ? 0 : eq + 1);
    char *end = nullptr;
    if (eq != std::string::npos && eq > 0 && *begin)
      value = std::strtod(begin, &end);
    if (eq == std::string::npos || eq == 0 || !end || *end)
      return fail(fmt::format("{} '{}': expected {}", flag, item, form));
    out.emplace_back(item.substr(0, eq), value);
  }
  return out;
}

/// --weight items: each names a task of `c` and gives a finite weight >= 0.
Result<std::vector<std::pair<std::string, double>>>
parseWeights(const RunConfig &c, const std::vector<std::string> &items) {
  auto weights = parsePairs(items, "--weight", "TASK=WEIGHT, such as sex=2");
  if (!weights)
    return weights;
  std::vector<std::string> names;
  for (const TaskSpec &t : c.tasks)
    names.push_back(t.name);
  for (const auto &[task, w] : *weights) {
    if (std::find(names.begin(), names.end(), task) == names.end())
      return fail(fmt::format("--weight {}={}: the model has no task '{}' (its tasks: {})", task, w,
                              task, fmt::join(names, ", ")));
    if (!std::isfinite(w) || w < 0 || w > std::numeric_limits<float>::max())
      return fail(fmt::format("--weight {}={}: a task's weight is a number from 0 to {:.2g}, the "
                              "largest float",
                              task, w, std::numeric_limits<float>::max()));
  }
  return weights;
}

} // namespace

Result<TrainOptions> trainOptions(const RunConfig &c, const TrainFlags &f) {
  TrainOptions to = c.train;
  to.epochs = f.epochs.value_or(to.epochs);
  to.batch = f.batch.value_or(to.batch);
  to.seed = f.seed.value_or(to.seed);
  to.lr = f.lr ? float(*f.lr) : to.lr;
  to.shuffle = to.shuffle && !f.noShuffle;
  to.flushDenormals = !f.noFtz;
  if (!f.balance.empty())
    to.balance = f.balance;
  to.gradStats = to.gradStats || f.gradStats;
  to.threads = f.threads > 0 ? f.threads : 2;
  to.measureThreads = f.threads == 0;
  to.logPath = f.log;
  to.logEvery = f.logEvery;
  to.quiet = f.quiet;
  to.saveInit = f.saveInit;
  to.resumeFrom = f.resume;
  if (!f.initFrom.empty()) {
    to.initFrom = f.initFrom;
    to.initMap = f.initMap;
  }
  if (!f.resume.empty())
    to.initFrom.clear(); // a resumed run has its parameters already
  if (!f.freeze.empty())
    to.freeze = f.freeze;
  if (f.unfreezeAfter)
    to.unfreezeAfter = *f.unfreezeAfter;
  if (!f.schedule.empty())
    to.schedule = f.schedule;
  if (!f.sampling.empty())
    to.sampling = f.sampling;
  if (!f.weights.empty()) {
    auto weights = parseWeights(c, f.weights);
    if (!weights)
      return weights.takeError();
    to.taskWeights = std::move(*weights);
  }
  if (f.clipNorm)
    to.clipNorm = *f.clipNorm;
  if (!f.lrScales.empty()) {
    auto scales = parsePairs(f.lrScales, "--lr-scale", "GROUP=SCALE, such as trunk=0.1");
    if (!scales)
      return scales.takeError();
    to.lrScales = std::move(*scales);
  }
  return to;
}

namespace {

/// Renumbers the labels of task `t` in `data` (read with the data's own
/// vocabulary) so that the classes of `known` keep their ids; the data's
/// other classes follow, in the data's order. `from` names where `known`
/// came from. When the task has no room for them all, the data keeps its
/// own numbering, with a note: the head may not load (another width), and
/// where it does, only the user knows which class is which.
Status numberClassesBy(Dataset &data, size_t t, const TaskSpec &task,
                       const std::vector<std::string> &known, const std::string &from) {
  std::vector<std::string> &names = data.classNames[t];
  if (known.empty() || names.empty() || names == known ||
      (task.kind != TaskSpec::Classify && task.kind != TaskSpec::Binary))
    return Ok{};
  std::vector<std::string> vocabulary = known, added;
  std::vector<float> ids;
  for (const std::string &name : names) {
    auto it = std::find(vocabulary.begin(), vocabulary.end(), name);
    if (it == vocabulary.end()) {
      added.push_back(name);
      it = vocabulary.insert(vocabulary.end(), name);
    }
    ids.push_back(float(it - vocabulary.begin()));
  }
  const size_t room = task.kind == TaskSpec::Classify ? size_t(task.width) : 2;
  if (vocabulary.size() > room) {
    std::fprintf(stderr,
                 "note: task '%s': %s numbers its classes %s, and the data's %s %s none of them, "
                 "with no room left for more: the data numbers its classes %s; if the task's "
                 "head loads from the checkpoint, say which is which with classes = [..] in the "
                 "checkpoint's order (or map the task to another)\n",
                 task.name.c_str(), from.c_str(), fmt::format("{}", fmt::join(known, ", ")).c_str(),
                 fmt::format("{}", fmt::join(added, ", ")).c_str(),
                 added.size() == 1 ? "is" : "are",
                 fmt::format("{}", fmt::join(names, ", ")).c_str());
    return Ok{};
  }
  for (float &v : data.targets[t])
    if (!std::isnan(v))
      v = ids[size_t(v)];
  names = std::move(vocabulary);
  return Ok{};
}

/// The run's data sets: training first, whose vocabularies the others
/// must follow. `startClasses`: per task, the class vocabulary of the
/// checkpoint the run starts from (init), by which the training data
/// numbers its classes (numberClassesBy).
Result<std::array<std::optional<Dataset>, 3>>
loadRunData(const RunData &run, bool notes,
            const std::vector<std::vector<std::string>> &startClasses, const std::string &from) {
  RunConfig c = run.config;
  std::array<std::optional<Dataset>, 3> sets;
  const std::vector<int> *indices[3] = {&c.trainData, &c.validateData, &c.testData};
  for (int k = 0; k < 3; ++k) {
    if (indices[k]->empty())
      continue;
    Result<Dataset> d = loadConfigData(c, *indices[k], run.paths, notes);
    if (!d)
      return d.takeError();
    if (k == 0) {
      for (size_t t = 0; t < startClasses.size() && t < c.tasks.size(); ++t)
        if (c.tasks[t].classes.empty()) {
          if (Status s = numberClassesBy(*d, t, c.tasks[t], startClasses[t], from); !s)
            return s.takeError();
        } else if (!startClasses[t].empty() && startClasses[t] != c.tasks[t].classes) {
          // The model's own `classes = [..]` stay; a head that loads reads them otherwise.
          std::fprintf(stderr,
                       "note: task '%s' declares its classes %s, and %s trained its head with "
                       "%s: a head loaded from it reads its outputs as other classes\n",
                       c.tasks[t].name.c_str(),
                       fmt::format("{}", fmt::join(c.tasks[t].classes, ", ")).c_str(), from.c_str(),
                       fmt::format("{}", fmt::join(startClasses[t], ", ")).c_str());
        }
      c = withVocabularies(std::move(c), d->classNames, d->categories);
    }
    sets[size_t(k)] = std::move(*d);
  }
  return sets;
}

/// Per task of `tasks`: the name of the checkpoint's task whose head an init
/// map gives it (a rule that renames its group: 'species <- old', 'species.*
/// <- old.*'), else its own.
std::vector<std::string> initSources(const std::vector<TaskSpec> &tasks,
                                     const std::vector<std::string> &map) {
  std::vector<InitRule> rules;
  for (const std::string &text : map)
    if (Result<InitRule> rule = parseInitRule(text)) // a bad rule: Trainer::create says so
      rules.push_back(std::move(*rule));
  std::vector<std::string> out;
  for (const TaskSpec &task : tasks) {
    std::string source = task.name;
    for (const InitRule &rule : rules)
      if (std::optional<std::string> mapped = mapName(rule, task.name + ".0.weight")) {
        source = mapped->substr(0, mapped->find('.'));
        break;
      }
    out.push_back(std::move(source));
  }
  return out;
}

Status train(const mtl_model &model, const TrainFlags &f, TrainingData data,
             std::shared_ptr<CodeSwap> codeSwap) {
  const RunConfig &c = data.run.config;
  Result<TrainOptions> options = trainOptions(c, f);
  if (!options)
    return options.takeError();
  TrainOptions &to = *options;
  to.codeSwap = std::move(codeSwap);
  if (!to.logPath.empty()) { // --log must not write over what the run reads
    std::vector<std::string> read = {f.resume, f.initFrom, to.initFrom};
    for (DataSpec d : c.data) {
      applyPaths(d, data.run.paths);
      for (const std::string &path : {d.csv.path, d.images, d.labels})
        read.push_back(path);
      for (const auto &[name, path] : d.arrays)
        read.push_back(path);
    }
    if (Status s = distinctOutput(to.logPath, read, "--log"); !s)
      return s;
    if (f.resume.empty())
      if (Status s = RunLog::replaceable(to.logPath); !s)
        return fail(fmt::format("--log {}", s.error()));
  }
  std::string folder;
  std::optional<RunFolderLock> lock;
  if (!f.noSave) {
    Result<std::string> made = createRunFolder(model.name, f.runDir);
    if (!made)
      return made.takeError();
    folder = *made;
    // Held until the run ends; checked again once held, as a run that
    // finished since the first check has left its files.
    Result<RunFolderLock> held = RunFolderLock::take(folder);
    if (!held)
      return held.takeError();
    lock.emplace(std::move(*held));
    if (!f.runDir.empty())
      if (Status s = checkRunDir(f.runDir, f.resume, f.overwrite); !s)
        return s;
    to.checkpointDir = folder;
    if (Status s = logBesideRunFiles(to.logPath, folder); !s)
      return s;
    if (to.logPath.empty()) {
      Result<std::string> log =
          runLogPath(folder, continuesRun(f.resume, folder), model.name ? model.name : "");
      if (!log)
        return log.takeError();
      to.logPath = *log;
    }
  }
  to.interrupt = &StopSignals::requested();
  auto trainer = Trainer::create(&model, to);
  if (!trainer) {
    // A new folder says why the run did not start (a --resume or
    // --init-from that does not fit), as it would say why it failed later;
    // a run's own folder, refused a --resume, keeps what that run wrote.
    Error error = trainer.takeError();
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!folder.empty() && !continuesRun(f.resume, folder) &&
        !fs::exists(fs::path(folder) / "summary.json", ec))
      if (Status s = writeRunSummary(folder, model, to, Result<TrainResult>(error)); !s)
        return fail(fmt::format("{}; and {}", error.message, s.error()));
    return error;
  }
  // The run to replace goes only now: every setting has been checked, and
  // an --init-from checkpoint in its folder has been read.
  if (f.overwrite)
    if (Status s = clearRunFolder(f.runDir); !s)
      return s;
  if (trainer->resumedEpochs() >= to.epochs) {
    // Nothing to train: the run's folder stays as it is (a new one goes).
    if (!f.quiet)
      fmt::print("{}: the checkpoint has trained {} of {} epochs; nothing to do (raise the epochs "
                 "to train on)\n",
                 model.name, trainer->resumedEpochs(), to.epochs);
    std::error_code ec;
    if (!folder.empty() && f.runDir.empty())
      std::filesystem::remove(folder, ec); // made for this run, and empty
    return Ok{};
  }
  if (!folder.empty()) {
    RunConfig used = c;
    for (DataSpec &d : used.data)
      applyPaths(d, data.run.paths);
    if (Status s = writeRunSettings(folder, model, used, to); !s)
      return s;
  }
  if (trainer->initReport() && !f.quiet)
    fmt::print("{}\n", trainer->initReport()->summary());
  if (trainer->initReport() && !trainer->initReport()->frozenFresh.empty())
    fmt::print(stderr, "{}\n", trainer->initReport()->frozenWarning());
  auto &[train, validation, test] = data.sets;
  Result<TrainResult> result =
      trainer->fit(*train, validation ? &*validation : nullptr, test ? &*test : nullptr);
  if (!folder.empty()) {
    if (Status s = writeRunSummary(folder, model, trainer->options(), result); !s)
      return result ? s : fail(fmt::format("{}; and {}", result.error(), s.error()));
    // A failed run's report too: its curves up to the failure say why.
    if (f.report)
      if (Status s =
              writeHtmlReport(folder, (std::filesystem::path(folder) / "report.html").string());
          !s)
        return result ? s : fail(fmt::format("{}; and {}", result.error(), s.error()));
    const bool ownLog =
        samePath(to.logPath, (std::filesystem::path(folder) / "log.jsonl").string());
    if (!f.quiet)
      fmt::print("\nrun folder: {} (summary.json, config.json, {}checkpoints{}){}\n", folder,
                 ownLog ? "log.jsonl, " : "", f.report ? ", report.html" : "",
                 ownLog ? "" : fmt::format("; log: {}", to.logPath));
  }
  if (!result)
    return result.takeError();
  if (result->interrupted) {
    const int64_t epoch = result->epochs.empty() ? 0 : result->epochs.back().epoch;
    fmt::print(stderr, "stopped by {} after step {}{}\n", StopSignals::name(), result->steps,
               folder.empty() || epoch == 0
                   ? std::string()
                   : fmt::format("; {} holds epoch {}: continue with --resume {}", folder, epoch,
                                 (std::filesystem::path(folder) / "last.safetensors").string()));
  }
  return Ok{};
}

} // namespace

Result<TrainingData> loadTrainingData(RunConfig config, const std::string &modelName,
                                      const TrainFlags &flags, bool notes) {
  if (!flags.noSave && !flags.runDir.empty())
    if (Status s = checkRunDir(flags.runDir, flags.resume, flags.overwrite); !s)
      return s.takeError();
  Result<RunData> run = runData(std::move(config), flags.data);
  if (!run)
    return run.takeError();
  if (run->config.trainData.empty())
    return fail(fmt::format("model '{}' has no data to train on; add a `data` block "
                            "(see docs/language.md)",
                            modelName));
  // A run that starts from a checkpoint numbers its data by the checkpoint's
  // vocabularies: embedding rows and head outputs stand for those values. A
  // resume takes every one (a class the checkpoint does not know is an
  // error); an init the categories of inputs and the classes of the tasks it
  // may transfer, after which the data's other classes follow.
  const std::string &start = !flags.resume.empty()     ? flags.resume
                             : !flags.initFrom.empty() ? flags.initFrom
                                                       : run->config.train.initFrom;
  std::vector<std::vector<std::string>> startClasses;
  if (!start.empty()) {
    Result<Checkpoint> ck = readCheckpoint(start);
    if (!ck)
      return ck.takeError();
    Result<std::vector<Categories>> vocabularies =
        checkpointCategories(*ck, run->config.inputs, nullptr, &run->config);
    if (!vocabularies)
      return vocabularies.takeError();
    run->config.inputs = withCategories(std::move(run->config.inputs), *vocabularies);
    const std::vector<std::string> &map =
        !flags.initFrom.empty() ? flags.initMap : run->config.train.initMap;
    Result<std::vector<std::vector<std::string>>> classes = checkpointClasses(
        *ck, run->config.tasks,
        flags.resume.empty() ? initSources(run->config.tasks, map) : std::vector<std::string>{});
    if (!classes)
      return classes.takeError();
    if (!flags.resume.empty())
      run->config.tasks = withClasses(std::move(run->config.tasks), *classes);
    else
      startClasses = std::move(*classes);
  }
  auto sets = loadRunData(*run, notes, startClasses, start);
  if (!sets)
    return sets.takeError();
  return TrainingData{std::move(*run), std::move(*sets)};
}

int runTrain(const mtl_model &model, const TrainFlags &flags, TrainingData data,
             std::shared_ptr<CodeSwap> codeSwap) {
  StopSignals signals;
  if (Status s = train(model, flags, std::move(data), std::move(codeSwap)); !s) {
    fmt::print(stderr, "error: {}\n", s.error());
    return 1;
  }
  return StopSignals::exitStatus(); // as the signal would have ended it
}

int runTrain(const mtl_model &model, const TrainFlags &flags) {
  Result<RunConfig> config = modelRunConfig(model);
  Result<TrainingData> data = config ? loadTrainingData(std::move(*config), model.name, flags)
                                     : Result<TrainingData>(config.takeError());
  if (!data) {
    fmt::print(stderr, "error: {}\n", data.error());
    return 1;
  }
  return runTrain(model, flags, std::move(*data));
}

} // namespace mtlrt
