// RunHistory.cpp: reading the start, epoch, error and end records of a training log.
#include "report/RunHistory.h"

#include <algorithm>
#include <fmt/format.h>

namespace mtlrt::report {
namespace {

NamedValues numbers(const std::optional<JsonReader> &object) {
  NamedValues out;
  if (object)
    for (const auto &[name, value] : object->members())
      out.emplace_back(name, value.asNumber());
  return out;
}

EpochPoint readEpoch(const JsonReader &j) {
  EpochPoint e;
  e.epoch = j.integer("epoch", 0);
  if (e.epoch < 1)
    j.problem("an epoch record needs its \"epoch\", a whole number from 1");
  if (!j.has("tasks"))
    j.problem("an epoch record needs its \"tasks\"");
  e.lr = j.number("lr");
  e.train = readScores(j);
  if (std::optional<JsonReader> val = j.object("val"))
    e.validation = readScores(*val);
  if (std::optional<JsonReader> balance = j.object("balance")) {
    e.weights = numbers(balance->object("weights"));
    e.gradNorms = numbers(balance->object("grad_norms"));
    e.cosines = numbers(balance->object("cosines"));
  }
  if (std::optional<JsonReader> gates = j.object("gates"))
    for (const auto &[name, gate] : gates->members())
      e.gates.push_back({name, gate.text("task"), numbers(gate.object("experts"))});
  return e;
}

void readStart(const JsonReader &j, RunHistory &h) {
  ++h.starts;
  h.model = j.text("model");
  h.balance = j.text("balance");
  h.tasks.clear();
  for (const JsonReader &t : j.array("tasks"))
    h.tasks.push_back({t.text("name"), t.text("kind"), t.flag("auxiliary", false)});
}

void readEnd(const JsonReader &j, RunHistory &h) {
  h.keptEpoch = j.integer("kept_epoch", 0);
  if (std::optional<JsonReader> test = j.object("test"))
    h.test = readScores(*test);
}

} // namespace

double valueOf(const NamedValues &values, const std::string &name) {
  for (const auto &[n, v] : values)
    if (n == name)
      return v;
  return NAN;
}

const TaskValues *Scores::task(const std::string &name) const {
  for (const TaskValues &t : tasks)
    if (t.name == name)
      return &t;
  return nullptr;
}

Scores readScores(const JsonReader &j) {
  Scores s;
  s.loss = j.number("loss");
  if (std::optional<JsonReader> tasks = j.object("tasks"))
    s.tasks = readTaskValues(*tasks);
  return s;
}

std::vector<TaskValues> readTaskValues(const JsonReader &j) {
  std::vector<TaskValues> out;
  for (const auto &[name, task] : j.members()) {
    TaskValues t{name, task.number("loss"), {}};
    if (task.has("labelled") && task.number("labelled") == 0)
      t.loss = NAN; // a loss over no labelled row is no measurement (the log writes 0)
    for (const auto &[key, value] : task.members())
      if (key != "loss" && key != "labelled")
        t.metrics.emplace_back(key, value.asNumber());
    out.push_back(std::move(t));
  }
  return out;
}

Result<RunHistory> readRunHistory(const std::string &path) {
  RunHistory h;
  // Step records (--log-every) can outnumber the rest a thousand to one; no report reads them.
  Status read =
      forEachJsonLine(path, "{\"type\":\"step\"", [&](const Json &record, int64_t line) -> Status {
        JsonReader j(record, fmt::format("{}:{}", path, line));
        const std::string type = j.text("type");
        if (type == "start") {
          readStart(j, h);
        } else if (type == "epoch") {
          EpochPoint e = readEpoch(j);
          auto at =
              std::lower_bound(h.epochs.begin(), h.epochs.end(), e.epoch,
                               [](const EpochPoint &p, int64_t epoch) { return p.epoch < epoch; });
          if (at != h.epochs.end() && at->epoch == e.epoch)
            *at = std::move(e);
          else
            h.epochs.insert(at, std::move(e));
        } else if (type == "error") {
          h.failures.push_back(fmt::format("epoch {}, step {}: {}", j.integer("epoch", 0),
                                           j.integer("step", 0), j.text("message")));
        } else if (type == "end") {
          readEnd(j, h);
        } else if (type.empty()) { // other types, from later versions, are not read
          j.problem("a record needs its \"type\"");
        }
        return j.status();
      });
  if (!read)
    return read.takeError();
  return h;
}

} // namespace mtlrt::report
