// HtmlReport.cpp: telling a run folder from an experiment folder, and writing the page.
#include "mtlrt/HtmlReport.h"

#include "mtlrt/AtomicFile.h"
#include "report/Sections.h"

#include <filesystem>
#include <fmt/format.h>

namespace mtlrt {

Result<std::string> htmlReport(const std::string &folder) {
  namespace fs = std::filesystem;
  const fs::path dir(folder);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return fail(fmt::format("{}: {}", folder,
                            fs::exists(dir, ec) ? "not a folder; give a run folder or an "
                                                  "experiment folder"
                                                : "no such folder"));
  if (fs::exists(dir / "experiment.json"))
    return report::experimentReport(folder);
  for (const char *file : {"log.jsonl", "summary.json", "config.json"})
    if (fs::exists(dir / file))
      return report::runFolderReport(folder);
  return fail(fmt::format("{}: neither a run folder (with log.jsonl, summary.json or config.json, "
                          "as train writes) nor an experiment folder (with experiment.json)",
                          folder));
}

Status writeHtmlReport(const std::string &folder, const std::string &output) {
  Result<std::string> html = htmlReport(folder);
  if (!html)
    return html.takeError();
  std::error_code ec;
  if (std::filesystem::is_directory(output, ec))
    return fail(fmt::format("-o {}: it is a folder; name the file to write, such as {}", output,
                            (std::filesystem::path(output) / "report.html").string()));
  // Never over a file the page was made from (a log the run wrote elsewhere too).
  const bool experiment =
      std::filesystem::exists(std::filesystem::path(folder) / "experiment.json");
  if (Status s = distinctOutput(
          output, experiment ? report::experimentInputs(folder) : report::runFolderInputs(folder),
          "-o");
      !s)
    return s;
  return writeFileAtomic(output, *html, "the report");
}

} // namespace mtlrt
