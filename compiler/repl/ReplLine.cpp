// ReplLine.cpp: libedit (through its readline interface) for terminals, std::getline otherwise.
#include "repl/ReplLine.h"
#include "repl/ReplInterrupt.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <editline/readline.h>
#include <poll.h>
#include <unistd.h>

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

// The next byte of `fd`; EOF at its end, or once replInterrupted() is set.
// It waits in ppoll(), which a signal always ends (read() goes on through
// one: SA_RESTART). SIGINT stays blocked from the test of the flag until
// ppoll() unblocks it atomically, so a Ctrl-C in between is not lost.
int waitForKey(int fd) {
  sigset_t sigint, before;
  sigemptyset(&sigint);
  sigaddset(&sigint, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigint, &before);
  int key = EOF;
  while (!replInterrupted().load()) {
    pollfd ready{fd, POLLIN, 0};
    if (ppoll(&ready, 1, nullptr, &before) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    unsigned char c = 0;
    ssize_t n = ::read(fd, &c, 1);
    if (n == 1) {
      key = c;
      break;
    }
    if (n == 0 || errno != EINTR)
      break;
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  return key;
}

// libedit's key reader. After a Ctrl-C it gives Ctrl-E (to the end of the
// line, so that "^C" follows the whole line) and then EOF, on which libedit
// gives up the line and LineReader::read drops it.
int readKey(std::FILE *in) {
  constexpr int kEndOfLine = 0x05;
  static bool atEnd = false;
  if (!replInterrupted().load()) {
    int key = waitForKey(fileno(in));
    if (key != EOF || !replInterrupted().load())
      return key;
  }
  atEnd = !atEnd;
  return atEnd ? kEndOfLine : EOF;
}

} // namespace

LineReader::LineReader(bool interactive, std::string historyPath, Completer complete)
    : interactive_(interactive), historyPath_(std::move(historyPath)) {
  if (!interactive_)
    return;
  gComplete = std::move(complete);
  // Read before libedit initialises (using_history below): our key reader, and
  // no handlers of libedit's, which would put SIGINT back to ours and raise it again.
  rl_getc_function = readKey;
  rl_catch_signals = 0;
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

ReadResult LineReader::read(const std::string &prompt) {
  if (interactive_) {
    replInterrupted().store(false); // a Ctrl-C during the last command was for that command
    char *line = readline(prompt.c_str());
    ReadResult out{line ? ReadResult::Line : ReadResult::End, line ? line : ""};
    std::free(line);
    if (replInterrupted().exchange(false)) {
      std::fputs("^C\n", stdout);
      std::fflush(stdout);
      return {ReadResult::Interrupted, ""};
    }
    return out;
  }
  std::string line;
  if (!std::getline(std::cin, line))
    return {};
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  std::fprintf(stdout, "%s%s\n", prompt.c_str(), line.c_str());
  std::fflush(stdout);
  return {ReadResult::Line, line};
}

void LineReader::remember(const std::string &entry) {
  if (interactive_ && !entry.empty())
    add_history(entry.c_str());
}

} // namespace mtl::driver
