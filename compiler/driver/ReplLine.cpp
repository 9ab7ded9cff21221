// ReplLine.cpp: libedit (through its readline interface) for terminals, std::getline otherwise.
#include "driver/ReplLine.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <editline/readline.h>

namespace mtl::driver {
namespace {

// libedit's completion hooks are plain functions, so the completer and the
// current candidates live here for the one LineReader of the process.
Completer gComplete;
std::vector<std::string> gCandidates;

char *nextCandidate(const char *text, int state) {
  static size_t index;
  if (state == 0)
    index = 0;
  size_t len = std::strlen(text);
  while (index < gCandidates.size()) {
    const std::string &c = gCandidates[index++];
    if (c.compare(0, len, text) == 0)
      return strdup(c.c_str());
  }
  return nullptr;
}

// Files and folders whose path starts with `word`; folders end in '/'.
std::vector<std::string> pathsFor(const std::string &word) {
  size_t slash = word.rfind('/');
  std::string dir = slash == std::string::npos ? "" : word.substr(0, slash + 1);
  std::error_code ec;
  std::vector<std::string> out;
  for (const auto &entry : std::filesystem::directory_iterator(dir.empty() ? "." : dir, ec)) {
    std::string name = dir + entry.path().filename().string();
    if (entry.is_directory(ec))
      name += '/';
    out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

char **completeWord(const char *text, int start, int /*end*/) {
  rl_attempted_completion_over = 1;
  rl_completion_append_character = ' ';
  std::string before(rl_line_buffer, rl_line_buffer + start);
  gCandidates = gComplete ? gComplete(before, text) : std::vector<std::string>{};
  if (gCandidates.size() == 1 && gCandidates[0] == kCompletePaths) {
    gCandidates = pathsFor(text);
    rl_completion_append_character = '\0'; // a folder's path goes on after its '/'
  }
  return rl_completion_matches(text, nextCandidate);
}

} // namespace

LineReader::LineReader(bool interactive, std::string historyPath, Completer complete)
    : interactive_(interactive), historyPath_(std::move(historyPath)) {
  if (!interactive_)
    return;
  gComplete = std::move(complete);
  rl_readline_name = "mtlc";
  rl_attempted_completion_function = completeWord;
  static char breaks[] = " \t\n\"'";
  rl_completer_word_break_characters = breaks; // keep ':' and '/' inside words
  rl_basic_word_break_characters = breaks;
  using_history();
  stifle_history(1000);
  if (!historyPath_.empty())
    read_history(historyPath_.c_str());
}

LineReader::~LineReader() {
  if (interactive_ && !historyPath_.empty())
    write_history(historyPath_.c_str());
  gComplete = nullptr;
}

std::optional<std::string> LineReader::read(const std::string &prompt) {
  if (interactive_) {
    char *line = readline(prompt.c_str());
    if (!line)
      return std::nullopt;
    std::string out(line);
    std::free(line);
    return out;
  }
  std::string line;
  if (!std::getline(std::cin, line))
    return std::nullopt;
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  std::fprintf(stdout, "%s%s\n", prompt.c_str(), line.c_str());
  std::fflush(stdout);
  return line;
}

void LineReader::remember(const std::string &entry) {
  if (interactive_ && !entry.empty())
    add_history(entry.c_str());
}

} // namespace mtl::driver
