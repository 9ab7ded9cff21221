// CmdFmt.cpp: `mtlc fmt [--check] FILE...`: canonical formatting.
#include "driver/Commands.h"
#include "driver/Terminal.h"
#include "frontend/Formatter.h"
#include "frontend/Imports.h"
#include "frontend/Parser.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace mtl::driver {
namespace {

bool writeFile(const std::string &path, const std::string &text, std::string &error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out)
    error = "cannot write " + path;
  return bool(out);
}

// Replaces the text of the file `path` names: the file a symbolic link points
// to, with its permissions and owner kept. A file of one name is replaced
// atomically (a new file renamed over it), so an interrupted run never leaves
// half a file; one of several names (hard links) is rewritten in place, so
// that every name still shows the same file.
bool writeFormatted(const std::string &path, const std::string &text, std::string &error) {
  std::error_code ec;
  const std::string target = std::filesystem::canonical(path, ec).string();
  struct stat st {};
  if (ec || ::stat(target.c_str(), &st) != 0) {
    error = ec ? ec.message() : std::strerror(errno);
    return false;
  }
  if (st.st_nlink > 1)
    return writeFile(target, text, error);
  const std::string tmp = target + ".mtlc-fmt.tmp";
  if (!writeFile(tmp, text, error))
    return false;
  // The owner can only be kept by a privileged user; the mode always.
  if (::chmod(tmp.c_str(), st.st_mode & 07777) != 0 ||
      (::chown(tmp.c_str(), st.st_uid, st.st_gid) != 0 && errno != EPERM))
    error = std::strerror(errno);
  else
    std::filesystem::rename(tmp, target, ec);
  if (!error.empty() || ec) {
    if (error.empty())
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
      } else if (!writeFormatted(path, formatted, error)) {
        fmt::print(stderr, "error: cannot write '{}': {}\n", path, error);
        status = 1;
      }
    }
  });
}

} // namespace mtl::driver
