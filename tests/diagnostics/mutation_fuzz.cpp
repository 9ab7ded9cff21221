// mutation_fuzz.cpp: mutates the example models and checks that `mtlc check` survives.
//
// Usage: mutation_fuzz MTLC EXAMPLES_DIR [--count N] [--seed S] [--jobs J]
//                      [--out DIR] [--keep]
//
// With a fixed seed it derives N mutants from the .mtl files under
// EXAMPLES_DIR (byte flips, byte insertions and deletions, token deletion,
// duplication and swaps, misspelt words, truncation, splicing two files) and runs
// `mtlc check` on each, J at a time, with a 10 s alarm. A run fails when mtlc
// dies of a signal, hangs, exits with a status other than 0 or 1, exits 1
// without an error (or 0 with one), or prints a line that is not part of a
// diagnostic. Every failing mutant is written to the --out folder (default
// ./mutation_failures) as mutant-<index>.mtl with the reason and output in
// mutant-<index>.txt, so it can be replayed with `mtlc check`.
// No Python: this must run on a fresh machine with only the build tools.

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr unsigned kTimeoutSeconds = 10;
// What a child prints when it cannot exec mtlc (for instance while it is relinked).
constexpr const char *kCannotRun = "mutation_fuzz: cannot run ";

/// splitmix64: a tiny generator whose sequence is the same everywhere, unlike
/// the distributions of <random>, so a seed names the same mutants on every
/// machine.
class Rng {
public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n); n must be positive.
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  bool chance(unsigned percent) { return below(100) < percent; }

private:
  uint64_t state_;
};

struct Token {
  size_t begin, end;
};

/// Splits source text into rough tokens (names, numbers, strings, comments,
/// punctuation; whitespace is skipped), which is enough for token mutations.
std::vector<Token> tokenize(const std::string &s) {
  std::vector<Token> out;
  size_t i = 0, n = s.size();
  auto isName = [](unsigned char c) { return std::isalnum(c) || c == '_'; };
  while (i < n) {
    unsigned char c = s[i];
    size_t start = i;
    if (std::isspace(c)) {
      ++i;
      continue;
    }
    if (isName(c) || c == '.') {
      while (i < n && (isName(s[i]) || s[i] == '.'))
        ++i;
    } else if (c == '"') {
      ++i;
      while (i < n && s[i] != '"' && s[i] != '\n')
        i += s[i] == '\\' ? 2 : 1;
      i = std::min(n, i + 1);
    } else if (c == '/' && i + 1 < n && s[i + 1] == '/') {
      while (i < n && s[i] != '\n')
        ++i;
    } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      size_t close = s.find("*/", i + 2);
      i = close == std::string::npos ? n : close + 2;
    } else if (c == '-' && i + 1 < n && s[i + 1] == '>') {
      i += 2;
    } else {
      ++i;
    }
    out.push_back({start, i});
  }
  return out;
}

// Bytes worth inserting: the language's punctuation, digits, quotes and
// comment starters, a few control bytes and high bytes.
const std::string kInteresting = "{}()[]<>\"'/\\*-+.,:=;#@0123456789eE_ \n\t\r";

char randomByte(Rng &rng) {
  if (rng.chance(70))
    return kInteresting[rng.below(kInteresting.size())];
  return static_cast<char>(rng.below(256));
}

const char *const kWords[] = {"model",     "input",
                              "data",      "block",
                              "shared",    "task",
                              "balance",   "train",
                              "import",    "on",
                              "as",        "scale",
                              "in",        "dense",
                              "relu",      "flatten",
                              "soft",      "head",
                              "loss",      "weight",
                              "f32",       "i32",
                              "class",     "regress",
                              "binary",    "classify",
                              "1e999",     "-0",
                              "0/0",       "..",
                              "->",        "\"\"",
                              "/*",        "99999999999999999999",
                              "embedding", "x",
                              "trunk",     "mlp",
                              "gru"};

std::string mutateOnce(const std::string &src, const std::vector<std::string> &corpus, Rng &rng) {
  std::string s = src;
  std::vector<Token> tokens = tokenize(s);
  switch (rng.below(12)) {
  case 0: // flip one bit
    if (!s.empty())
      s[rng.below(s.size())] ^= static_cast<char>(1u << rng.below(8));
    break;
  case 1: // replace a byte
    if (!s.empty())
      s[rng.below(s.size())] = randomByte(rng);
    break;
  case 2: // insert a few bytes
    for (size_t k = 1 + rng.below(4); k > 0; --k)
      s.insert(s.begin() + rng.below(s.size() + 1), randomByte(rng));
    break;
  case 3: // delete a short range of bytes
    if (!s.empty()) {
      size_t at = rng.below(s.size());
      s.erase(at, 1 + rng.below(std::min<size_t>(8, s.size() - at)));
    }
    break;
  case 4: // delete a token
    if (!tokens.empty()) {
      Token t = tokens[rng.below(tokens.size())];
      s.erase(t.begin, t.end - t.begin);
    }
    break;
  case 5: // duplicate a token
    if (!tokens.empty()) {
      Token t = tokens[rng.below(tokens.size())];
      s.insert(t.end, " " + s.substr(t.begin, t.end - t.begin));
    }
    break;
  case 6: // swap two tokens
    if (tokens.size() >= 2) {
      Token a = tokens[rng.below(tokens.size())];
      Token b = tokens[rng.below(tokens.size())];
      if (a.begin > b.begin)
        std::swap(a, b);
      if (a.end <= b.begin) {
        std::string ta = s.substr(a.begin, a.end - a.begin);
        std::string tb = s.substr(b.begin, b.end - b.begin);
        s.replace(b.begin, tb.size(), ta);
        s.replace(a.begin, ta.size(), tb);
      }
    }
    break;
  case 7: // replace a token by a word of the language (or a nasty one)
    if (!tokens.empty()) {
      Token t = tokens[rng.below(tokens.size())];
      s.replace(t.begin, t.end - t.begin, kWords[rng.below(std::size(kWords))]);
    }
    break;
  case 11: // misspell a word: swap two letters, or drop or double one
    if (!tokens.empty()) {
      Token t = tokens[rng.below(tokens.size())];
      size_t n = t.end - t.begin;
      if (n >= 2 && std::isalpha(static_cast<unsigned char>(s[t.begin]))) {
        size_t at = t.begin + rng.below(n - 1);
        size_t how = rng.below(3);
        if (how == 0)
          std::swap(s[at], s[at + 1]);
        else if (how == 1)
          s.erase(at, 1);
        else
          s.insert(at, 1, s[at]);
      }
    }
    break;
  case 8: // truncate
    s.resize(rng.below(s.size() + 1));
    break;
  case 9: { // splice: a prefix of this file and a suffix of another
    const std::string &other = corpus[rng.below(corpus.size())];
    size_t cut = rng.below(s.size() + 1);
    size_t from = rng.below(other.size() + 1);
    s = s.substr(0, cut) + other.substr(from);
    break;
  }
  default: // duplicate a line range
    if (!s.empty()) {
      size_t a = rng.below(s.size()), b = rng.below(s.size());
      if (a > b)
        std::swap(a, b);
      b = std::min(b, a + 400);
      s.insert(rng.below(s.size() + 1), s.substr(a, b - a));
    }
    break;
  }
  return s;
}

/// True when every line of `output` belongs to a diagnostic: a
/// `file:line:col: error|warning|note: ` header, the source line and caret
/// line after a header, the `N errors generated.` summary, or a
/// `error: cannot read ...` line. `why` names the first stray line.
bool onlyDiagnostics(const std::string &output, std::string &why, bool &sawError) {
  static const std::regex header(R"(^[^:]+:\d+:\d+: (error|warning|note): .*)");
  static const std::regex caret(R"(^ *\^~*$)");
  static const std::regex summary(R"(^\d+ errors? generated\.$)");
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  if (!output.empty() && output.back() != '\n') {
    why = "output does not end with a line break";
    return false;
  }
  sawError = false;
  bool afterHeader = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string &l = lines[i];
    std::smatch m;
    if (std::regex_match(l, m, header)) {
      afterHeader = true;
      if (l.find(": internal ") != std::string::npos ||
          l.find("internal parser failure") != std::string::npos ||
          l.find("internal error") != std::string::npos) {
        why = "internal error reported: " + l.substr(0, 200);
        return false;
      }
      sawError |= m[1] == "error";
      continue;
    }
    if (afterHeader && i + 1 < lines.size() && std::regex_match(lines[i + 1], caret)) {
      ++i; // the source line and its caret
      afterHeader = false;
      continue;
    }
    afterHeader = false;
    if (std::regex_match(l, summary))
      continue;
    if (l.rfind("error: cannot read ", 0) == 0) {
      sawError = true;
      continue;
    }
    why = "stray output: line " + std::to_string(i + 1) + ": " + l.substr(0, 200);
    return false;
  }
  return true;
}

struct Running {
  pid_t pid;
  size_t index;
  fs::path source, output;
};

std::string readAll(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeAll(const fs::path &p, const std::string &text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

pid_t launch(const std::string &mtlc, const fs::path &dir, const fs::path &file,
             const fs::path &output) {
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  // In the child: the alarm survives exec, so a hung mtlc dies of SIGALRM.
  int fd = open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || chdir(dir.c_str()) != 0)
    _exit(127);
  dup2(fd, 1);
  dup2(fd, 2);
  close(fd);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0)
    dup2(devnull, 0);
  setenv("NO_COLOR", "1", 1);
  struct rlimit core = {0, 0};
  setrlimit(RLIMIT_CORE, &core);
  alarm(kTimeoutSeconds);
  std::string name = file.filename().string();
  execl(mtlc.c_str(), mtlc.c_str(), "check", name.c_str(), static_cast<char *>(nullptr));
  // Tell the parent that mtlc never ran, so this is not blamed on a mutant.
  std::string msg = std::string(kCannotRun) + mtlc + ": " + std::strerror(errno) + "\n";
  if (write(2, msg.data(), msg.size()) < 0)
    _exit(126);
  _exit(127);
}

int usage() {
  std::cerr << "usage: mutation_fuzz MTLC EXAMPLES_DIR [--count N] [--seed S] "
               "[--jobs J] [--out DIR] [--keep]\n";
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3)
    return usage();
  std::string mtlc = fs::absolute(argv[1]).string();
  fs::path examples = fs::absolute(argv[2]);
  size_t count = 3000, jobs = 2;
  uint64_t seed = 20240601;
  fs::path outDir = fs::absolute("mutation_failures");
  bool keep = false;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "missing value after " << a << "\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--count")
      count = std::stoul(value());
    else if (a == "--seed")
      seed = std::stoull(value());
    else if (a == "--jobs")
      jobs = std::max<size_t>(1, std::stoul(value()));
    else if (a == "--out")
      outDir = fs::absolute(value());
    else if (a == "--keep")
      keep = true;
    else
      return usage();
  }
  if (access(mtlc.c_str(), X_OK) != 0) {
    std::cerr << "mutation_fuzz: " << mtlc << " is not executable\n";
    return 2;
  }

  std::vector<std::string> corpus;
  std::vector<fs::path> names;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(examples, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".mtl")
      names.push_back(it->path());
  }
  std::sort(names.begin(), names.end());
  for (const fs::path &p : names)
    corpus.push_back(readAll(p));
  if (corpus.empty()) {
    std::cerr << "mutation_fuzz: no .mtl files under " << examples << "\n";
    return 2;
  }

  // Mutants live in a scratch folder whose `lib` and `data` point at the
  // examples', so imports and CSV header checks still find their files.
  char tmpl[] = "/tmp/mtl-fuzz-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 2;
  }
  fs::path work = tmpl;
  for (const char *sub : {"lib", "data"})
    if (fs::exists(examples / sub))
      fs::create_directory_symlink(examples / sub, work / sub, ec);

  Rng rng(seed);
  std::vector<std::string> mutants(count);
  for (size_t i = 0; i < count; ++i) {
    size_t pick = rng.below(corpus.size());
    std::string m = corpus[pick];
    for (size_t k = 1 + rng.below(3); k > 0; --k)
      m = mutateOnce(m, corpus, rng);
    mutants[i] = std::move(m);
  }

  size_t failures = 0, rejected = 0, accepted = 0;
  std::map<std::string, size_t> byKind;
  auto report = [&](const Running &r, int status) {
    std::string output = readAll(r.output);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && output.rfind(kCannotRun, 0) == 0) {
      std::cerr << output;
      std::exit(2);
    }
    std::string why;
    bool sawError = false;
    if (WIFSIGNALED(status)) {
      int sig = WTERMSIG(status);
      why = sig == SIGALRM ? "hang: no answer within " + std::to_string(kTimeoutSeconds) + " s"
                           : std::string("crash: killed by signal ") + strsignal(sig);
    } else if (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1) {
      why = "exit status " + std::to_string(WEXITSTATUS(status));
    } else if (!onlyDiagnostics(output, why, sawError)) {
      // `why` is set
    } else if (WEXITSTATUS(status) == 1 && !sawError) {
      why = "exit status 1 without an error message";
    } else if (WEXITSTATUS(status) == 0 && sawError) {
      why = "exit status 0 after an error message";
    }
    if (why.empty()) {
      ++(WEXITSTATUS(status) == 1 ? rejected : accepted);
      return;
    }
    ++failures;
    ++byKind[why.substr(0, why.find(':'))];
    fs::create_directories(outDir, ec);
    std::string stem = "mutant-" + std::to_string(r.index);
    fs::copy_file(r.source, outDir / (stem + ".mtl"), fs::copy_options::overwrite_existing, ec);
    writeAll(outDir / (stem + ".txt"), why + "\n--- output ---\n" + output);
    if (failures <= 20)
      std::cout << "FAIL " << stem << ": " << why << "\n";
  };

  std::vector<Running> running;
  size_t next = 0;
  while (next < count || !running.empty()) {
    while (next < count && running.size() < jobs) {
      fs::path slot = work / ("m" + std::to_string(next % (jobs * 4)));
      fs::path src = slot;
      src += ".mtl";
      fs::path out = slot;
      out += ".out";
      writeAll(src, mutants[next]);
      pid_t pid = launch(mtlc, work, src, out);
      if (pid < 0) {
        std::perror("fork");
        return 2;
      }
      running.push_back({pid, next, src, out});
      ++next;
    }
    int status = 0;
    pid_t done = waitpid(-1, &status, 0);
    if (done < 0) {
      if (errno == EINTR)
        continue;
      std::perror("waitpid");
      return 2;
    }
    auto it = std::find_if(running.begin(), running.end(),
                           [&](const Running &r) { return r.pid == done; });
    if (it == running.end())
      continue;
    report(*it, status);
    running.erase(it);
  }

  if (!keep)
    fs::remove_all(work, ec);
  std::cout << count << " mutants of " << corpus.size() << " files (seed " << seed
            << "): " << rejected << " rejected with errors, " << accepted << " accepted, "
            << failures << " failed";
  for (const auto &[kind, n] : byKind)
    std::cout << "; " << kind << ": " << n;
  std::cout << "\n";
  if (failures)
    std::cout << "failing mutants are in " << outDir.string() << "\n";
  return failures ? 1 : 0;
}
