// Toolchain.cpp: finding the runtime, running the C++ driver, writing archives with LLVM's archive
// writer.
#include "driver/Toolchain.h"
#include "mtlrt/AtomicFile.h"

#include <llvm/Object/Archive.h>
#include <llvm/Object/ArchiveWriter.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Process.h>
#include <llvm/Support/Program.h>

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace mtl::driver {
namespace fs = std::filesystem;

namespace {
constexpr const char *kRuntimeLib = "libmtl_runtime.a";
constexpr const char *kMainLib = "libmtl_program_main.a";

bool holdsRuntime(const fs::path &dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / kRuntimeLib, ec) && fs::is_regular_file(dir / kMainLib, ec);
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The file a program replaces: what `output` names through symbolic links.
// Anything but a regular file (a device, a FIFO) is refused.
bool programTarget(const std::string &output, std::string &target, std::string &error) {
  std::error_code ec;
  fs::file_status status = fs::status(output, ec);
  if (status.type() != fs::file_type::not_found && !ec && !fs::is_regular_file(status)) {
    error =
        fmt::format("cannot write the program '{}': it exists and is not a regular file", output);
    return false;
  }
  target = mtlrt::linkTarget(output);
  return true;
}
} // namespace

std::string runtimeLibraryDir(std::string &error) {
  std::vector<fs::path> tried;
  if (const char *env = std::getenv("MTLC_RUNTIME_DIR"); env && *env) {
    if (holdsRuntime(env))
      return env;
    error = fmt::format("MTLC_RUNTIME_DIR={} does not hold {} and {}", env, kRuntimeLib, kMainLib);
    return "";
  }
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) // mtlc-llvm, installed in the runtime's folder
    tried.push_back(self.parent_path());
  tried.push_back(MTL_RUNTIME_BUILD_DIR);
  for (const fs::path &dir : tried)
    if (holdsRuntime(dir))
      return dir.string();
  std::string where;
  for (const fs::path &dir : tried)
    where += (where.empty() ? "" : ", ") + dir.string();
  error = fmt::format("cannot find the runtime libraries {} and {} (looked in {}); set "
                      "MTLC_RUNTIME_DIR to the folder that holds them",
                      kRuntimeLib, kMainLib, where);
  return "";
}

bool linkProgram(const std::vector<std::string> &objects, const std::string &runtimeDir,
                 const std::string &output, std::string &error) {
  const char *cxx = std::getenv("CXX");
  std::string driverName = cxx && *cxx ? cxx : "c++";
  auto driver = llvm::sys::findProgramByName(driverName);
  if (!driver) {
    error = fmt::format("cannot find the C++ compiler driver '{}' to link with (set CXX, or "
                        "install g++)",
                        driverName);
    return false;
  }
  // The linker writes a file beside the program, renamed over it once the
  // link succeeded: a failed link leaves an existing program as it was, and
  // a folder that takes no new file is said so before the linker runs.
  std::string target;
  if (!programTarget(output, target, error))
    return false;
  int fd = -1;
  llvm::SmallString<128> temp;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(target + ".tmp-%%%%%%", fd, temp)) {
    fs::path folder = fs::path(target).parent_path();
    error = fmt::format("cannot write the program '{}': cannot create a file in '{}': {}", output,
                        folder.empty() ? "." : folder.string(), ec.message());
    return false;
  }
  llvm::sys::Process::SafelyCloseFileDescriptor(fd);
  auto failed = [&](std::string message) {
    error = std::move(message);
    llvm::sys::fs::remove(temp);
    return false;
  };
  fs::path rt(runtimeDir);
  std::vector<std::string> args = {*driver, "-o", std::string(temp)};
  args.insert(args.end(), objects.begin(), objects.end());
  args.insert(args.end(),
              {(rt / kMainLib).string(), (rt / kRuntimeLib).string(), "-static-libstdc++",
               "-static-libgcc", "-Wl,-Bstatic", "-lz", "-Wl,-Bdynamic", "-pthread", "-lm"});
  llvm::SmallString<128> log;
  if (llvm::sys::fs::createTemporaryFile("mtlc-link", "log", log))
    return failed("cannot create a temporary file for the linker's messages");
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log.str(), log.str()};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*driver, argRefs, std::nullopt, redirects, 0, 0, &message);
  std::string output_text = readFile(std::string(log));
  llvm::sys::fs::remove(log);
  if (rc != 0) {
    std::string command;
    for (const std::string &a : args)
      command += (command.empty() ? "" : " ") + a;
    return failed(fmt::format("linking failed ({}):\n  {}\n{}",
                              rc < 0 ? message : fmt::format("exit status {}", rc), command,
                              output_text));
  }
  std::error_code ec;
  fs::rename(std::string(temp), target, ec);
  if (ec)
    return failed(fmt::format("cannot write the program '{}': {}", output, ec.message()));
  return true;
}

bool writeModelLibrary(const std::string &objectBytes, const std::string &objectName,
                       const std::string &runtimeDir, const std::string &output,
                       std::string &error) {
  std::string runtimePath = (fs::path(runtimeDir) / kRuntimeLib).string();
  auto buffer = llvm::MemoryBuffer::getFile(runtimePath);
  if (!buffer) {
    error = fmt::format("{}: {}", runtimePath, buffer.getError().message());
    return false;
  }
  auto archive = llvm::object::Archive::create((*buffer)->getMemBufferRef());
  if (!archive) {
    error = fmt::format("{}: {}", runtimePath, llvm::toString(archive.takeError()));
    return false;
  }
  std::vector<llvm::NewArchiveMember> members;
  members.emplace_back(llvm::MemoryBufferRef(objectBytes, objectName));
  llvm::Error err = llvm::Error::success();
  for (const llvm::object::Archive::Child &child : (*archive)->children(err)) {
    auto member = llvm::NewArchiveMember::getOldMember(child, /*Deterministic=*/true);
    if (!member) {
      error = fmt::format("{}: {}", runtimePath, llvm::toString(member.takeError()));
      return false;
    }
    members.push_back(std::move(*member));
  }
  if (err) {
    error = fmt::format("{}: {}", runtimePath, llvm::toString(std::move(err)));
    return false;
  }
  if (llvm::Error e = llvm::writeArchive(output, members, /*WriteSymtab=*/true,
                                         llvm::object::Archive::K_GNU, /*Deterministic=*/true,
                                         /*Thin=*/false)) {
    error = fmt::format("{}: {}", output, llvm::toString(std::move(e)));
    return false;
  }
  return true;
}

} // namespace mtl::driver
