// Sections.h: the parts of the HTML reports, shared by the run and the experiment reports.
#pragma once

#include "mtlrt/Result.h"
#include "report/HtmlPage.h"
#include "report/RunHistory.h"

#include <string>

namespace mtlrt::report {

/// The tasks of a log in order: its start record's, else its first epoch's.
std::vector<std::string> taskNames(const RunHistory &history);

/// The plots of a log, in sections: the total loss (and the learning rate
/// when it changed), each task's loss and metrics on the training and
/// validation data, and the balancing (task weights, gradient norms, the
/// gradient-cosine heat map) and each mix gate's mean weights on its experts,
/// when the epochs recorded them. `whose`, when not
/// empty, names the run in the section titles ("Losses (mtl/seed0)").
void addRunPlots(HtmlPage &page, const RunHistory &history, const std::string &whose = "");

/// Every epoch's losses and validation metrics as one table, folded.
void addEpochTable(HtmlPage &page, const RunHistory &history);

/// A number for a table: Report.h's formatValue.
std::string cell(double value);

/// The report of a run folder (what `train` writes: RunFolder.h).
Result<std::string> runFolderReport(const std::string &folder);
/// The files runFolderReport reads: config.json, summary.json and the log
/// (in the folder, or where config.json says the run wrote it: --log).
std::vector<std::string> runFolderInputs(const std::string &folder);

/// The report of an experiment folder (what `mtlc experiment` writes).
Result<std::string> experimentReport(const std::string &folder);
/// The files experimentReport reads: experiment.json, runs.jsonl,
/// results.json and the logs of the runs runs.jsonl lists; and results.csv,
/// which no report may replace either.
std::vector<std::string> experimentInputs(const std::string &folder);

} // namespace mtlrt::report
