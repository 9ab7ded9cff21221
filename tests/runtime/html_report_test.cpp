// html_report_test.cpp: reports of hand-written run and experiment folders: well-formed pages,
// one <svg> per figure, names escaped, the log's numbers, and errors that name file and line.
#include "WellFormed.h"
#include "mtlrt/HtmlReport.h"
#include "mtlrt/Report.h"
#include "report/RunHistory.h"

#include <gtest/gtest.h>

#include <cmath>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace mtlrt;
namespace fs = std::filesystem;

namespace {

// Two tasks whose names need escaping, three epochs with balancing
// statistics; epoch 2's accuracy is NaN (null) and epoch 3's r2 is absent.
const char *kLog =
    R"({"type":"start","model":"toy","balance":"pcgrad","tasks":[{"name":"a<b","kind":"classify","weight":1.0,"auxiliary":false},{"name":"c&d","kind":"regress","weight":0.5,"auxiliary":true}]}
{"type":"step","epoch":1,"step":1,"loss":2.5,"tasks":{"a<b":{"loss":1.5,"labelled":8},"c&d":{"loss":2.0,"labelled":8}}}
{"type":"epoch","epoch":1,"steps":4,"seconds":0.01,"lr":0.01,"loss":2.25,"penalty":0.0,"tasks":{"a<b":{"loss":1.25,"labelled":32},"c&d":{"loss":2.0,"labelled":32}},"val":{"loss":2.125,"penalty":0.0,"rows":8,"tasks":{"a<b":{"loss":1.125,"labelled":8,"accuracy":0.375},"c&d":{"loss":2.0,"labelled":8,"r2":-0.5}}},"balance":{"weights":{"a<b":1.0,"c&d":0.5},"grad_norms":{"a<b":0.8,"c&d":0.4},"cosines":{"a<b,c&d":-0.25},"conflicts":{"a<b,c&d":0.75}}}
{"type":"epoch","epoch":2,"steps":8,"seconds":0.01,"lr":0.01,"loss":1.5,"penalty":0.0,"tasks":{"a<b":{"loss":0.75,"labelled":32},"c&d":{"loss":1.5,"labelled":32}},"val":{"loss":1.625,"penalty":0.0,"rows":8,"tasks":{"a<b":{"loss":0.8125,"labelled":8,"accuracy":null},"c&d":{"loss":1.625,"labelled":8,"r2":0.125}}},"balance":{"weights":{"a<b":1.25,"c&d":0.5},"grad_norms":{"a<b":0.6,"c&d":0.3},"cosines":{"a<b,c&d":0.125},"conflicts":{"a<b,c&d":0.25}}}
{"type":"epoch","epoch":3,"steps":12,"seconds":0.01,"lr":0.01,"loss":1.0,"penalty":0.0,"tasks":{"a<b":{"loss":0.5,"labelled":32},"c&d":{"loss":1.0,"labelled":32}},"val":{"loss":1.25,"penalty":0.0,"rows":8,"tasks":{"a<b":{"loss":0.625,"labelled":8,"accuracy":0.875},"c&d":{"loss":1.25,"labelled":8}}},"balance":{"weights":{"a<b":1.5,"c&d":0.5},"grad_norms":{"a<b":0.4,"c&d":0.2},"cosines":{"a<b,c&d":0.375},"conflicts":{"a<b,c&d":0.0}}}
{"type":"end","epochs":3,"steps":12,"seconds":0.03,"best_epoch":3,"kept_epoch":3,"stopped_early":false}
)";

const char *kSummary = R"({"model": "toy", "status": "finished", "epochs": 3, "steps": 12,
  "seconds": 0.03, "monitor": "loss", "best_epoch": 3, "kept_epoch": 3,
  "kept": {"epoch": 3, "checkpoint": "best.safetensors",
           "train": {"loss": 1.0, "penalty": 0.0, "rows": 32, "tasks": {"a<b": {"loss": 0.5, "labelled": 32}, "c&d": {"loss": 1.0, "labelled": 32}}},
           "validation": {"loss": 1.25, "penalty": 0.0, "rows": 8, "tasks": {"a<b": {"loss": 0.625, "labelled": 8, "accuracy": 0.875}, "c&d": {"loss": 1.25, "labelled": 8}}}},
  "last": {"epoch": 3, "checkpoint": "last.safetensors"},
  "test": {"loss": 1.5, "penalty": 0.0, "rows": 10, "tasks": {"a<b": {"loss": 0.75, "labelled": 10, "accuracy": 0.7}, "c&d": {"loss": 1.75, "labelled": 10, "r2": 0.3}}}}
)";

const char *kConfig = R"({"model": "toy", "source_hash": "abc", "data": {"train": "toy.csv"},
  "settings": {"epochs": 3, "lr": 0.009999999776482582, "log": ""}})";

class HtmlReportTest : public ::testing::Test {
protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("mtl_report_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  void write(const fs::path &path, const std::string &text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }
  // The report of `folder`, checked well-formed, with as many <svg> as <figure>.
  std::string report(const fs::path &folder, int figures) {
    Result<std::string> html = htmlReport(folder.string());
    EXPECT_TRUE(html.ok()) << (html ? "" : html.error());
    if (!html)
      return "";
    mtltest::XmlCheck check = mtltest::checkXml(*html);
    EXPECT_EQ(check.error, "");
    EXPECT_EQ(check.counts["svg"], figures);
    EXPECT_EQ(check.counts["figure"], figures);
    EXPECT_EQ(check.counts["script"], 0);
    return *html;
  }
  std::string error(const fs::path &folder) {
    Result<std::string> html = htmlReport(folder.string());
    EXPECT_FALSE(html.ok());
    return html ? "" : html.error();
  }
};

// The cells of a table row as HtmlPage writes them.
std::string row(const std::vector<std::string> &cells, size_t textColumns) {
  std::string out = "<tr>";
  for (size_t c = 0; c < cells.size(); ++c)
    out += (c < textColumns ? "<td>" : "<td class=\"n\">") + cells[c] + "</td>";
  return out + "</tr>";
}

} // namespace

TEST_F(HtmlReportTest, RunFolderPlotsEveryCurveOnce) {
  write(dir / "log.jsonl", kLog);
  write(dir / "summary.json", kSummary);
  write(dir / "config.json", kConfig);
  // Total loss; a<b: loss, accuracy; c&d: loss, r2; weights, gradient norms, cosines.
  std::string html = report(dir, 8);
  EXPECT_EQ(html.find("a<b"), std::string::npos);
  EXPECT_EQ(html.find("c&d"), std::string::npos);
  EXPECT_NE(html.find("<h3>a&lt;b (classify)</h3>"), std::string::npos);
  EXPECT_NE(html.find("<h3>c&amp;d (regress, auxiliary)</h3>"), std::string::npos);
  EXPECT_NE(html.find("a&lt;b / c&amp;d"), std::string::npos); // the heat map's row
  EXPECT_NE(html.find("balance pcgrad"), std::string::npos);
  EXPECT_EQ(html.find(">Gates</h2>"), std::string::npos); // the log has no gates
  // The config's float settings as people write them.
  EXPECT_NE(html.find("<td>0.01</td>"), std::string::npos);
}

TEST_F(HtmlReportTest, TablesHoldTheLogsNumbers) {
  write(dir / "log.jsonl", kLog);
  write(dir / "summary.json", kSummary);
  std::string html = report(dir, 8);
  // Every epoch: epoch, lr, losses, then per task train and val loss and val metrics.
  const std::string v = formatValue(0.01);
  EXPECT_NE(html.find(row({"1", v, "2.2500", "2.1250", "1.2500", "1.1250", "0.3750", "2.0000",
                           "2.0000", "-0.5000"},
                          1)),
            std::string::npos)
      << html;
  EXPECT_NE(
      html.find(row(
          {"2", v, "1.5000", "1.6250", "0.7500", "0.8125", "-", "1.5000", "1.6250", "0.1250"}, 1)),
      std::string::npos);
  EXPECT_NE(
      html.find(row(
          {"3", v, "1.0000", "1.2500", "0.5000", "0.6250", "0.8750", "1.0000", "1.2500", "-"}, 1)),
      std::string::npos);
  // The summary: kept training and validation, and the test (its r2 only there).
  EXPECT_NE(html.find(row({"a&lt;b", "accuracy", "-", "0.8750", "0.7000"}, 2)), std::string::npos);
  EXPECT_NE(html.find(row({"c&amp;d", "r2", "-", "-", "0.3000"}, 2)), std::string::npos);
  EXPECT_NE(html.find(row({"total", "loss", "1.0000", "1.2500", "1.5000"}, 2)), std::string::npos);

  // A task no row of an epoch labelled (the log writes loss 0, labelled 0)
  // shows no loss there, not 0.0000.
  std::string unlabelled = kLog;
  const std::string was = R"("c&d":{"loss":1.5,"labelled":32})";
  unlabelled.replace(unlabelled.find(was), was.size(), R"("c&d":{"loss":0.0,"labelled":0})");
  write(dir / "log.jsonl", unlabelled);
  html = report(dir, 8);
  EXPECT_NE(html.find(row(
                {"2", v, "1.5000", "1.6250", "0.7500", "0.8125", "-", "-", "1.6250", "0.1250"}, 1)),
            std::string::npos)
      << html;
}

TEST_F(HtmlReportTest, GatesGetAChartEachWithALinePerExpert) {
  // Every epoch record gains two gates: one of task a<b, one that several tasks read.
  std::string log = kLog;
  const std::string gates[] = {
      R"(,"gates":{"g<1":{"task":"a<b","experts":{"e1":0.25,"e&2":0.75}},"g2":{"task":null,"experts":{"x":0.5,"y":0.25,"z":0.25}}}})",
      R"(,"gates":{"g<1":{"task":"a<b","experts":{"e1":0.125,"e&2":0.875}},"g2":{"task":null,"experts":{"x":0.5,"y":0.5,"z":0.0}}}})",
      R"(,"gates":{"g<1":{"task":"a<b","experts":{"e1":0.0625,"e&2":0.9375}},"g2":{"task":null,"experts":{"x":0.25,"y":0.5,"z":0.25}}}})"};
  size_t at = 0;
  for (const std::string &g : gates) {
    at = log.find("\"type\":\"epoch\"", at);
    at = log.find('\n', at) - 1; // the record's closing brace
    log.replace(at, 1, g);
    at += g.size();
  }
  write(dir / "log.jsonl", log);
  Result<report::RunHistory> h = report::readRunHistory((dir / "log.jsonl").string());
  ASSERT_TRUE(h.ok()) << h.error();
  ASSERT_EQ(h->epochs.size(), 3u);
  ASSERT_EQ(h->epochs[1].gates.size(), 2u);
  EXPECT_EQ(h->epochs[1].gates[0].name, "g<1");
  EXPECT_EQ(h->epochs[1].gates[0].task, "a<b");
  EXPECT_EQ(h->epochs[1].gates[1].task, ""); // null: several tasks
  EXPECT_EQ(report::valueOf(h->epochs[1].gates[0].experts, "e&2"), 0.875);
  EXPECT_EQ(report::valueOf(h->epochs[2].gates[1].experts, "y"), 0.5);
  // The eight charts of the log without gates, and one per gate.
  std::string html = report(dir, 10);
  EXPECT_NE(html.find("\">Gates</h2>"), std::string::npos);
  EXPECT_NE(html.find("g&lt;1 (a&lt;b)"), std::string::npos);
  EXPECT_NE(html.find("g2 (several tasks)"), std::string::npos);
  for (const char *expert : {">e1<", ">e&amp;2<", ">x<", ">y<", ">z<"})
    EXPECT_NE(html.find(expert), std::string::npos) << expert;
}

TEST_F(HtmlReportTest, ASingleEpochIsADot) {
  std::string log = kLog;
  log = log.substr(0, log.find("{\"type\":\"epoch\",\"epoch\":2"));
  write(dir / "log.jsonl", log);
  std::string html = report(dir, 8);
  EXPECT_NE(html.find("<circle"), std::string::npos);
  EXPECT_NE(html.find("There is no summary.json"), std::string::npos);
}

TEST_F(HtmlReportTest, ALongRunsTableKeepsAtMost2000EpochsTheLastAmongThem) {
  // Epoch records as kLog's first, numbered 1..n.
  const std::string log = kLog, start = log.substr(0, log.find('\n') + 1);
  const size_t at = log.find("{\"type\":\"epoch\",\"epoch\":1,");
  const std::string epoch = log.substr(at, log.find('\n', at) + 1 - at);
  auto rowsOf = [&](int epochs) {
    std::string text = start;
    for (int e = 1; e <= epochs; ++e)
      text += "{\"type\":\"epoch\",\"epoch\":" + std::to_string(e) +
              epoch.substr(epoch.find(",\"steps\""));
    write(dir / "log.jsonl", text);
    Result<std::string> html = htmlReport(dir.string());
    EXPECT_TRUE(html.ok()) << (html ? "" : html.error());
    const std::string table = html ? html->substr(html->find("<details>")) : "";
    int rows = -1; // less the header's row
    for (size_t k = table.find("<tr>"); k != std::string::npos; k = table.find("<tr>", k + 1))
      ++rows;
    return std::make_pair(table.substr(0, table.find("</summary>")), rows);
  };
  for (int n : {0, 3, 2000}) {
    auto [title, rows] = rowsOf(n);
    EXPECT_NE(title.find("Every epoch&#39;s numbers (" + std::to_string(n) + " epochs)"),
              std::string::npos)
        << title;
    EXPECT_EQ(rows, n);
  }
  for (int n : {2001, 3999, 4000, 200000 / 50}) {
    auto [title, rows] = rowsOf(n);
    EXPECT_LE(rows, 2000) << n;
    EXPECT_GE(rows, 1000) << n;
    EXPECT_NE(title.find("(" + std::to_string(n) + " epochs; the log holds them all)"),
              std::string::npos)
        << title;
  }
}

TEST_F(HtmlReportTest, TheLogMayLieElsewhere) {
  write(dir / "elsewhere" / "run.jsonl", kLog);
  write(dir / "run" / "config.json", R"({"model": "toy", "settings": {"log": ")" +
                                         (dir / "elsewhere" / "run.jsonl").string() + "\"}}");
  // The page says which log it read, since another run may have written it.
  const std::string html = report(dir / "run", 8);
  EXPECT_NE(html.find("the epochs below come from " + (dir / "elsewhere" / "run.jsonl").string()),
            std::string::npos);
  // A folder with its own log.jsonl says nothing of the kind.
  write(dir / "run" / "log.jsonl", kLog);
  EXPECT_EQ(report(dir / "run", 8).find("the epochs below come from"), std::string::npos);
}

TEST_F(HtmlReportTest, ErrorsNameTheFileAndLine) {
  EXPECT_EQ(error(dir / "nothing"), (dir / "nothing").string() + ": no such folder");
  EXPECT_NE(error(dir).find("neither a run folder"), std::string::npos);
  write(dir / "file", "x");
  EXPECT_NE(error(dir / "file").find("not a folder"), std::string::npos);

  const std::string log = (dir / "log.jsonl").string();
  std::string text = kLog;
  write(log, text.substr(0, text.find("\n") + 1) + "{\"type\":\"epoch\",\"epoch\":1,\n");
  EXPECT_EQ(error(dir), log + ":2: not valid JSON (at byte 27)");
  write(log, "{\"type\":\"epoch\",\"epoch\":1e999}\n");
  EXPECT_EQ(error(dir),
            log + ":1: not valid JSON (the number '1e999' is beyond the range of a double)");
  write(log, "{\"type\":\"epoch\",\"epoch\":1,\"tasks\":{},\"val\":{\"loss\":\"low\"}}\n");
  EXPECT_EQ(error(dir), log + ":1: val.loss is text, not a number");
  write(log, "\n[1, 2]\n");
  EXPECT_EQ(error(dir), log + ":2: a record is a JSON object, not a list");
  write(log, "{\"type\":\"epoch\",\"tasks\":{}}\n");
  EXPECT_EQ(error(dir), log + ":1: an epoch record needs its \"epoch\", a whole number from 1");
  write(log, "{\"epoch\":1}\n");
  EXPECT_EQ(error(dir), log + ":1: a record needs its \"type\"");
  fs::remove(log);
  write(dir / "summary.json", kSummary);
  EXPECT_NE(error(dir).find(log + ": cannot read"), std::string::npos);

  write(log, kLog);
  Status unwritable = writeHtmlReport(dir.string(), (dir / "no" / "such" / "r.html").string());
  ASSERT_FALSE(unwritable.ok());
  EXPECT_NE(unwritable.error().find("cannot write the report"), std::string::npos);
  ASSERT_TRUE(writeHtmlReport(dir.string(), (dir / "r.html").string()).ok());
  EXPECT_TRUE(fs::exists(dir / "r.html"));
  // A page replaces a page (and an empty file), never other work.
  ASSERT_TRUE(writeHtmlReport(dir.string(), (dir / "r.html").string()).ok());
  write(dir / "empty.html", "");
  ASSERT_TRUE(writeHtmlReport(dir.string(), (dir / "empty.html").string()).ok());
  write(dir / "last.safetensors", "a checkpoint's bytes");
  Status over = writeHtmlReport(dir.string(), (dir / "last.safetensors").string());
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error(), "cannot write the report to " + (dir / "last.safetensors").string() +
                              ": it exists and is not an HTML page; name another file with -o");
  // The default page's name taken by a folder: no -o was given to blame.
  fs::create_directories(dir / "report.html");
  Status folder = writeHtmlReport(dir.string(), (dir / "report.html").string());
  ASSERT_FALSE(folder.ok());
  EXPECT_EQ(folder.error(), "cannot write the report to " + (dir / "report.html").string() +
                                ": it is a folder; move it away, or write the page elsewhere");
}

namespace {

const char *kExperiment = R"({"model": "toy", "source_hash": "abc", "seeds": 2, "folds": 2,
  "metric": "a<b.accuracy", "baselines": "single_task",
  "tasks": [{"name": "a<b", "metric": "accuracy", "higher_is_better": true},
            {"name": "c&d", "metric": "mse", "higher_is_better": false}]})";

const char *kRuns =
    R"({"key": "mtl/seed1", "config": "mtl", "seed": 1, "weights": {"a<b": 1, "c&d": 0.5}, "balance": "static", "lr": 0.01, "seconds": 0.5, "epochs": 3, "scores": {"a<b": {"loss": 0.6, "accuracy": 0.9}, "c&d": {"loss": 1.1, "mse": 1.1}}, "log": "runs/mtl-seed1/log.jsonl"}
{"key": "mtl/seed0", "config": "mtl", "seed": 0, "weights": {"a<b": 1, "c&d": 0.5}, "balance": "static", "lr": 0.01, "seconds": 0.5, "epochs": 3, "scores": {"a<b": {"loss": 0.7, "accuracy": 0.8}, "c&d": {"loss": 1.2, "mse": 1.2}}, "log": "runs/mtl-seed0/log.jsonl"}
{"key": "stl:a<b/seed0", "config": "stl:a<b", "seed": 0, "weights": {"a<b": 1, "c&d": 0}, "balance": "static", "lr": 0.01, "seconds": 0.25, "epochs": 3, "scores": {"a<b": {"loss": 0.8, "accuracy": 0.7}}, "log": "runs/stl:a<b-seed0/log.jsonl"}
{"key": "search/p0/f0", "config": "search", "point": 0, "fold": 0, "seed": 0, "weights": {"a<b": 1, "c&d": 1}, "balance": "static", "lr": 0.01, "seconds": 0.25, "epochs": 3, "scores": {"a<b": {"loss": 0.8, "accuracy": 0.75}}}
)";

const char *kResults = R"({"model": "toy", "seconds": 12.5, "seeds": 2,
  "tasks": [{"name": "a<b", "metric": "accuracy", "higher_is_better": true,
             "mtl": {"mean": 0.85, "std": 0.0707, "values": [0.8, 0.9]},
             "stl": {"mean": 0.75, "std": 0.0707, "values": [0.7, 0.8]},
             "difference": {"mean": 0.1, "ci95": [-0.02, 0.22], "p": 0.04}},
            {"name": "c&d", "metric": "mse", "higher_is_better": false,
             "mtl": {"mean": 1.15, "std": 0.0707, "values": [1.2, 1.1]},
             "stl": {"mean": 1.25, "std": 0.0707, "values": [1.3, 1.2]},
             "difference": {"mean": -0.1, "ci95": [-0.3, 0.1], "p": 0.5}}],
  "delta_m": {"mean": 10.667, "std": 1.5, "values": [9.6, 11.7]},
  "search": {"metric": "a<b.accuracy", "higher_is_better": true, "folds": 2,
             "points": [{"weights": {"a<b": 1, "c&d": 1}, "balance": "static", "lr": 0.01, "mean": 0.7, "std": 0.05, "folds": [0.65, 0.75]},
                        {"weights": {"a<b": 1, "c&d": 0.5}, "balance": "static", "lr": 0.01, "mean": 0.8, "std": 0.02, "folds": [0.78, 0.82]},
                        {"weights": {"a<b": 1, "c&d": 0}, "balance": "static", "lr": 0.01, "mean": 0.75, "std": 0.1, "folds": [0.65, 0.85]}],
             "chosen": 1}})";

} // namespace

TEST_F(HtmlReportTest, ExperimentComparesSearchesAndShowsTheFirstSeedsCurves) {
  write(dir / "experiment.json", kExperiment);
  write(dir / "runs.jsonl", kRuns);
  write(dir / "results.json", kResults);
  write(dir / "runs/mtl-seed0/log.jsonl", kLog);
  write(dir / "runs/stl:a<b-seed0/log.jsonl", kLog);
  // Two tasks' bars, the search, the curves of mtl/seed0 (8, as a run folder's),
  // and a<b's validation loss beside its single-task run's.
  std::string html = report(dir, 2 + 1 + 8 + 1);
  EXPECT_EQ(html.find("a<b"), std::string::npos);
  EXPECT_NE(html.find("Δm = +10.67% ± 1.50% (mean ± std over 2 seeds)"), std::string::npos);
  EXPECT_NE(
      html.find(row({"a&lt;b", "accuracy (higher is better)", "0.8500 ± 0.0707", "0.7500 ± 0.0707",
                     "0.1000", "[-0.0200, +0.2200]", "0.0400", "0.8000, 0.9000"},
                    2)),
      std::string::npos);
  // The chosen point (counted from 0 in results.json) is marked, in the table and the plot.
  EXPECT_NE(html.find("<tr class=\"marked\"><td>2 (chosen)</td>"), std::string::npos);
  EXPECT_NE(html.find(">chosen</text>"), std::string::npos);
  EXPECT_NE(html.find("Losses (mtl/seed0)"), std::string::npos);
  EXPECT_NE(html.find("Every run (4)"), std::string::npos);
}

TEST(FormatDuration, EveryNumberReadsAsATime) {
  EXPECT_EQ(formatDuration(0.0004), "0.4 ms");
  EXPECT_EQ(formatDuration(125), "2 min 05 s");
  EXPECT_EQ(formatDuration(3720), "1 h 02 min");
  // What a summary written by another tool, or by hand, may hold.
  for (double bad : {-3.0, std::nan(""), HUGE_VAL, -HUGE_VAL})
    EXPECT_EQ(formatDuration(bad), "an unknown time") << bad;
  EXPECT_EQ(formatDuration(1e30), "2.78e+26 h");
}

TEST_F(HtmlReportTest, AResultsFileThatIsNoResultsIsAnError) {
  write(dir / "experiment.json", kExperiment);
  write(dir / "runs.jsonl", kRuns);
  for (const char *text : {"null", "[]", "{\"seconds\": 3}"}) {
    write(dir / "results.json", text);
    EXPECT_EQ(error(dir), (dir / "results.json").string() +
                              ": not the results an experiment writes (a JSON object with its "
                              "\"tasks\")")
        << text;
  }
  write(dir / "experiment.json", "[]");
  EXPECT_EQ(error(dir), (dir / "experiment.json").string() + ": not a JSON object");
}

TEST_F(HtmlReportTest, AnUnfinishedExperimentShowsItsRuns) {
  write(dir / "experiment.json", kExperiment);
  EXPECT_NE(error(dir).find("no results.json, and runs.jsonl holds no finished run yet"),
            std::string::npos);
  write(dir / "runs.jsonl", kRuns);
  // Without logs: no plot, the runs' table only.
  std::string html = report(dir, 0);
  EXPECT_NE(html.find("There is no results.json"), std::string::npos);
  EXPECT_NE(html.find(row({"mtl/seed1", "mtl", "a&lt;b=1 c&amp;d=0.5 static lr 0.01", "1", "-",
                           "0.50", "3", "0.9000", "1.1000"},
                          3)),
            std::string::npos);
  write(dir / "runs.jsonl", std::string(kRuns) + "{\"key\": \"x\", \"config\": \"mtl\", "
                                                 "\"seed\": \"one\"}\n");
  EXPECT_EQ(error(dir), (dir / "runs.jsonl").string() + ":5: seed is text, not a whole number");
}
