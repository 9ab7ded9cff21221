// AtomicFile.cpp: temporary file, fsync, rename, directory fsync.
#include "mtlrt/AtomicFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace mtlrt {
namespace {
/// Writes all of `bytes` to `fd`, retrying short writes and interrupts.
bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    bytes.remove_prefix(size_t(n));
  }
  return true;
}
} // namespace

Status writeFileAtomic(const std::string &named, std::string_view bytes, const char *what) {
  // What a link names is written, never the link replaced; and nothing but
  // a regular file is replaced (a device such as /dev/null, a FIFO, a folder).
  const std::string path = linkTarget(named);
  std::error_code ec;
  const std::filesystem::file_status present = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::exists(present) && !std::filesystem::is_regular_file(present))
    return fail(fmt::format(
        "{}: cannot write {}: it exists and is not a regular file (a {}); "
        "name a file to write",
        named, what, std::filesystem::is_directory(present) ? "folder" : "device, pipe or socket"));
  std::string tmp = fmt::format("{}.tmp-{}", path, ::getpid());
  auto failed = [&](const char *step) {
    std::string message = fmt::format("{}: cannot write {} ({} {}): {}", named, what, step, tmp,
                                      std::strerror(errno));
    ::unlink(tmp.c_str());
    return fail(message);
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return failed("creating");
  // A file replaced keeps its permissions (a private 600 file stays private).
  struct stat old {};
  if (::stat(path.c_str(), &old) == 0)
    ::fchmod(fd, old.st_mode & 07777);
  if (!writeAll(fd, bytes) || ::fsync(fd) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return failed("writing");
  }
  if (::close(fd) != 0)
    return failed("closing");
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return failed("renaming");
  // The rename is durable only once the directory entry is on disk.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  int dirFd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
  return Ok{};
}

std::string linkTarget(const std::string &path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path at = path;
  for (int hops = 0; hops < 40 && fs::is_symlink(fs::symlink_status(at, ec)); ++hops) {
    fs::path to = fs::read_symlink(at, ec);
    if (ec)
      return path;
    at = to.is_absolute() ? to : at.parent_path() / to;
  }
  return at.lexically_normal().string();
}

Status writeOutputFile(const std::string &path, std::string_view bytes, const char *what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec); // through symbolic links
  if (ec || status.type() == fs::file_type::not_found || fs::is_regular_file(status) ||
      fs::is_directory(status))
    return writeFileAtomic(path, bytes, what);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || !writeAll(fd, bytes)) {
    std::string message = fmt::format("{}: cannot write {}: {}", path, what, std::strerror(errno));
    if (fd >= 0)
      ::close(fd);
    return fail(message);
  }
  ::close(fd);
  return Ok{};
}

Status distinctOutput(const std::string &output, const std::vector<std::string> &inputs,
                      const char *flag) {
  std::error_code ec;
  for (const std::string &input : inputs)
    if (!input.empty() && !output.empty() && std::filesystem::equivalent(output, input, ec) && !ec)
      return fail(fmt::format("{} {}: it is {}, which this command reads; write elsewhere", flag,
                              output, input));
  return Ok{};
}

Status replacesOnlyItsKind(const std::string &output,
                           std::initializer_list<std::string_view> starts, const char *flag,
                           const char *kind) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(output, ec))
    return Ok{};
  std::ifstream in(output, std::ios::binary);
  std::string head(64, '\0');
  in.read(head.data(), std::streamsize(head.size()));
  head.resize(size_t(in.gcount()));
  if (head.empty())
    return Ok{};
  for (std::string_view start : starts)
    if (std::string_view(head).starts_with(start))
      return Ok{};
  return fail(fmt::format("{} {}: it exists and is not {}; write elsewhere", flag, output, kind));
}

} // namespace mtlrt
