// GzFile.cpp: reading plain or gzip-compressed files through zlib.
#include "data/GzFile.h"
#include "support/Memory.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>
#include <sys/stat.h>

namespace mtlrt::detail {

static gzFile gz(void *handle) { return static_cast<gzFile>(handle); }

Result<GzFile> GzFile::open(const std::string &path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0)
    return fail(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  if (S_ISDIR(info.st_mode))
    return fail(fmt::format("{}: is a directory, not a file", path));
  // A device (/dev/zero, /dev/urandom) never ends; a pipe does, so it may be read.
  if (S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode))
    return fail(fmt::format("{}: is a device, not a file of data", path));
  gzFile handle = gzopen(path.c_str(), "rb");
  if (!handle)
    return fail(
        fmt::format("{}: cannot open: {}", path, errno ? std::strerror(errno) : "out of memory"));
  // A larger buffer than zlib's 8 KiB default halves the time for big files.
  gzbuffer(handle, 1 << 17);
  GzFile file(handle, path, static_cast<uint64_t>(info.st_size));
  // zlib reads a file that is not gzip as it is; one named .gz that is not
  // is a mistake (a zip, a renamed file) whose bytes would be read as data.
  if (path.ends_with(".gz") && info.st_size > 0 && file.plain())
    return fail(fmt::format("{}: not a gzip file (the name ends in .gz, but the file does not "
                            "start with the gzip signature 1f 8b)",
                            path));
  return file;
}

GzFile::GzFile(GzFile &&other) noexcept
    : handle(other.handle), filePath(std::move(other.filePath)), bytesOnDisk(other.bytesOnDisk),
      streamTruncated(other.streamTruncated) {
  other.handle = nullptr;
}

GzFile &GzFile::operator=(GzFile &&other) noexcept {
  if (this != &other) {
    if (handle)
      gzclose(gz(handle));
    handle = other.handle;
    filePath = std::move(other.filePath);
    bytesOnDisk = other.bytesOnDisk;
    streamTruncated = other.streamTruncated;
    other.handle = nullptr;
  }
  return *this;
}

GzFile::~GzFile() {
  if (handle)
    gzclose(gz(handle));
}

bool GzFile::plain() const { return gzdirect(gz(handle)) != 0; }

uint64_t GzFile::maxDataSize() const {
  if (plain())
    return bytesOnDisk;
  return bytesOnDisk * 1032 + (1 << 16);
}

Result<size_t> GzFile::read(void *dest, size_t size) {
  auto *out = static_cast<char *>(dest);
  size_t total = 0;
  while (total < size) {
    // gzread takes an unsigned count; read big requests in pieces.
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - total, 1u << 30));
    int got = gzread(gz(handle), out + total, chunk);
    if (got > 0)
      total += static_cast<size_t>(got);
    if (got == static_cast<int>(chunk))
      continue;
    int code = Z_OK;
    const char *message = gzerror(gz(handle), &code);
    if (code == Z_BUF_ERROR) {
      // zlib's "unexpected end of file": the compressed stream stops early.
      streamTruncated = true;
      break;
    }
    if (code == Z_ERRNO)
      return fail(fmt::format("{}: read error: {}", filePath, std::strerror(errno)));
    if (code != Z_OK) {
      // zlib prefixes its messages with the path it was given; we add our own.
      std::string_view what = message ? message : "unknown error";
      if (what.starts_with(filePath + ": "))
        what.remove_prefix(filePath.size() + 2);
      return fail(fmt::format("{}: corrupt gzip data: {}", filePath, what));
    }
    break; // a clean end of the data
  }
  return total;
}

namespace {

/// The most a data file may hold once read (decompressed): half the
/// machine's memory, so that a file that never ends (/dev/zero) or a gzip
/// bomb is an error before the system runs out of memory.
size_t maxDataBytes() {
  const uint64_t memory = physicalMemoryBytes();
  return memory > 0 ? size_t(memory / 2) : size_t(1) << 34;
}

} // namespace

Result<std::string> GzFile::readAll() try {
  std::string text;
  const size_t limit = maxDataBytes();
  // Plain files are read in one go; compressed ones grow geometrically.
  size_t step = plain() ? static_cast<size_t>(bytesOnDisk) + 1 : (bytesOnDisk * 4 + 4096);
  for (;;) {
    size_t used = text.size();
    if (used >= limit)
      return fail(
          fmt::format("{}: holds more than {:.1f} GB of data once read (half of this "
                      "machine's memory), more than a data file may hold; is it a file of data?",
                      filePath, double(limit) / 1e9));
    step = std::min(step, limit - used + 1);
    text.resize(used + step);
    auto got = read(text.data() + used, step);
    if (!got)
      return got.takeError();
    text.resize(used + *got);
    if (*got < step)
      break;
    step = std::max<size_t>(step, text.size());
  }
  if (streamTruncated)
    return fail(fmt::format("{}: truncated gzip file (the compressed data ends early)", filePath));
  return text;
} catch (const std::bad_alloc &) {
  return fail(fmt::format("{}: not enough memory to read the file", filePath));
}

} // namespace mtlrt::detail
