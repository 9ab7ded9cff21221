// CmdReport.cpp: `mtlc report PATH [-o FILE]`: a run or an experiment folder as one HTML page.
#include "driver/Commands.h"

#include "mtlrt/HtmlReport.h"

#include <filesystem>
#include <fmt/format.h>

namespace mtl::driver {
namespace {

struct ReportOptions {
  std::string path, output;
};

int runReport(const ReportOptions &o) {
  // The runtime writes the page, so that `train --report` of a built program writes the same.
  std::string output =
      o.output.empty() ? (std::filesystem::path(o.path) / "report.html").string() : o.output;
  if (mtlrt::Status s = mtlrt::writeHtmlReport(o.path, output); !s) {
    fmt::print(stderr, "error: {}\n", s.error());
    return 1;
  }
  fmt::print("report: {}\n", output);
  return 0;
}

} // namespace

void addReportCommand(CLI::App &app, const GlobalOptions &, int &status) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App *cmd = app.add_subcommand(
      "report", "Write one HTML page of plots and tables for a run folder or an experiment folder");
  cmd->add_option("path", o->path, "A run folder (runs/MODEL/N) or an experiment folder")
      ->required();
  cmd->add_option("-o,--output", o->output, "The HTML file to write (default: PATH/report.html)");
  cmd->callback([o, &status] { status = runReport(*o); });
}

} // namespace mtl::driver
