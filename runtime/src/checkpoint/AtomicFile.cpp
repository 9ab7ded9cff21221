// AtomicFile.cpp: temporary file, fsync, rename, directory fsync.
#include "mtlrt/AtomicFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
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

Status writeFileAtomic(const std::string &path, std::string_view bytes, const char *what) {
  std::string tmp = fmt::format("{}.tmp-{}", path, ::getpid());
  auto failed = [&](const char *step) {
    std::string message =
        fmt::format("{}: cannot write {} ({} {}): {}", path, what, step, tmp, std::strerror(errno));
    ::unlink(tmp.c_str());
    return fail(message);
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return failed("creating");
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

} // namespace mtlrt
