// Log.cpp: JSON-lines records of a training run, written with nlohmann-json.
#include "mtlrt/Log.h"
#include "mtlrt/AtomicFile.h"
#include "mtlrt/Report.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

namespace mtlrt {

namespace {
// Keys keep their insertion order, so "type" leads every record.
using json = nlohmann::ordered_json;

// JSON has no NaN or infinity; null says "undefined" to every reader.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// shortestDecimal, or null when not finite.
json shortest(float v) { return std::isfinite(v) ? json(shortestDecimal(v)) : json(nullptr); }

// A count of rows, which travels as a float through the ABI: labelled rows of
// a task of several target values may count a row in part (Abi.h,
// task_counts), kept to 3 decimals.
json count(double v) {
  if (!std::isfinite(v))
    return nullptr;
  const double whole = std::round(v);
  return std::fabs(v - whole) < 5e-4 ? json(int64_t(whole)) : json(std::round(v * 1000) / 1000);
}

json tasksJson(const std::vector<TaskScores> &tasks) {
  json out = json::object();
  for (const TaskScores &task : tasks) {
    json t = {{"loss", number(task.loss)}, {"labelled", count(task.labelled)}};
    for (const MetricValue &m : task.metrics)
      t[m.name] = number(m.value);
    out[task.name] = std::move(t);
  }
  return out;
}

/// {"weights":{"T":..},"grad_norms":{"T":..},"cosines":{"A,B":..},"conflicts":{"A,B":..}}:
/// the gradient entries only when the steps split the gradients by task;
/// `conflicts` only with `conflicts` (a step's record has a cosine's sign).
json balanceJson(const BalanceStats &stats, const std::vector<std::string> &names, bool conflicts) {
  const size_t n = names.size();
  auto name = [&](size_t t) { return names[t]; };
  json out = json::object(), weights = json::object();
  for (size_t t = 0; t < n && t < stats.weights.size(); ++t)
    weights[name(t)] = number(stats.weights[t]);
  out["weights"] = std::move(weights);
  if (stats.gradNorms.size() != n)
    return out;
  json norms = json::object(), cosines = json::object(), conflicting = json::object();
  for (size_t i = 0; i < n; ++i) {
    norms[name(i)] = number(stats.gradNorms[i]);
    for (size_t j = i + 1; j < n; ++j) {
      std::string pair = name(i) + "," + name(j);
      cosines[pair] = number(stats.cosines[i * n + j]);
      conflicting[pair] = number(stats.conflicts[i * n + j]);
    }
  }
  out["grad_norms"] = std::move(norms);
  out["cosines"] = std::move(cosines);
  if (conflicts)
    out["conflicts"] = std::move(conflicting);
  return out;
}

/// {"GATE":{"task":"T" or null,"experts":{"E":mean,..}},..}
json gatesJson(const std::vector<GateMeans> &gates) {
  json out = json::object();
  for (const GateMeans &g : gates) {
    json experts = json::object();
    for (size_t j = 0; j < g.experts.size() && j < g.means.size(); ++j)
      experts[g.experts[j]] = number(g.means[j]);
    out[g.name] = {{"task", g.task.empty() ? json(nullptr) : json(g.task)},
                   {"experts", std::move(experts)}};
  }
  return out;
}

} // namespace

double shortestDecimal(float v) { return std::strtod(fmt::format("{}", v).c_str(), nullptr); }

json reportJson(const EvalReport &report) {
  return {{"loss", number(report.loss)},
          {"penalty", number(report.penalty)},
          {"rows", report.rows},
          {"tasks", tasksJson(report.tasks)}};
}

namespace {

/// Drops the step and epoch records of `path` after epoch `epoch`, when it has any.
Status dropAfter(const std::string &path, int64_t epoch) {
  std::ifstream in(path);
  if (!in)
    return Ok{};
  std::string line, kept;
  bool dropped = false;
  while (std::getline(in, line)) {
    json record = json::parse(line, nullptr, false);
    const bool later =
        record.is_object() &&
        (record.value("type", "") == "step" || record.value("type", "") == "epoch") &&
        record.value("epoch", json()).is_number_integer() && record["epoch"].get<int64_t>() > epoch;
    dropped = dropped || later;
    if (!later)
      kept += line + "\n";
  }
  return dropped ? writeFileAtomic(path, kept, "the log") : Status(Ok{});
}

} // namespace

Status RunLog::replaceable(const std::string &path) {
  // A device or a FIFO (/dev/stdout, a pipe) is written to, never replaced.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return Ok{};
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line))
    return Ok{}; // unreadable, or empty
  const json start = json::parse(line, nullptr, false);
  if (start.is_object() && start.value("type", "") == "start")
    return Ok{};
  return fail(fmt::format("{}: it exists and is not a run's log (a log replaces only a log); "
                          "write the log to another file",
                          path));
}

Result<RunLog> RunLog::open(const std::string &path, bool append, int64_t epoch) {
  if (!append)
    if (Status s = replaceable(path); !s)
      return s.takeError();
  if (append && epoch >= 0)
    if (Status s = dropAfter(path, epoch); !s)
      return s.takeError();
  RunLog log;
  log.file.reset(std::fopen(path.c_str(), append ? "a" : "w"));
  if (!log.file)
    return fail(fmt::format("{}: cannot write the log: {}", path, std::strerror(errno)));
  log.path_ = path;
  return log;
}

void RunLog::writeLine(const json &record) {
  if (!file || !problem_.empty())
    return;
  // Replacing invalid UTF-8 (say, in a path inside a message) keeps dump() from throwing.
  std::string line = record.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  errno = 0;
  if (std::fputs(line.c_str(), file.get()) == EOF || std::fflush(file.get()) != 0)
    problem_ = fmt::format("{}: cannot write the log: {}", path_,
                           errno ? std::strerror(errno) : "write error");
}

void RunLog::start(const mtl_model &model, const TrainOptions &options, int64_t trainRows,
                   int64_t valRows) {
  if (!file)
    return;
  json tasks = json::array();
  for (int32_t t = 0; t < model.num_tasks; ++t)
    tasks.push_back({{"name", model.tasks[t].name},
                     {"kind", taskKindName(model.tasks[t].kind)},
                     {"weight", number(model.tasks[t].weight)},
                     {"auxiliary", model.tasks[t].auxiliary != 0}});
  for (const auto &[name, weight] : options.taskWeights)
    for (json &t : tasks)
      if (t["name"] == name)
        t["weight"] = number(weight);
  json record = {{"type", "start"},
                 {"model", model.name ? model.name : ""},
                 {"seed", options.seed},
                 {"epochs", options.epochs},
                 {"batch", options.batch},
                 {"lr", shortest(options.lr)},
                 {"threads", options.threads},
                 {"shuffle", options.shuffle},
                 {"flush_denormals", options.flushDenormals},
                 {"balance", options.balance},
                 {"train_rows", trainRows},
                 {"val_rows", valRows},
                 {"tasks", std::move(tasks)}};
  writeLine(record);
}

void RunLog::step(const mtl_model &model, int64_t epoch, int64_t step, float loss,
                  std::span<const float> taskLosses, std::span<const float> taskCounts,
                  const BalanceStats *balance) {
  if (!file)
    return;
  json tasks = json::object();
  for (int32_t t = 0; t < model.num_tasks; ++t)
    tasks[model.tasks[t].name] = {{"loss", shortest(taskLosses[size_t(t)])},
                                  {"labelled", count(taskCounts[size_t(t)])}};
  json record = {{"type", "step"},
                 {"epoch", epoch},
                 {"step", step},
                 {"loss", shortest(loss)},
                 {"tasks", std::move(tasks)}};
  if (balance) {
    std::vector<std::string> names;
    for (int32_t t = 0; t < model.num_tasks; ++t)
      names.push_back(model.tasks[t].name);
    record["balance"] = balanceJson(*balance, names, false);
  }
  writeLine(record);
}

void RunLog::epoch(const EpochRecord &record) {
  if (!file)
    return;
  json out = {{"type", "epoch"},
              {"epoch", record.epoch},
              {"steps", record.steps},
              {"seconds", record.seconds},
              {"lr", record.lr},
              {"loss", number(record.train.loss)},
              {"penalty", number(record.train.penalty)},
              {"tasks", tasksJson(record.train.tasks)}};
  if (record.validation)
    out["val"] = reportJson(*record.validation);
  if (record.balance.steps > 0) {
    std::vector<std::string> names;
    for (const TaskScores &t : record.train.tasks)
      names.push_back(t.name);
    out["balance"] = balanceJson(record.balance, names, true);
  }
  if (!record.gates.empty())
    out["gates"] = gatesJson(record.gates);
  writeLine(out);
}

void RunLog::failure(int64_t epoch, int64_t step, const std::string &message) {
  json record = {{"type", "error"}, {"epoch", epoch}, {"step", step}, {"message", message}};
  writeLine(record);
}

void RunLog::end(const TrainResult &result) {
  if (!file)
    return;
  json out = {{"type", "end"},
              {"epochs", result.lastEpoch},
              {"steps", result.steps},
              {"seconds", result.seconds},
              {"best_epoch", result.bestEpoch},
              {"kept_epoch", result.keptEpoch},
              {"stopped_early", result.stoppedEarly},
              {"threads", result.threads.threads}};
  if (result.threads.poolSeconds > 0) // measured (TrainOptions::measureThreads)
    out["thread_timing"] = {{"pool_threads", result.threads.pool},
                            {"pool_step_seconds", result.threads.poolSeconds},
                            {"one_thread_step_seconds", result.threads.oneSeconds}};
  if (result.test)
    out["test"] = reportJson(*result.test);
  writeLine(out);
}

} // namespace mtlrt
