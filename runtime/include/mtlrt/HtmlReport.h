// HtmlReport.h: `mtlc report` and `train --report`: a run or an experiment as one HTML page.
//
// The page is self-contained: inline CSS, plots as inline SVG (Plot.h), no
// script and nothing fetched from the network, so it can be mailed, archived
// or opened offline. docs/reports.md shows what it holds.
#pragma once

#include "mtlrt/Result.h"

#include <string>

namespace mtlrt {

/// The report of `folder`: a run folder (RunFolder.h: its log, summary.json
/// and config.json) or an experiment folder (experiment.json, results.json,
/// runs.jsonl and the runs' logs). Fails when `folder` is neither, and on a
/// file that does not read or a malformed record, naming the file and line.
Result<std::string> htmlReport(const std::string &folder);

/// htmlReport(folder) written to `output` (writeOutputFile: atomically, or
/// to a device such as /dev/stdout); never over a file the report reads
/// (distinctOutput, with the flag "-o") nor over a file that is not empty
/// and not an HTML page (a checkpoint, a log).
Status writeHtmlReport(const std::string &folder, const std::string &output);

} // namespace mtlrt
