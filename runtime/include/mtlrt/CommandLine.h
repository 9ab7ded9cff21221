// CommandLine.h: parsing a command line and running its command, for mtlc and built programs
// alike, so that neither ends with a lost output and exit status 0.
//
// Header-only: mtlc's front end (check, fmt, shapes) links no runtime library.
#pragma once

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <system_error>

namespace mtlrt {

/// Parses `argv` into `app`, whose callbacks run the command and set
/// `status`; returns the exit status: 2 for a usage error (0 for --help and
/// --version), 1 when the output could not be written (a full disk behind
/// `> file`, a closed pipe), else `status`.
inline int runCommandLine(CLI::App &app, int argc, char **argv, const int &status) {
  std::optional<int> parseExit;
  errno = 0;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    parseExit = app.exit(e) == 0 ? 0 : 2; // --help and --version print to std::cout
  } catch (const std::system_error &e) {  // fmt::print's failed write
    std::fprintf(stderr, "error: cannot write the output: %s\n", e.code().message().c_str());
    return 1;
  }
  if (!std::cout.flush() || std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "error: cannot write the output: %s\n",
                 errno != 0 ? std::strerror(errno) : "a write failed");
    return 1;
  }
  return parseExit.value_or(status);
}

} // namespace mtlrt
