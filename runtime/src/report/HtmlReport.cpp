// HtmlReport.cpp: telling a run folder from an experiment folder, and writing the page.
#include "mtlrt/HtmlReport.h"

#include "mtlrt/AtomicFile.h"
#include "report/Sections.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>

namespace mtlrt {
namespace {

/// Whether the file at `path` is empty or begins as an HTML page does
/// ("<!DOCTYPE html", "<html" or a comment, in any case, after a byte-order
/// mark and blanks).
bool isHtmlPage(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::string start(64, '\0');
  in.read(start.data(), std::streamsize(start.size()));
  start.resize(size_t(in.gcount()));
  if (start.starts_with("\xEF\xBB\xBF"))
    start.erase(0, 3);
  start.erase(0, std::min(start.size(), start.find_first_not_of(" \t\r\n")));
  std::transform(start.begin(), start.end(), start.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return start.empty() || start.starts_with("<!doctype html") || start.starts_with("<html") ||
         start.starts_with("<!--");
}

} // namespace

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
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(output, ec)) {
    const bool named = fs::path(output).filename() != "report.html";
    return fail(fmt::format("cannot write the report to {}: it is a folder; {}", output,
                            named ? fmt::format("name the file to write (-o), such as {}",
                                                (fs::path(output) / "report.html").string())
                                  : std::string("move it away, or write the page elsewhere")));
  }
  // Never over a file the page was made from (a log the run wrote elsewhere too).
  const bool experiment = fs::exists(fs::path(folder) / "experiment.json");
  if (Status s = distinctOutput(
          output, experiment ? report::experimentInputs(folder) : report::runFolderInputs(folder),
          "-o");
      !s)
    return s;
  // A page replaces only a page: never a checkpoint, a log or other work.
  if (fs::is_regular_file(output, ec) && !isHtmlPage(output))
    return fail(fmt::format("cannot write the report to {}: it exists and is not an HTML page; "
                            "name another file with -o",
                            output));
  return writeOutputFile(output, *html, "the report");
}

} // namespace mtlrt
