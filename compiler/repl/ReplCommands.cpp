// ReplCommands.cpp: the REPL's loop, its `:` commands and their completion.
//
// Every input is either a command (it starts with `:`) or `.mtl` model items,
// which may span lines: a line that leaves a bracket open asks for more.
#include "repl/ReplCommands.h"
#include "repl/ReplInterrupt.h"
#include "repl/ReplLine.h"

#include "support/Suggest.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fmt/format.h>
#include <iterator>
#include <limits>
#include <unistd.h>

namespace mtl::driver {
namespace {

const char *kHelp =
    R"(Commands (anything else is .mtl model items: a task, shared, input, data, block,
balance, optimizer, regularize or train item replaces the one of the same name or kind):
  :load FILE [MODEL]        load and compile a model file (fresh parameters and settings)
  :load FILE.safetensors    take a checkpoint's parameters, statistics and optimizer state
  :save FILE                save the current parameters, optimizer state and statistics
  :reload                   load the current file again (drops items typed since; keeps
                            the parameters and the :set settings)
  :train [EPOCHS] [--reset] train, continuing from the current parameters unless --reset
  :eval                     validation losses and metrics of the current parameters
  :predict ROW | FIRST-LAST predictions beside the labels for rows of the data (1-based)
  :reset                    forget the trained parameters
  :set weight TASK X        a task's weight (no recompilation)
  :set lr X | batch N | epochs N | seed N | balance METHOD | sampling S
  :show ast|ir|grad|opt|llvm|asm|shapes|params|tasks|balance|gates|data
  :time                     the last compilation per stage, the last run's time per step
  :runs                     every training run of the session with its settings and metrics
  :compare A B              two runs side by side; differing settings are marked
  :plot [TASK] [--svg FILE] each task's training loss per epoch (--svg: as an SVG file)
  :help                     this text
  :quit                     leave (also end of input)
)";

const std::vector<std::string> kShowWhat = {"ast",   "ir",      "grad",   "opt",
                                            "llvm",  "asm",     "shapes", "params",
                                            "tasks", "balance", "gates",  "data"};
const std::vector<std::string> kSetWhat = {"weight", "lr",      "batch",   "epochs",
                                           "seed",   "balance", "sampling"};
const std::vector<std::string> kKeywords = {"input", "data",    "block",      "shared",
                                            "task",  "balance", "regularize", "optimizer",
                                            "train", "dense",   "relu",       "dropout"};

// The words of a command: split at blanks, except inside "..." or '...' (a
// path with spaces: :save "my runs/a.safetensors"); a backslash outside single
// quotes takes the next character as it is (my\ runs).
std::vector<std::string> words(const std::string &line) {
  std::vector<std::string> out;
  std::string word;
  bool inWord = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\' && quote != '\'' && i + 1 < line.size()) {
      word += line[++i];
      inWord = true;
    } else if (quote) {
      if (c == quote)
        quote = 0;
      else
        word += c;
    } else if (c == '"' || c == '\'') {
      quote = c;
      inWord = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (inWord)
        out.push_back(std::move(word));
      word.clear();
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord)
    out.push_back(std::move(word));
  return out;
}

template <typename T> std::optional<T> number(const std::string &text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

// An integer too large for T, said as such rather than as a usage error.
template <typename T> bool tooLarge(const std::string &text) {
  T value{};
  if (std::from_chars(text.data(), text.data() + text.size(), value).ec !=
      std::errc::result_out_of_range)
    return false;
  fmt::print("error: {} is too large (at most {})\n", text, std::numeric_limits<T>::max());
  return true;
}

std::optional<double> real(const std::string &text) {
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size())
    return std::nullopt;
  return v;
}

bool usage(const char *text) {
  fmt::print("error: usage: {}\n", text);
  return false;
}

bool runSet(ReplSession &s, const std::vector<std::string> &w) {
  if (w.size() >= 2 && w[1] == "weight") {
    if (w.size() != 4)
      return usage(":set weight TASK X");
    auto x = real(w[3]);
    if (!x)
      return usage(":set weight TASK X (X a number)");
    return s.setWeight(w[2], *x);
  }
  if (w.size() >= 3 && w[1] == "balance") { // the method may hold spaces: cagrad(c = 0.4)
    std::string method;
    for (size_t k = 2; k < w.size(); ++k)
      method += (k > 2 ? " " : "") + w[k];
    return s.setBalance(method);
  }
  if (w.size() >= 3 && w[1] == "sampling") { // temperature(t = 2) may hold spaces
    std::string sampling;
    for (size_t k = 2; k < w.size(); ++k)
      sampling += (k > 2 ? " " : "") + w[k];
    return s.setSampling(sampling);
  }
  if (w.size() != 3)
    return usage(
        ":set weight TASK X | lr X | batch N | epochs N | seed N | balance METHOD | sampling S");
  if (w[1] == "lr") {
    auto x = real(w[2]);
    return x ? s.setLr(*x) : usage(":set lr X (X a number)");
  }
  if (w[1] == "seed") {
    auto n = number<uint64_t>(w[2]);
    if (!n && tooLarge<uint64_t>(w[2]))
      return false;
    return n ? s.setSeed(*n) : usage(":set seed N (N a non-negative integer)");
  }
  auto n = number<int64_t>(w[2]);
  if (!n && (w[1] == "batch" || w[1] == "epochs") && tooLarge<int64_t>(w[2]))
    return false;
  if (w[1] == "batch")
    return n ? s.setBatch(*n) : usage(":set batch N (N an integer)");
  if (w[1] == "epochs")
    return n ? s.setEpochs(*n) : usage(":set epochs N (N an integer)");
  fmt::print("error: :set takes weight, lr, batch, epochs, seed, balance or sampling, not '{}'{}\n",
             w[1], didYouMean(w[1], kSetWhat));
  return false;
}

bool runTrainCommand(ReplSession &s, const std::vector<std::string> &w) {
  std::optional<int64_t> epochs;
  bool reset = false;
  for (size_t i = 1; i < w.size(); ++i) {
    if (w[i] == "--reset") {
      reset = true;
      continue;
    }
    auto n = number<int64_t>(w[i]);
    if (!n && !epochs && tooLarge<int64_t>(w[i]))
      return false;
    if (!n || *n < 1 || epochs)
      return usage(":train [EPOCHS] [--reset] (EPOCHS a positive integer)");
    epochs = n;
  }
  return s.train(epochs, reset);
}

// `:predict 5` or `:predict 1-10`.
bool runPredict(ReplSession &s, const std::vector<std::string> &w) {
  const char *text = ":predict ROW | FIRST-LAST (1-based rows of the data)";
  if (w.size() != 2)
    return usage(text);
  size_t dash = w[1].find('-', 1);
  auto first = number<int64_t>(w[1].substr(0, dash));
  auto last = dash == std::string::npos ? first : number<int64_t>(w[1].substr(dash + 1));
  if (!first || !last)
    return usage(text);
  return s.predict(*first, *last);
}

// `:plot`, `:plot TASK`, either with `--svg FILE`.
bool runPlot(ReplSession &s, const std::vector<std::string> &w) {
  std::string task, svg;
  for (size_t i = 1; i < w.size(); ++i) {
    if (w[i] == "--svg" && i + 1 < w.size() && svg.empty())
      svg = w[++i];
    else if (w[i] != "--svg" && task.empty())
      task = w[i];
    else
      return usage(":plot [TASK] [--svg FILE]");
  }
  return s.plot(task, svg);
}

// Runs a `:` command other than :quit; false when it failed (it said why).
bool runCommand(ReplSession &s, const std::vector<std::string> &w) {
  const std::string &cmd = w[0];
  if (cmd == ":help") {
    fmt::print("{}", kHelp);
    return true;
  }
  if (cmd == ":load") {
    if (w.size() >= 2 && w[1].ends_with(".safetensors"))
      return w.size() == 2 ? s.loadCheckpoint(w[1]) : usage(":load FILE.safetensors");
    if (w.size() < 2 || w.size() > 3)
      return usage(":load FILE [MODEL] | :load FILE.safetensors");
    return s.load(w[1], w.size() == 3 ? w[2] : "");
  }
  if (cmd == ":predict")
    return runPredict(s, w);
  if (cmd == ":save")
    return w.size() == 2 ? s.save(w[1]) : usage(":save FILE");
  if (cmd == ":reload")
    return w.size() == 1 ? s.reload() : usage(":reload");
  if (cmd == ":train")
    return runTrainCommand(s, w);
  if (cmd == ":eval")
    return w.size() == 1 ? s.eval() : usage(":eval");
  if (cmd == ":reset")
    return w.size() == 1 ? s.resetParams() : usage(":reset");
  if (cmd == ":set")
    return runSet(s, w);
  if (cmd == ":show")
    return w.size() == 2
               ? s.show(w[1])
               : usage(":show ast|ir|grad|opt|llvm|asm|shapes|params|tasks|balance|gates|data");
  if (cmd == ":time") {
    s.printTime();
    return true;
  }
  if (cmd == ":runs") {
    s.printRuns();
    return true;
  }
  if (cmd == ":compare") {
    auto a = w.size() == 3 ? number<int>(w[1]) : std::nullopt;
    auto b = w.size() == 3 ? number<int>(w[2]) : std::nullopt;
    return a && b ? s.compare(*a, *b) : usage(":compare A B (two run numbers, see :runs)");
  }
  if (cmd == ":plot")
    return runPlot(s, w);
  std::string hint = didYouMean(cmd, replCommandNames());
  fmt::print("error: unknown command '{}'{}\n", cmd,
             hint.empty() ? "; :help lists the commands" : hint);
  return false;
}

// The text without its comments (each replaced by a space).
std::string withoutComments(const std::string &text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') {
      size_t end = i + 1;
      while (end < text.size() && text[end] != '"')
        end += text[end] == '\\' ? 2 : 1;
      out += text.substr(i, end + 1 - i);
      i = end;
    } else if (text.compare(i, 2, "//") == 0) {
      i = std::min(text.find('\n', i), text.size()) - 1;
      out += ' ';
    } else if (text.compare(i, 2, "/*") == 0) {
      i = std::min(text.find("*/", i + 2), text.size()) + 1;
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

// How many brackets the text leaves open, skipping strings and comments;
// negative when it closes more than it opens.
int openBrackets(const std::string &text) {
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (ch == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
    } else if (ch == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      i = text.find('\n', i);
      if (i == std::string::npos)
        break;
    } else if (ch == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      i = text.find("*/", i + 2);
      if (i == std::string::npos)
        return depth + 1; // an open comment waits for its end like a bracket
      ++i;
    } else if (ch == '{' || ch == '(' || ch == '[') {
      ++depth;
    } else if (ch == '}' || ch == ')' || ch == ']') {
      --depth;
    }
  }
  return depth;
}

std::vector<std::string> completions(const ReplSession &s, const std::string &before) {
  std::vector<std::string> w = words(before);
  if (w.empty())
    return before.empty() ? replCommandNames() : kKeywords;
  const std::string &cmd = w[0];
  if ((cmd == ":load" || cmd == ":save") && w.size() == 1)
    return {kCompletePaths};
  if (cmd == ":show" && w.size() == 1)
    return kShowWhat;
  if (cmd == ":set" && w.size() == 1)
    return kSetWhat;
  if (cmd == ":plot" && w.back() == "--svg")
    return {kCompletePaths};
  if ((cmd == ":set" && w.size() == 2 && w[1] == "weight") || (cmd == ":plot" && w.size() == 1))
    return s.taskNames();
  if (cmd[0] == ':')
    return {};
  std::vector<std::string> out = s.names();
  out.insert(out.end(), kKeywords.begin(), kKeywords.end());
  return out;
}

std::string historyFile() {
  const char *home = std::getenv("HOME");
  return home && *home ? std::string(home) + "/.mtlc_history" : "";
}

// Says which inputs of a script failed, by the line each starts on (0: the
// file given on the command line), once the script ends.
void reportFailures(const std::vector<int> &lines) {
  std::vector<int> numbered;
  std::copy_if(lines.begin(), lines.end(), std::back_inserter(numbered),
               [](int line) { return line > 0; });
  std::vector<std::string> where;
  if (numbered.size() < lines.size())
    where.push_back("the file to load");
  if (!numbered.empty())
    where.push_back(
        fmt::format("line{} {}", numbered.size() == 1 ? "" : "s", fmt::join(numbered, ", ")));
  fmt::print(stderr, "error: {} input{} of the script failed: {}\n", lines.size(),
             lines.size() == 1 ? "" : "s", fmt::join(where, "; "));
}

} // namespace

const std::vector<std::string> &replCommandNames() {
  static const std::vector<std::string> names = {
      ":load", ":reload", ":train", ":eval",    ":predict", ":reset", ":set", ":show",
      ":time", ":runs",   ":save",  ":compare", ":plot",    ":help",  ":quit"};
  return names;
}

ReplOutcome runReplInput(ReplSession &session, const std::string &input) {
  std::vector<std::string> w = words(input);
  if (w.empty())
    return ReplOutcome::Done;
  if (w[0] == ":quit" || w[0] == ":q")
    return ReplOutcome::Quit;
  bool ok = true;
  if (w[0][0] == ':')
    ok = runCommand(session, w);
  else if (withoutComments(input).find_first_not_of(" \t\r\n") != std::string::npos)
    ok = session.addItems(input);
  std::fflush(stdout);
  return ok ? ReplOutcome::Done : ReplOutcome::Failed;
}

int runRepl(const ReplOptions &options) {
  // Ctrl-C stops a :train or drops the line being typed; it never ends the session.
  InterruptHandler ctrlC;
  ReplSession session(options.color, options.targetCpu);
  bool interactive = isatty(STDIN_FILENO) != 0;
  LineReader reader(
      interactive, historyFile(),
      [&](const std::string &before, const std::string &) { return completions(session, before); });
  if (interactive)
    fmt::print("mtlc {} REPL; :help lists the commands, :quit leaves\n", MTLC_VERSION);
  std::vector<int> failed; // the line each failed input starts on; 0: loading options.file
  if (!options.file.empty() && !session.load(options.file, options.model))
    failed.push_back(0);
  std::fflush(stdout);
  const bool stopOnError = options.stopOnError && !interactive;
  bool going = !(stopOnError && !failed.empty());
  int lineNumber = 0;
  // Runs an input that starts on line `first`; false when the session ends.
  auto run = [&](const std::string &input, int first) {
    ReplOutcome outcome = runReplInput(session, input);
    if (outcome == ReplOutcome::Failed)
      failed.push_back(first);
    return outcome == ReplOutcome::Done || (outcome == ReplOutcome::Failed && !stopOnError);
  };
  while (going) {
    ReadResult line = reader.read("mtl> ");
    if (line.kind == ReadResult::End)
      break;
    if (line.kind == ReadResult::Interrupted)
      continue;
    const int first = ++lineNumber;
    reader.remember(line.line);
    std::string input = line.line;
    // Model items continue over lines until their brackets close; Ctrl-C drops
    // them all, and a command (a line that starts with ':', such as :quit)
    // ends the item as it is, then runs.
    std::string command;
    while (input.find_first_not_of(" \t") != std::string::npos &&
           input[input.find_first_not_of(" \t")] != ':' && openBrackets(input) > 0) {
      ReadResult more = reader.read("...> ");
      if (more.kind != ReadResult::Line) {
        line.kind = more.kind;
        break;
      }
      ++lineNumber;
      reader.remember(more.line);
      const size_t start = more.line.find_first_not_of(" \t");
      if (start != std::string::npos && more.line[start] == ':') {
        command = more.line;
        break;
      }
      input += "\n" + more.line;
    }
    if (line.kind == ReadResult::Interrupted)
      continue;
    replInterrupted().store(false); // only a Ctrl-C from now on stops what this input runs
    going = run(input, first) && (command.empty() || run(command, lineNumber));
  }
  if (interactive) {
    fmt::print("\n");
    return 0;
  }
  std::fflush(stdout);
  if (failed.empty())
    return 0;
  reportFailures(failed);
  return 1;
}

} // namespace mtl::driver
