// ReplCommands.h: the REPL's `:` commands and the loop that reads them.
#pragma once

#include "repl/ReplSession.h"

#include <string>
#include <vector>

namespace mtl::driver {

/// How `mtlc repl` was started.
struct ReplOptions {
  std::string file;  ///< loaded first when not empty
  std::string model; ///< which model of the file
  std::string targetCpu = "native";
  bool color = false;
  bool stopOnError = false; ///< a script ends at its first input that fails
};

/// What one input did.
enum class ReplOutcome {
  Done,   ///< it ran (or was empty)
  Failed, ///< it failed, saying why
  Quit    ///< :quit: the session ends
};

/// The command names, with their colon (":load", ...), for help and completion.
const std::vector<std::string> &replCommandNames();

/// Runs one complete input: a `:` command, or model items.
ReplOutcome runReplInput(ReplSession &session, const std::string &input);

/// Reads and runs inputs until :quit or the end of the input (or, with
/// stopOnError, a script's first failure). The exit status: 0, or 1 when
/// standard input is not a terminal and an input failed (the loading of
/// options.file included), which is then said on standard error with the
/// line each failed input starts on.
int runRepl(const ReplOptions &options);

} // namespace mtl::driver
