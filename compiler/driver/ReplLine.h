// ReplLine.h: how the REPL reads its input: libedit on a terminal, plain lines otherwise.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mtl::driver {

/// Offers completions for `word`, the word under the cursor; `before` is the
/// line's text before that word (it tells a command's arguments apart).
using Completer =
    std::function<std::vector<std::string>(const std::string &before, const std::string &word)>;
/// What a Completer returns to ask for file names instead.
inline const std::string kCompletePaths = "\x01paths";

/// Reads lines. On a terminal: libedit with history (loaded from and saved to
/// `historyPath`, when not empty) and tab completion. Otherwise: plain lines,
/// each echoed after its prompt on standard output, so a piped session
/// prints as a transcript. One LineReader per process (libedit's state is global).
class LineReader {
public:
  LineReader(bool interactive, std::string historyPath, Completer complete);
  ~LineReader();
  LineReader(const LineReader &) = delete;
  LineReader &operator=(const LineReader &) = delete;

  /// The next line without its line break; nullopt at the end of the input.
  std::optional<std::string> read(const std::string &prompt);
  /// Adds a (possibly multi-line) entry to the history.
  void remember(const std::string &entry);
  bool interactive() const { return interactive_; }

private:
  bool interactive_;
  std::string historyPath_;
};

} // namespace mtl::driver
