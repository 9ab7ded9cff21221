// log_check.cpp: reads `mtlc train --log` JSON-lines logs and checks what the e2e tests assert.
//
//   log_check falls LOG
//       The total training loss falls: the last epoch record's "loss" is below
//       the first's. With a single epoch it compares the mean step loss of the
//       last quarter of the step records with that of the first quarter.
//   log_check value LOG PATH
//       Prints one number, PATH being RECORD.KEY.KEY...: RECORD is `end` (the
//       end record), `last` (the last epoch record) or `start`; for example
//       `end.test.tasks.class.accuracy` or `last.val.tasks.species.accuracy`.
//   log_check at-least LOG PATH MIN
//       As `value`, and fails unless the number is at least MIN.
//   log_check same-steps LOG_A LOG_B
//       The step and epoch records of both logs are identical once the timing
//       field ("seconds") is dropped; fails naming the first record that differs.
//   log_check same-json FILE_A POINTER_A FILE_B POINTER_B
//       Two whole JSON documents (summary.json, `eval --json` output) hold the
//       same value at the two JSON pointers (/kept/validation, /splits/test),
//       number for number; fails naming the first place that differs.
//
// Exit status: 0 when the check holds, 1 when it does not, 2 on bad usage or an
// unreadable log. Every failure says why on stderr.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Json = nlohmann::json;

struct Log {
  std::vector<Json> records;

  std::vector<const Json *> ofType(const std::string &type) const {
    std::vector<const Json *> out;
    for (const Json &r : records)
      if (r.value("type", "") == type)
        out.push_back(&r);
    return out;
  }
};

std::optional<Log> readLog(const std::string &path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "log_check: cannot open " << path << "\n";
    return std::nullopt;
  }
  Log log;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty())
      continue;
    Json record = Json::parse(line, nullptr, false);
    if (record.is_discarded() || !record.is_object()) {
      std::cerr << path << ":" << number << ": not a JSON object: " << line.substr(0, 120) << "\n";
      return std::nullopt;
    }
    log.records.push_back(std::move(record));
  }
  if (log.records.empty()) {
    std::cerr << "log_check: " << path << " holds no records\n";
    return std::nullopt;
  }
  return log;
}

// A record's "loss", or NaN when it is missing or null (a non-finite loss is logged as null).
double lossOf(const Json &record) {
  auto it = record.find("loss");
  return it != record.end() && it->is_number() ? it->get<double>() : std::nan("");
}

double meanLoss(const std::vector<const Json *> &steps, size_t begin, size_t end) {
  double sum = 0;
  for (size_t i = begin; i < end; ++i)
    sum += lossOf(*steps[i]);
  return sum / static_cast<double>(end - begin);
}

int checkFalls(const Log &log) {
  std::vector<const Json *> epochs = log.ofType("epoch");
  if (epochs.size() >= 2) {
    double first = lossOf(*epochs.front());
    double last = lossOf(*epochs.back());
    std::cout << "training loss: epoch 1 " << first << ", epoch " << epochs.size() << " " << last
              << "\n";
    if (!(last < first)) {
      std::cerr << "the training loss did not fall: " << first << " -> " << last << "\n";
      return 1;
    }
    return 0;
  }
  std::vector<const Json *> steps = log.ofType("step");
  if (steps.size() < 8) {
    std::cerr << "need two epoch records, or one epoch and at least 8 step records "
                 "(--log-every)\n";
    return 2;
  }
  size_t quarter = steps.size() / 4;
  double first = meanLoss(steps, 0, quarter);
  double last = meanLoss(steps, steps.size() - quarter, steps.size());
  std::cout << "mean step loss: first quarter " << first << ", last quarter " << last << "\n";
  if (!(last < first)) {
    std::cerr << "the training loss did not fall within the epoch: " << first << " -> " << last
              << "\n";
    return 1;
  }
  return 0;
}

std::optional<double> lookup(const Log &log, const std::string &path) {
  std::stringstream parts(path);
  std::string part;
  std::getline(parts, part, '.');
  const Json *node = nullptr;
  if (part == "last" || part == "first") {
    std::vector<const Json *> epochs = log.ofType("epoch");
    if (!epochs.empty())
      node = part == "last" ? epochs.back() : epochs.front();
  } else {
    std::vector<const Json *> records = log.ofType(part);
    if (!records.empty())
      node = records.back();
  }
  if (!node) {
    std::cerr << "the log has no '" << part << "' record\n";
    return std::nullopt;
  }
  std::string walked = part;
  while (std::getline(parts, part, '.')) {
    walked += "." + part;
    if (!node->is_object() || !node->contains(part)) {
      std::cerr << "the log has no " << walked << "\n";
      return std::nullopt;
    }
    node = &(*node)[part];
  }
  if (!node->is_number()) {
    std::cerr << path << " is not a number: " << node->dump() << "\n";
    return std::nullopt;
  }
  return node->get<double>();
}

// Drops every "seconds" field, at any depth: the only values that vary between
// identical runs.
Json withoutTimes(Json record) {
  if (record.is_object()) {
    record.erase("seconds");
    for (Json &value : record)
      value = withoutTimes(value);
  }
  return record;
}

int checkSameSteps(const Log &a, const Log &b) {
  auto filtered = [](const Log &log) {
    std::vector<std::string> out;
    for (const Json &r : log.records) {
      std::string type = r.value("type", "");
      if (type == "step" || type == "epoch")
        out.push_back(withoutTimes(r).dump());
    }
    return out;
  };
  std::vector<std::string> ra = filtered(a), rb = filtered(b);
  size_t steps = a.ofType("step").size();
  if (steps == 0) {
    std::cerr << "the logs hold no step records (use --log-every 1)\n";
    return 2;
  }
  for (size_t i = 0; i < std::min(ra.size(), rb.size()); ++i)
    if (ra[i] != rb[i]) {
      std::cerr << "record " << i + 1 << " differs:\n  " << ra[i] << "\n  " << rb[i] << "\n";
      return 1;
    }
  if (ra.size() != rb.size()) {
    std::cerr << "the logs hold " << ra.size() << " and " << rb.size() << " records\n";
    return 1;
  }
  std::cout << ra.size() << " step and epoch records identical (" << steps << " steps)\n";
  return 0;
}

std::optional<Json> readJson(const std::string &path) {
  std::ifstream in(path);
  Json doc = Json::parse(in, nullptr, false);
  if (!in.is_open() || doc.is_discarded()) {
    std::cerr << "log_check: cannot read JSON from " << path << "\n";
    return std::nullopt;
  }
  return doc;
}

int checkSameJson(const std::vector<std::string> &args) {
  std::optional<Json> a = readJson(args[1]), b = readJson(args[3]);
  if (!a || !b)
    return 2;
  Json::json_pointer pa(args[2]), pb(args[4]);
  if (!a->contains(pa) || !b->contains(pb)) {
    std::cerr << "no value at "
              << (a->contains(pa) ? args[3] + " " + args[4] : args[1] + " " + args[2]) << "\n";
    return 1;
  }
  Json diff = Json::diff(a->at(pa), b->at(pb));
  if (!diff.empty()) {
    std::cerr << args[1] << args[2] << " and " << args[3] << args[4] << " differ: " << diff.dump()
              << "\n";
    return 1;
  }
  std::cout << args[2] << " and " << args[4] << " are identical: " << a->at(pa).dump() << "\n";
  return 0;
}

int usage() {
  std::cerr << "usage: log_check falls LOG | value LOG PATH | at-least LOG PATH MIN | "
               "same-steps LOG_A LOG_B | same-json FILE_A POINTER_A FILE_B POINTER_B\n";
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2)
    return usage();
  const std::string &command = args[0];
  if (command == "same-json" && args.size() == 5)
    return checkSameJson(args);
  std::optional<Log> log = readLog(args[1]);
  if (!log)
    return 2;
  if (command == "falls" && args.size() == 2)
    return checkFalls(*log);
  if ((command == "value" && args.size() == 3) || (command == "at-least" && args.size() == 4)) {
    std::optional<double> v = lookup(*log, args[2]);
    if (!v)
      return 1;
    std::cout << args[2] << " = " << *v << "\n";
    if (command == "at-least" && !(*v >= std::stod(args[3]))) {
      std::cerr << args[2] << " = " << *v << " is below " << args[3] << "\n";
      return 1;
    }
    return 0;
  }
  if (command == "same-steps" && args.size() == 3) {
    std::optional<Log> other = readLog(args[2]);
    if (!other)
      return 2;
    return checkSameSteps(*log, *other);
  }
  return usage();
}
