// ReplLine.h: how the REPL reads its input: libedit on a terminal, plain lines otherwise.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace mtl::driver {

/// Offers completions for `word`, the word under the cursor; `before` is the
/// line's text before that word (it tells a command's arguments apart).
using Completer =
    std::function<std::vector<std::string>(const std::string &before, const std::string &word)>;
/// What a Completer returns to ask for file names instead.
inline const std::string kCompletePaths = "\x01paths";

/// What one LineReader::read got.
struct ReadResult {
  enum Kind {
    Line,        ///< a line, in `line` without its line break
    Interrupted, ///< Ctrl-C at the prompt: the line typed so far is dropped
    End          ///< the end of the input (Ctrl-D on an empty line)
  };
  Kind kind = End;
  std::string line;
};

/// Reads lines. On a terminal: libedit with history (loaded from and saved to
/// `historyPath`, when not empty) and tab completion; Ctrl-C (replInterrupted()
/// set while waiting for a key, so an InterruptHandler must be installed)
/// abandons the line. Otherwise: plain lines, each echoed after its prompt on
/// standard output, so a piped session prints as a transcript. One LineReader
/// per process (libedit's state is global).
class LineReader {
public:
  LineReader(bool interactive, std::string historyPath, Completer complete);
  ~LineReader();
  LineReader(const LineReader &) = delete;
  LineReader &operator=(const LineReader &) = delete;

  /// The next line, Ctrl-C, or the end of the input. On a terminal, Ctrl-C
  /// prints "^C" and ends the line, so the next prompt starts on a fresh one.
  ReadResult read(const std::string &prompt);
  /// Adds a (possibly multi-line) entry to the history.
  void remember(const std::string &entry);
  bool interactive() const { return interactive_; }

private:
  bool interactive_;
  std::string historyPath_;
};

} // namespace mtl::driver
