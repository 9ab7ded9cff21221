// main.cpp: mtlc. The commands that only parse and check (check, fmt, shapes) run here, in a
// program that does not load LLVM: starting a program that links LLVM's shared library costs
// about 80 ms (the dynamic loader relocates it), more than checking a model does. Every other
// command, and --help and --version, goes to mtlc-llvm (main_llvm.cpp), the whole compiler,
// with the same arguments; it lies beside mtlc in the build tree and in lib/mtlc when installed.
#include "driver/Commands.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

// The command argv names (its first argument that is neither an option nor
// --color's value), or "" when it names none.
std::string commandOf(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--color") {
      ++i;
      continue;
    }
    if (!arg.empty() && arg[0] != '-')
      return arg;
  }
  return "";
}

// Replaces this process with mtlc-llvm; returns only when it cannot.
int runWholeCompiler(char **argv) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> tried;
  if (!ec)
    tried = {self.parent_path() / "mtlc-llvm",
             self.parent_path().parent_path() / "lib" / "mtlc" / "mtlc-llvm"};
  std::string problem = ec ? "cannot read /proc/self/exe: " + ec.message() : "";
  for (const fs::path &path : tried) {
    if (!fs::exists(path, ec))
      continue;
    execv(path.c_str(), argv);
    problem = path.string() + ": " + std::strerror(errno);
  }
  if (problem.empty()) {
    problem = "not found in";
    for (const fs::path &path : tried)
      problem += " " + path.parent_path().string();
  }
  std::fprintf(stderr,
               "error: cannot run mtlc-llvm, the part of mtlc that compiles and runs models (%s); "
               "reinstall mtlc, or build the mtlc target again\n",
               problem.c_str());
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  using namespace mtl::driver;
  CLI::App app;
  GlobalOptions global;
  configureApp(app, global);
  int status = 0;
  addFrontCommands(app, global, status);
  const std::string command = commandOf(argc, argv);
  const auto here = [&](const CLI::App *sub) { return sub->get_name() == command; };
  if (command.empty() || static_cast<const CLI::App &>(app).get_subcommands(here).empty())
    return runWholeCompiler(argv);
  return runApp(app, argc, argv, status);
}
