// Run.cpp: an experiment's runs: fixed splits, folds, a few runs at a time, resuming, progress.
#include "experiment/Detail.h"

#include "mtlrt/AtomicFile.h"
#include "mtlrt/Log.h"
#include "mtlrt/RunFolder.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace mtlrt {
namespace {
namespace fs = std::filesystem;
using experiment::json;
using experiment::RunRecords;
using experiment::RunSpec;

/// A model's data, split once with the experiment's base seed: every run
/// trains, validates and tests on the same rows, whatever its own seed. The
/// runs read the rows of the data the model loaded, which no run copies.
struct Prepared {
  const ExperimentModel *model = nullptr;
  TrainOptions base;
  Split split; ///< of the whole training data
  /// Where the runs validate and test: the model's own data set (all its
  /// rows), the rows the split holds out of the training data, or none.
  const Dataset *validationData = nullptr, *testData = nullptr;
  std::vector<int64_t> validationRows, testRows;
  std::vector<int64_t> pool; ///< rows of the whole training data that the folds split

  /// The whole training data, whose rows the split, the folds and `pool` number.
  const Dataset &whole() const { return *model->data.sets[0]; }
};

/// Where a row comes from: its data set's name and its row (or line) there.
std::pair<std::string, int64_t> rowKey(const Dataset &d, int64_t r) {
  const std::string &name =
      d.sources.empty() ? d.name : d.sourceNames[size_t(d.sources[size_t(r)])];
  return {name, r < int64_t(d.sourceRows.size()) ? d.sourceRows[size_t(r)] : r};
}

/// `split` (of `from`'s rows) carried over to `to`'s rows by data set and row,
/// so that a baseline, which may load fewer data sets, validates and tests
/// on the very rows the multi-task model does.
Split carrySplit(const Dataset &from, const Split &split, const Dataset &to) {
  std::map<std::pair<std::string, int64_t>, int> part;
  for (int64_t r : split.validation)
    part[rowKey(from, r)] = 1;
  for (int64_t r : split.test)
    part[rowKey(from, r)] = 2;
  Split out;
  for (int64_t r = 0; r < to.rows; ++r) {
    auto it = part.find(rowKey(to, r));
    (it == part.end() ? out.train : it->second == 1 ? out.validation : out.test).push_back(r);
  }
  return out;
}

/// A model's data and settings for the experiment's runs; a baseline takes
/// the multi-task model's split (`mtl`).
Result<Prepared> prepare(const ExperimentModel &m, const TrainFlags &flags, const Prepared *mtl) {
  Prepared p;
  p.model = &m;
  Result<TrainOptions> base = trainOptions(m.data.run.config, flags);
  if (!base)
    return base.takeError();
  p.base = std::move(*base);
  auto &[full, validation, test] = m.data.sets;
  const Split split = mtl ? carrySplit(mtl->whole(), mtl->split, *full)
                          : splitSources(*full, validation ? 0.0 : p.base.validate, p.base.seed,
                                         test ? 0.0 : p.base.test);
  p.split = split;
  // The model's own data set, all its rows; else the split's, of the whole.
  auto place = [&](const std::optional<Dataset> &own, const std::vector<int64_t> &heldOut,
                   const Dataset *&data, std::vector<int64_t> &rows) {
    rows.clear();
    if (own)
      for (int64_t r = 0; r < own->rows; ++r)
        rows.push_back(r);
    else
      rows = heldOut;
    data = own ? &*own : rows.empty() ? nullptr : &*full;
  };
  place(validation, split.validation, p.validationData, p.validationRows);
  place(test, split.test, p.testData, p.testRows);
  if (!p.testData && !p.validationData)
    return fail("an experiment scores each run on test data, or else on validation data, and "
                "the model has neither; hold some out with `test = 0.2` (or `validate`) in "
                "train { ... }, or name a data set");
  p.pool = split.train;
  if (!validation)
    p.pool.insert(p.pool.end(), split.validation.begin(), split.validation.end());
  std::sort(p.pool.begin(), p.pool.end());
  p.base.validate = 0;
  p.base.test = 0;
  p.base.quiet = true;
  p.base.checkpointDir.clear();
  p.base.saveInit = false;
  return p;
}

/// The task whose classes stratify the folds: the search metric's task if
/// it is a classification, else the first classification task; -1: none.
int strataTask(const RunConfig &config, const std::string &metric) {
  auto classifies = [&](size_t t) {
    return config.tasks[t].kind == TaskSpec::Classify || config.tasks[t].kind == TaskSpec::Binary;
  };
  const std::string task = metric.substr(0, metric.find('.'));
  for (size_t t = 0; t < config.tasks.size(); ++t)
    if (config.tasks[t].name == task && classifies(t))
      return int(t);
  for (size_t t = 0; t < config.tasks.size(); ++t)
    if (classifies(t))
      return int(t);
  return -1;
}

/// One line for the whole experiment: runs done, time, and the time left.
class ProgressLine {
public:
  ProgressLine(std::FILE *out, int64_t total, int64_t done)
      : out_(out && isatty(fileno(out)) ? out : nullptr), total_(total), skipped_(done),
        done_(done), start_(Clock::now()) {}
  void finished() {
    ++done_;
    if (!out_)
      return;
    double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    int64_t ran = done_ - skipped_;
    double left = ran > 0 ? elapsed / double(ran) * double(total_ - done_) : 0;
    fmt::print(out_, "\r\033[Kexperiment: {}/{} runs · {:.1f} s · about {:.0f} s left", done_,
               total_, elapsed, std::ceil(left));
    std::fflush(out_);
  }
  void clear() {
    if (out_ && done_ > skipped_)
      fmt::print(out_, "\r\033[K");
  }

private:
  using Clock = std::chrono::steady_clock;
  std::FILE *out_;
  int64_t total_, skipped_, done_;
  Clock::time_point start_;
};

class Runner {
public:
  Runner(const ExperimentPlan &plan, std::vector<Prepared> &prepared,
         const std::vector<SearchPoint> &points, const ExperimentOptions &options, RunRecords &runs)
      : prepared_(prepared), points_(points), o_(options), runs_(runs) {
    const Prepared &mtl = prepared_[0];
    if (plan.search)
      folds_ = kFolds(mtl.whole(), mtl.pool, plan.folds,
                      strataTask(mtl.model->data.run.config, plan.metric), mtl.base.seed);
  }

  /// Runs every spec not finished yet, `jobs` at a time; the first failure
  /// stops the runs not yet started and is returned.
  Status runAll(const std::vector<RunSpec> &specs, ProgressLine &progress) {
    std::vector<const RunSpec *> todo;
    for (const RunSpec &s : specs)
      if (!runs_.count(s.key))
        todo.push_back(&s);
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::string error;
    auto work = [&] {
      for (size_t i; !failed && !stopping() && (i = next++) < todo.size();) {
        Result<json> record = runOne(*todo[i]);
        if (record && record->is_null()) // interrupted: left for --resume
          continue;
        std::lock_guard<std::mutex> lock(mutex_);
        if (!record && todo[i]->config == "search")
          record = failedSearchRun(*todo[i], record.error());
        if (!record) {
          if (!failed.exchange(true))
            error = fmt::format("run {}: {}", todo[i]->key, record.error());
          continue;
        }
        if (Status s = experiment::appendRun(o_.folder, *record); !s) {
          failed = true;
          error = s.error();
          continue;
        }
        runs_[todo[i]->key] = std::move(*record);
        progress.finished();
      }
    };
    int jobs = std::clamp<int>(o_.jobs, 1, int(std::max<size_t>(todo.size(), 1)));
    threadsPerRun_ = std::max(1, o_.threads / jobs);
    std::vector<std::thread> threads;
    for (int j = 1; j < jobs; ++j)
      threads.emplace_back(work);
    work();
    for (std::thread &t : threads)
      t.join();
    if (failed)
      return fail(error);
    return Ok{};
  }

  int64_t chosen = 0; ///< the search point the final multi-task runs use

  bool stopping() const { return o_.interrupt && o_.interrupt->load(std::memory_order_relaxed); }

private:
  /// The compiled multi-task model whose code fits the balancing method.
  /// (The caller compiled one for each kind the plan's methods need.)
  const Prepared &mtlFor(const std::string &balance) const {
    bool params = balanceAddsParameters(balance.empty() ? prepared_[0].base.balance : balance);
    auto it = std::find_if(prepared_.begin(), prepared_.end(), [&](const Prepared &p) {
      return p.model->config == "mtl" && p.model->balanceParameters == params;
    });
    return it == prepared_.end() ? prepared_[0] : *it;
  }

  /// The compiled model a run trains and its options, but for the paths and
  /// the interrupt flag.
  std::pair<const Prepared *, TrainOptions> setUp(const RunSpec &spec) const {
    const SearchPoint &point = points_[size_t(spec.config == "search" ? spec.point : chosen)];
    const bool single = spec.config.rfind("stl:", 0) == 0;
    const Prepared *p = nullptr;
    if (single) {
      for (const Prepared &q : prepared_)
        if (q.model->config == spec.config)
          p = &q;
    } else {
      p = &mtlFor(point.balance);
    }
    TrainOptions o = p->base;
    o.seed = spec.seed;
    o.threads = threadsPerRun_;
    if (!single) {
      for (const auto &[task, w] : point.weights) {
        std::erase_if(o.taskWeights, [&](const auto &tw) { return tw.first == task; });
        o.taskWeights.emplace_back(task, w);
      }
      if (!point.balance.empty())
        o.balance = point.balance;
      if (point.lr)
        o.lr = float(*point.lr);
    }
    return {p, o};
  }

  /// What a record says of a run's settings: its balance, lr and task weights.
  static void addSettings(json &record, const TrainOptions &o) {
    record["balance"] = o.balance;
    record["lr"] = shortestDecimal(o.lr);
    json weights = json::object();
    for (const auto &[task, w] : o.taskWeights)
      weights[task] = w;
    record["weights"] = weights;
  }

  Result<json> runOne(const RunSpec &spec) {
    auto [p, o] = setUp(spec);
    o.interrupt = o_.interrupt;
    const std::string logDir =
        (fs::path(o_.folder) / "runs" / experiment::runFolderName(spec.key)).string();
    std::error_code ec;
    fs::create_directories(logDir, ec);
    o.logPath = (fs::path(logDir) / "log.jsonl").string();
    auto trainer = Trainer::create(p->model->model, o);
    if (!trainer)
      return trainer.takeError();
    std::span<const int64_t> trainRows = p->split.train;
    DataRows validation{p->validationData, p->validationRows}, test{p->testData, p->testRows};
    std::vector<int64_t> rest; // a search run: the other folds' rows; it validates on its own
    if (spec.config == "search") {
      for (size_t f = 0; f < folds_.size(); ++f)
        if (int64_t(f) != spec.fold)
          rest.insert(rest.end(), folds_[f].begin(), folds_[f].end());
      std::sort(rest.begin(), rest.end());
      trainRows = rest;
      validation = {&p->whole(), folds_[size_t(spec.fold)]};
      test = {};
    }
    Result<TrainResult> result = trainer->fit(p->whole(), trainRows, validation, test);
    if (!result)
      return result.takeError();
    if (result->interrupted)
      return json();
    const EpochRecord *kept = result->record(result->keptEpoch);
    const EvalReport *scored = result->test               ? &*result->test
                               : kept && kept->validation ? &*kept->validation
                                                          : nullptr;
    if (!scored)
      return fail("the run has no test or validation scores");
    json report = reportJson(*scored);
    json record = {{"key", spec.key},
                   {"config", spec.config},
                   {"seed", spec.seed},
                   {"seconds", result->seconds},
                   {"epochs", int64_t(result->epochs.size())},
                   {"kept_epoch", result->keptEpoch},
                   {"scored_on", result->test ? "test" : "validation"},
                   {"total_loss", report["loss"]}};
    if (spec.config == "search") {
      record["point"] = spec.point;
      record["fold"] = spec.fold;
    }
    addSettings(record, o);
    record["scores"] = report["tasks"];
    record["log"] = (fs::path("runs") / experiment::runFolderName(spec.key) / "log.jsonl").string();
    return record;
  }

  /// A search run that failed (its training diverged, say): recorded, so
  /// that its point is not chosen and a --resume does not repeat it.
  json failedSearchRun(const RunSpec &spec, const std::string &error) {
    if (!o_.quiet)
      fmt::print(stderr, "note: run {} failed, and its search point is not chosen: {}\n", spec.key,
                 error);
    json record = {{"key", spec.key},     {"config", spec.config}, {"seed", spec.seed},
                   {"point", spec.point}, {"fold", spec.fold},     {"status", "failed"},
                   {"error", error}};
    addSettings(record, setUp(spec).second);
    return record;
  }

  std::vector<Prepared> &prepared_;
  const std::vector<SearchPoint> &points_;
  const ExperimentOptions &o_;
  RunRecords &runs_;
  std::vector<std::vector<int64_t>> folds_;
  int threadsPerRun_ = 1; ///< the threads over the runs that go at once
  std::mutex mutex_;
};

} // namespace

Status runExperiment(const ExperimentPlan &plan, const std::vector<ExperimentModel> &models,
                     const TrainFlags &flags, const ExperimentOptions &options) {
  if (models.empty() || models[0].config != "mtl")
    return fail("an experiment needs the multi-task model first");
  const std::string read = experiment::dataRead(models[0].data);
  std::vector<Prepared> prepared;
  for (const ExperimentModel &m : models) {
    Result<Prepared> p = prepare(m, flags, prepared.empty() ? nullptr : &prepared[0]);
    if (!p)
      return p.takeError();
    prepared.push_back(std::move(*p));
  }
  const TrainOptions &base = prepared[0].base;
  const std::vector<SearchPoint> points = searchPoints(plan, base.seed);
  Result<RunRecords> runs =
      experiment::openFolder(options, experiment::identity(plan, models[0], base, points, read));
  if (!runs)
    return runs.takeError();
  if (!options.quiet && !options.banner.empty()) {
    fmt::print(options.out, "{}\n", options.banner);
    std::fflush(options.out);
  }

  std::vector<uint64_t> seeds;
  for (int64_t s = 0; s < plan.seeds; ++s)
    seeds.push_back(base.seed + uint64_t(s));
  std::vector<RunSpec> first, last;
  if (plan.search)
    for (int64_t p = 0; p < int64_t(points.size()); ++p)
      for (int64_t f = 0; f < plan.folds; ++f)
        first.push_back({fmt::format("search/p{}/f{}", p + 1, f + 1), "search", p, f, base.seed});
  if (plan.singleTaskBaselines)
    for (const TaskGoal &g : plan.goals)
      for (uint64_t s : seeds)
        first.push_back({fmt::format("stl:{}/seed{}", g.task, s), "stl:" + g.task, -1, -1, s});
  for (uint64_t s : seeds)
    (plan.search ? last : first).push_back({fmt::format("mtl/seed{}", s), "mtl", -1, -1, s});

  auto start = std::chrono::steady_clock::now();
  int64_t total = int64_t(first.size() + last.size());
  int64_t done = 0;
  for (const auto *list : {&first, &last})
    for (const RunSpec &s : *list)
      done += runs->count(s.key) ? 1 : 0;
  if (!options.quiet && done > 0)
    fmt::print(options.out, "resuming {}: {} of {} runs finished already\n", options.folder, done,
               total);
  ProgressLine progress(options.quiet ? nullptr : options.progress, total, done);
  Runner runner(plan, prepared, points, options, *runs);
  Status ran = runner.runAll(first, progress);
  json search;
  if (ran && plan.search && !runner.stopping()) {
    search = experiment::searchResults(plan, points, *runs, runner.chosen);
    if (std::isnan(search["points"][size_t(runner.chosen)]["mean"].get<double>()))
      ran = fail(fmt::format("no search point has a {} on every fold (a run failed, or a metric "
                             "such as auc is undefined on a fold that holds one class); choose "
                             "other settings, another metric or fewer folds",
                             plan.metric));
    else
      ran = runner.runAll(last, progress);
  }
  progress.clear();
  if (!ran)
    return ran;
  if (runner.stopping()) {
    int64_t kept = 0;
    for (const auto *list : {&first, &last})
      for (const RunSpec &s : *list)
        kept += runs->count(s.key) ? 1 : 0;
    fmt::print(stderr,
               "stopped with {} of {} runs finished; {} keeps them: continue with --resume {}\n",
               kept, total, options.folder, options.folder);
    return Ok{};
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  json results = experiment::experimentResults(plan, *runs, seeds, std::move(search),
                                               models[0].model->name, seconds);
  const fs::path folder(options.folder);
  if (Status s = writeFileAtomic((folder / "results.json").string(), results.dump(2) + "\n",
                                 "results.json");
      !s)
    return s;
  if (Status s = writeFileAtomic((folder / "results.csv").string(), experiment::resultsCsv(results),
                                 "results.csv");
      !s)
    return s;
  if (!options.quiet)
    fmt::print(options.out, "{}\nexperiment folder: {} (results.json, results.csv, runs.jsonl)\n",
               experiment::resultsTable(results), options.folder);
  return Ok{};
}

} // namespace mtlrt
