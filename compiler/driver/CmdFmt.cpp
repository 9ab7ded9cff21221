// CmdFmt.cpp: `mtlc fmt [--check] FILE...`: canonical formatting.
#include "driver/Commands.h"
#include "driver/Terminal.h"
#include "frontend/Formatter.h"
#include "frontend/Imports.h"
#include "frontend/Parser.h"

#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>

namespace mtl::driver {
namespace {

// Replaces `path` atomically, so an interrupted run never leaves half a file.
bool writeAtomically(const std::string &path, const std::string &text, std::string &error) {
  std::string tmp = path + ".mtlc-fmt.tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      error = "cannot write " + tmp;
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    error = ec.message();
    std::filesystem::remove(tmp, ec);
    return false;
  }
  return true;
}

} // namespace

void addFmtCommand(CLI::App &app, const GlobalOptions &global, int &status) {
  struct Options {
    std::vector<std::string> files;
    bool check = false;
    bool toStdout = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App *cmd = app.add_subcommand("fmt", "Format .mtl files canonically (in place)");
  cmd->add_option("files", opts->files, ".mtl files")->required();
  cmd->add_flag("--check", opts->check,
                "Change nothing; exit 1 and name the files that are not formatted");
  cmd->add_flag("--stdout", opts->toStdout, "Print the formatted text instead of rewriting");
  cmd->callback([opts, &global, &status] {
    bool color = useColor(global.color, stderr);
    for (const std::string &path : opts->files) {
      SourceManager sources;
      DiagnosticEngine diags(sources);
      std::string error;
      std::optional<std::string> text = readFile(path, error);
      if (!text) {
        fmt::print(stderr, "error: cannot read '{}': {}\n", path, error);
        status = 1;
        continue;
      }
      int id = sources.add(path, *text);
      std::optional<ast::File> file = parseFile(sources, id, diags);
      diags.flush(stderr, color);
      if (!file) {
        status = 1;
        continue;
      }
      std::string formatted = formatFile(*file, sources);
      if (opts->toStdout) {
        fmt::print("{}", formatted);
      } else if (formatted == *text) {
        continue;
      } else if (opts->check) {
        fmt::print(stderr, "{}: not formatted (run 'mtlc fmt {}')\n", path, path);
        status = 1;
      } else if (!writeAtomically(path, formatted, error)) {
        fmt::print(stderr, "error: cannot write '{}': {}\n", path, error);
        status = 1;
      }
    }
  });
}

} // namespace mtl::driver
