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
};

/// The command names, with their colon (":load", ...), for help and completion.
const std::vector<std::string> &replCommandNames();

/// Runs one complete input: a `:` command, or model items. Returns false
/// when the session should end (:quit).
bool runReplInput(ReplSession &session, const std::string &input);

/// Reads and runs inputs until :quit or the end of the input; the exit status.
int runRepl(const ReplOptions &options);

} // namespace mtl::driver
