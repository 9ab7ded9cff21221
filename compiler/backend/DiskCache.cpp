// DiskCache.cpp: verified, atomically written cache entries with an LRU size bound.
//
// Entry layout: the 8-byte magic "MTLCOBJ1", the payload's length as 8
// little-endian bytes, the 20-byte SHA-1 of the payload, then the payload.
// A hit sets the entry's modification time to now, so trim() removes the
// entries used least recently.
#include "backend/DiskCache.h"

#include "backend/MachineCodeSources.h" // generated: the hash of Optimize/Emit/Target.cpp

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/Support/SHA1.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

namespace mtl::backend {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'M', 'T', 'L', 'C', 'O', 'B', 'J', '1'};
constexpr size_t kHeader = 8 + 8 + 20;

std::string digest(const std::string &bytes) {
  auto hash = llvm::SHA1::hash(llvm::arrayRefFromStringRef(bytes));
  return std::string(hash.begin(), hash.end());
}

std::string envOr(const char *name, const std::string &fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

/// The bytes of the file at `path`: empty when it is not a regular file
/// (opened without blocking, so a FIFO or a device never stalls or floods
/// a run); nothing when it cannot be opened.
std::optional<std::string> readRegularFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  std::string bytes;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    bytes.resize(size_t(st.st_size));
    size_t got = 0;
    while (got < bytes.size()) {
      ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += size_t(n);
    }
    bytes.resize(got);
  }
  ::close(fd);
  return bytes;
}

} // namespace

DiskCache::DiskCache(std::string root, uint64_t maxBytes, std::string version)
    : root_(std::move(root)), dir_((fs::path(root_) / version).string()), maxBytes_(maxBytes) {}

std::string DiskCache::versionTag() {
  return "mtlc-" + std::string(MTLC_VERSION) + "-llvm-" + LLVM_VERSION_STRING + "-" +
         std::string(MTL_MACHINE_CODE_SOURCES).substr(0, 12);
}

std::string DiskCache::defaultRoot() {
  std::string dir = envOr("MTLC_CACHE_DIR", "");
  if (!dir.empty())
    return dir;
  std::string xdg = envOr("XDG_CACHE_HOME", "");
  if (!xdg.empty())
    return (fs::path(xdg) / "mtlc").string();
  std::string home = envOr("HOME", "");
  return home.empty() ? "" : (fs::path(home) / ".cache" / "mtlc").string();
}

uint64_t DiskCache::defaultMaxBytes() {
  std::string mb = envOr("MTLC_CACHE_MAX_MB", "");
  char *end = nullptr;
  unsigned long long v = mb.empty() ? 0 : std::strtoull(mb.c_str(), &end, 10);
  if (!mb.empty() && end && *end == '\0')
    return static_cast<uint64_t>(v) << 20;
  return uint64_t(1) << 30;
}

std::string DiskCache::entryPath(const std::string &key, Kind kind) const {
  return (fs::path(dir_) / (key + (kind == Kind::Object ? ".o" : ".index"))).string();
}

std::optional<std::string> DiskCache::load(const std::string &key, Kind kind) {
  std::string path = entryPath(key, kind);
  std::optional<std::string> read = readRegularFile(path);
  if (!read) {
    ++stats_.misses;
    return std::nullopt;
  }
  const std::string &bytes = *read;
  uint64_t length = 0;
  // Anything but a regular file (a FIFO, a link to /dev/zero) reads as empty: corrupt.
  bool ok = bytes.size() >= kHeader && std::equal(kMagic, kMagic + 8, bytes.begin());
  if (ok) {
    for (int i = 0; i < 8; ++i)
      length |= uint64_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    ok = length == bytes.size() - kHeader;
  }
  std::string payload = ok ? bytes.substr(kHeader) : std::string();
  if (!ok || digest(payload) != bytes.substr(16, 20)) {
    ++stats_.corrupt;
    std::error_code ec;
    fs::remove(path, ec);
    return std::nullopt;
  }
  std::error_code ec;
  fs::last_write_time(path, fs::file_time_type::clock::now(), ec);
  ++stats_.hits;
  return payload;
}

void DiskCache::store(const std::string &key, const std::string &bytes, Kind kind) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec)
    return;
  static std::atomic<unsigned> counter{0};
  std::string tmp =
      entryPath(key, kind) + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      return;
    std::string header(kMagic, 8);
    for (int i = 0; i < 8; ++i)
      header.push_back(static_cast<char>((uint64_t(bytes.size()) >> (8 * i)) & 0xff));
    header += digest(bytes);
    out << header << bytes;
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      return;
    }
  }
  fs::rename(tmp, entryPath(key, kind), ec);
  if (ec) {
    fs::remove(tmp, ec);
    return;
  }
  ++stats_.stored;
}

void DiskCache::trim() {
  struct Entry {
    fs::path path;
    uint64_t size;
    fs::file_time_type used;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  // Only the files of the version folders (mtlc-*) directly under the root
  // are the cache's: a root shared with other work (MTLC_CACHE_DIR=$HOME)
  // loses nothing else.
  std::vector<fs::path> versions;
  for (auto it = fs::directory_iterator(root_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code e2;
    if (it->path().filename().string().starts_with("mtlc-") && it->is_directory(e2) &&
        !it->is_symlink(e2))
      versions.push_back(it->path());
  }
  for (const fs::path &version : versions)
    for (auto it = fs::directory_iterator(version, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      std::error_code e2;
      if (!it->is_regular_file(e2))
        continue;
      uint64_t size = it->file_size(e2);
      auto used = it->last_write_time(e2);
      if (e2)
        continue;
      if (it->path().filename().string().find(".tmp.") != std::string::npos) {
        // Left by a run that died while writing; a live writer renames within seconds.
        if (fs::file_time_type::clock::now() - used > std::chrono::hours(1))
          fs::remove(it->path(), e2);
        continue;
      }
      if (it->path().extension() != ".o" && it->path().extension() != ".index")
        continue;
      entries.push_back({it->path(), size, used});
      total += size;
    }
  if (total <= maxBytes_)
    return;
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.used < b.used; });
  for (const Entry &e : entries) {
    if (total <= maxBytes_)
      break;
    if (fs::remove(e.path, ec)) {
      total -= e.size;
      ++stats_.evicted;
    }
  }
}

} // namespace mtl::backend
