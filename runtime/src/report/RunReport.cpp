// RunReport.cpp: the report of a run folder: its curves, what it kept and scored, its settings.
#include "mtlrt/Report.h"
#include "report/Sections.h"

#include <filesystem>
#include <fmt/format.h>

namespace mtlrt::report {
namespace {
namespace fs = std::filesystem;

// A JSON value as a person reads it: text without quotes, lists joined by commas.
std::string plain(const Json &j) {
  if (j.is_string())
    return j.get<std::string>();
  if (j.is_array() || j.is_object()) {
    std::string out;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out += out.empty() ? "" : ", ";
      out += j.is_object() ? fmt::format("{} {}", it.key(), plain(*it)) : plain(*it);
    }
    return out;
  }
  // A float setting such as lr went through a 32-bit float: 0.001, not 0.0010000000474974513.
  if (j.is_number_float())
    return fmt::format("{:.7g}", j.get<double>());
  return j.dump();
}

// One column of the results table: a heading and a report.
struct Column {
  std::string heading;
  Scores scores;
};

void addColumn(std::vector<Column> &columns, std::string heading, const JsonReader &parent,
               std::string_view key) {
  if (std::optional<JsonReader> scores = parent.object(key))
    columns.push_back({std::move(heading), readScores(*scores)});
}

// The training and validation columns of `epoch` (`which`: kept or last):
// from summary.json's `record`, or from the log where the summary has no
// report of it (an epoch before a --resume, which that process did not run).
void addEpochColumns(std::vector<Column> &columns, const JsonReader &record, int64_t epoch,
                     const char *which, const RunHistory &h) {
  const std::string training = fmt::format("training, epoch {} ({})", epoch, which);
  const std::string validation = fmt::format("validation, epoch {} ({})", epoch, which);
  if (record.has("train")) {
    addColumn(columns, training, record, "train");
    addColumn(columns, validation, record, "validation");
    return;
  }
  for (const EpochPoint &p : h.epochs)
    if (p.epoch == epoch) {
      columns.push_back({training, p.train});
      if (p.validation)
        columns.push_back({validation, *p.validation});
    }
}

// The reports summary.json holds: the kept epoch's, the last's when it is another, the test's.
std::vector<Column> summaryColumns(const JsonReader &s, const RunHistory &h) {
  std::vector<Column> columns;
  std::optional<JsonReader> kept = s.object("kept"), last = s.object("last");
  const int64_t keptEpoch = kept ? kept->integer("epoch", 0) : 0;
  const int64_t lastEpoch = last ? last->integer("epoch", 0) : 0;
  if (kept)
    addEpochColumns(columns, *kept, keptEpoch, "kept", h);
  if (last && lastEpoch != keptEpoch)
    addEpochColumns(columns, *last, lastEpoch, "last", h);
  addColumn(columns, fmt::format("test, epoch {}'s parameters", keptEpoch), s, "test");
  return columns;
}

// Without summary.json: the log's last epoch and its test report.
std::vector<Column> logColumns(const RunHistory &h) {
  std::vector<Column> columns;
  if (!h.epochs.empty()) {
    const EpochPoint &last = h.epochs.back();
    columns.push_back({fmt::format("training, epoch {}", last.epoch), last.train});
    if (last.validation)
      columns.push_back({fmt::format("validation, epoch {}", last.epoch), *last.validation});
  }
  if (h.test)
    columns.push_back({fmt::format("test, epoch {}'s parameters", h.keptEpoch), *h.test});
  return columns;
}

void addResultsTable(HtmlPage &page, const std::vector<std::string> &tasks,
                     const std::vector<Column> &columns) {
  HtmlTable t;
  t.textColumns = 2;
  t.header = {"task", "measure"};
  for (const Column &c : columns)
    t.header.push_back(c.heading);
  std::vector<std::string> total = {"total", "loss"};
  for (const Column &c : columns)
    total.push_back(cell(c.scores.loss));
  t.rows.push_back(std::move(total));
  for (const std::string &task : tasks) {
    std::vector<std::string> measures = {"loss"};
    for (const Column &c : columns)
      if (const TaskValues *v = c.scores.task(task))
        for (const auto &[metric, value] : v->metrics)
          if (std::find(measures.begin(), measures.end(), metric) == measures.end())
            measures.push_back(metric);
    for (const std::string &measure : measures) {
      std::vector<std::string> row = {task, measure};
      for (const Column &c : columns) {
        const TaskValues *v = c.scores.task(task);
        row.push_back(cell(!v ? NAN : measure == "loss" ? v->loss : valueOf(v->metrics, measure)));
      }
      t.rows.push_back(std::move(row));
    }
  }
  page.table(t);
}

// The lead line and the facts of summary.json.
std::vector<std::pair<std::string, std::string>> summaryFacts(const JsonReader &s) {
  std::vector<std::pair<std::string, std::string>> facts = {{"status", s.text("status")}};
  if (s.has("epochs"))
    facts.emplace_back("epochs",
                       fmt::format("{} ({} steps) in {}", s.integer("epochs", 0),
                                   s.integer("steps", 0), formatDuration(s.number("seconds"))));
  if (s.has("kept_epoch")) {
    const int64_t kept = s.integer("kept_epoch", 0), best = s.integer("best_epoch", 0);
    facts.emplace_back(
        "kept", best == 0      ? fmt::format("epoch {} (the last: no validation data)", kept)
                : kept == best ? fmt::format("epoch {} (the best by {})", kept, s.text("monitor"))
                               : fmt::format("epoch {} (the best by {} was epoch {})", kept,
                                             s.text("monitor"), best));
  }
  if (s.has("error"))
    facts.emplace_back("error", s.text("error"));
  return facts;
}

// The log is in the folder unless the run wrote it elsewhere (--log), as config.json says.
std::string runLog(const fs::path &dir, const std::optional<Json> &config) {
  std::string log = (dir / "log.jsonl").string();
  if (config && config->is_object() && !fs::exists(log)) {
    const Json &settings = config->value("settings", Json::object());
    if (settings.is_object() && settings.contains("log") && settings["log"].is_string() &&
        settings["log"] != "")
      log = settings["log"].get<std::string>();
  }
  return log;
}

} // namespace

std::vector<std::string> runFolderInputs(const std::string &folder) {
  const fs::path dir(folder);
  std::optional<Json> config;
  if (Result<Json> j = readJsonFile((dir / "config.json").string()); j)
    config = std::move(*j);
  return {(dir / "config.json").string(), (dir / "summary.json").string(), runLog(dir, config)};
}

Result<std::string> runFolderReport(const std::string &folder) {
  const fs::path dir(folder);
  std::optional<Json> config, summary;
  for (auto [name, slot] : {std::pair{"config.json", &config}, {"summary.json", &summary}})
    if (fs::exists(dir / name)) {
      Result<Json> j = readJsonFile((dir / name).string());
      if (!j)
        return j.takeError();
      if (!j->is_object())
        return fail(fmt::format("{}: not a JSON object", (dir / name).string()));
      *slot = std::move(*j);
    }
  const std::string log = runLog(dir, config);
  // A run that failed before its first step has a summary and no log.
  const bool neverStarted =
      summary && summary->value("status", Json()) == "failed" && !fs::exists(log);
  Result<RunHistory> history =
      neverStarted ? Result<RunHistory>(RunHistory{}) : readRunHistory(log);
  if (!history)
    return history.takeError();
  const RunHistory &h = *history;

  HtmlPage page(fmt::format("{}: training run", h.model.empty() ? "model" : h.model));
  std::optional<JsonReader> s;
  if (summary)
    s = JsonReader(*summary, (dir / "summary.json").string());
  std::string lead = folder;
  if (s)
    lead += ", " + s->text("status");
  if (s && s->has("epochs"))
    lead += fmt::format(", {} epochs", s->integer("epochs", 0));
  if (!h.balance.empty())
    lead += fmt::format(", balance {}", h.balance);
  if (h.starts > 1)
    lead += fmt::format(", resumed {} time{}", h.starts - 1, h.starts == 2 ? "" : "s");
  page.lead(lead);
  if (!s)
    page.warning("There is no summary.json: the run has not finished, or was stopped. This "
                 "report shows the epochs its log holds.");
  if (log != (dir / "log.jsonl").string() && !neverStarted)
    page.warning(fmt::format("The folder has no log.jsonl: the epochs below come from {}, where "
                             "the run wrote its log (--log, as config.json says), which a "
                             "later run given the same --log replaces.",
                             log));
  if (s && s->text("status") == "failed")
    page.warning(fmt::format("The run failed: {}", s->text("error")));
  else // the summary's error is the log's error record: one warning is enough
    for (const std::string &failure : h.failures)
      page.warning(fmt::format("The log records an error at {}", failure));
  if (h.epochs.empty())
    page.warning("The log holds no finished epoch.");
  else
    addRunPlots(page, h);

  page.section("Results");
  if (s)
    page.facts(summaryFacts(*s));
  // A failed run's summary holds no report: the log's last epoch stands in.
  std::vector<Column> columns = s ? summaryColumns(*s, h) : std::vector<Column>{};
  if (columns.empty())
    columns = logColumns(h);
  if (columns.empty())
    page.paragraph("No epoch finished, so the run has no scores.");
  else
    addResultsTable(page, taskNames(h), columns);
  if (s)
    if (Status ok = s->status(); !ok)
      return ok.takeError();
  addEpochTable(page, h);

  if (config) {
    page.section("Settings");
    std::vector<std::pair<std::string, std::string>> facts;
    for (const char *key : {"model", "source_hash", "mtlc_version", "target_cpu"})
      if (config->contains(key))
        facts.emplace_back(key, plain((*config)[key]));
    const Json data = config->value("data", Json::object());
    const Json settings = config->value("settings", Json::object());
    for (const auto &[name, files] : data.items())
      facts.emplace_back("data " + name, plain(files));
    for (const auto &[name, value] : settings.items())
      if (!plain(value).empty())
        facts.emplace_back(name, plain(value));
    page.facts(facts);
  }
  return page.html();
}

} // namespace mtlrt::report
