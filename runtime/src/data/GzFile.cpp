// GzFile.cpp: reading plain files, or gzip-compressed ones through zlib's inflate.
#include "data/GzFile.h"
#include "support/Memory.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <sys/stat.h>
#include <vector>

namespace mtlrt::detail {

struct GzFile::State {
  std::FILE *file = nullptr;
  bool gzip = false;
  z_stream stream{};      // for gzip, inflating; for a plain file, its buffer's unread bytes
  bool inflating = false; // inflateInit2 succeeded
  std::vector<unsigned char> buffer = std::vector<unsigned char>(size_t(1) << 17);
  uint64_t fileRead = 0;    // bytes read from the file into the buffer so far
  bool fileEnd = false;     // a read of the file returned nothing
  bool memberEnd = false;   // inflate finished a member; no other begun
  int members = 0;          // members begun
  uint64_t memberStart = 0; // the file's offset of the last member begun
  bool finished = false;    // the data ended (cleanly or early)
  bool truncated = false;   // a member ended before its trailer
  ~State() {
    if (inflating)
      inflateEnd(&stream);
    if (file)
      std::fclose(file);
  }
  /// The file's offset of the next byte inflate would read.
  uint64_t offset() const { return fileRead - stream.avail_in; }
  /// Refills the buffer from the file (once its bytes are all used).
  Status fill(const std::string &path) {
    const size_t got = std::fread(buffer.data(), 1, buffer.size(), file);
    if (got == 0) {
      if (std::ferror(file))
        return fail(fmt::format("{}: read error: {}", path, std::strerror(errno)));
      fileEnd = true;
    }
    fileRead += got;
    stream.next_in = buffer.data();
    stream.avail_in = static_cast<uInt>(got);
    return Ok{};
  }
};

GzFile::GzFile(std::unique_ptr<State> state, std::string path, uint64_t size)
    : state(std::move(state)), filePath(std::move(path)), bytesOnDisk(size) {}

GzFile::GzFile(GzFile &&other) noexcept = default;
GzFile &GzFile::operator=(GzFile &&other) noexcept = default;
GzFile::~GzFile() = default;

Result<GzFile> GzFile::open(const std::string &path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0)
    return fail(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  if (S_ISDIR(info.st_mode))
    return fail(fmt::format("{}: is a directory, not a file", path));
  // A device (/dev/zero, /dev/urandom) never ends; a pipe does, so it may be read.
  if (S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode))
    return fail(fmt::format("{}: is a device, not a file of data", path));
  auto s = std::make_unique<State>();
  s->file = std::fopen(path.c_str(), "rb");
  if (!s->file)
    return fail(
        fmt::format("{}: cannot open: {}", path, errno ? std::strerror(errno) : "out of memory"));
  // The first block tells gzip (the signature 1f 8b) from a plain file.
  if (Status filled = s->fill(path); !filled)
    return filled.takeError();
  s->gzip = s->stream.avail_in >= 2 && s->stream.next_in[0] == 0x1f && s->stream.next_in[1] == 0x8b;
  // One named .gz that is not gzip is a mistake (a zip, a renamed file)
  // whose bytes would be read as data.
  if (path.ends_with(".gz") && info.st_size > 0 && !s->gzip)
    return fail(fmt::format("{}: not a gzip file (the name ends in .gz, but the file does not "
                            "start with the gzip signature 1f 8b)",
                            path));
  if (s->gzip) {
    // 16 + MAX_WBITS: gzip members only, with the largest window.
    if (inflateInit2(&s->stream, 16 + MAX_WBITS) != Z_OK)
      return fail(fmt::format("{}: cannot read gzip data: out of memory", path));
    s->inflating = true;
    s->members = 1;
  }
  return GzFile(std::move(s), path, static_cast<uint64_t>(info.st_size));
}

bool GzFile::plain() const { return !state->gzip; }

bool GzFile::truncated() const { return state->truncated; }

uint64_t GzFile::maxDataSize() const {
  if (plain())
    return bytesOnDisk;
  return bytesOnDisk * 1032 + (1 << 16);
}

Result<size_t> GzFile::read(void *dest, size_t size) {
  auto *out = static_cast<char *>(dest);
  State &s = *state;
  if (size == 0) // `dest` may be null then (an empty vector's data())
    return size_t(0);
  if (s.gzip)
    return inflateInto(out, size);
  // A plain file: what the first block left in the buffer, then the file.
  size_t total = std::min<size_t>(size, s.stream.avail_in);
  std::memcpy(out, s.stream.next_in, total);
  s.stream.next_in += total;
  s.stream.avail_in -= static_cast<uInt>(total);
  while (total < size && !s.fileEnd) {
    size_t got = std::fread(out + total, 1, size - total, s.file);
    total += got;
    if (got == 0) {
      if (std::ferror(s.file))
        return fail(fmt::format("{}: read error: {}", filePath, std::strerror(errno)));
      s.fileEnd = true;
    }
  }
  return total;
}

Result<size_t> GzFile::inflateInto(char *out, size_t size) {
  State &s = *state;
  z_stream &z = s.stream;
  size_t total = 0;
  while (total < size && !s.finished) {
    if (z.avail_in == 0 && !s.fileEnd)
      if (Status filled = s.fill(filePath); !filled)
        return filled.takeError();
    if (s.memberEnd) {
      // Between members: the data ends, zeros pad it to the end, or a member begins.
      const uint64_t end = s.offset();
      while (z.avail_in > 0 && *z.next_in == 0) {
        ++z.next_in;
        --z.avail_in;
        if (z.avail_in == 0 && !s.fileEnd)
          if (Status filled = s.fill(filePath); !filled)
            return filled.takeError();
      }
      if (z.avail_in == 0) {
        s.finished = true;
        break;
      }
      if (s.offset() > end)
        return fail(fmt::format("{}: byte {} is not zero, after the padding of zeros that follows "
                                "the gzip data's end at byte {}: the file is damaged, or other "
                                "data was appended to it",
                                filePath, s.offset(), end));
      inflateReset(&z);
      s.memberEnd = false;
      ++s.members;
      s.memberStart = s.offset();
    }
    z.next_out = reinterpret_cast<Bytef *>(out + total);
    z.avail_out = static_cast<uInt>(std::min<size_t>(size - total, 1u << 30));
    const uInt room = z.avail_out;
    const int code = inflate(&z, Z_NO_FLUSH);
    total += room - z.avail_out;
    if (code == Z_STREAM_END) {
      s.memberEnd = true;
    } else if (code == Z_BUF_ERROR) {
      // No progress: the input ran out inside a member.
      if (z.avail_in == 0 && s.fileEnd) {
        s.truncated = true;
        s.finished = true;
      }
    } else if (code == Z_MEM_ERROR) {
      return fail(fmt::format("{}: not enough memory to read the gzip data", filePath));
    } else if (code != Z_OK) {
      std::string what = z.msg ? z.msg : "unknown error";
      if (s.members > 1 && z.total_out == 0 && what == "incorrect header check")
        return fail(fmt::format("{}: the bytes from byte {}, after the end of the gzip data, are "
                                "neither another gzip member nor zeros: the file is damaged, or "
                                "other data was appended to it",
                                filePath, s.memberStart));
      return fail(fmt::format("{}: corrupt gzip data: {}", filePath, what));
    }
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
    reserveHuge(text, used + step);
    text.resize(used + step);
    auto got = read(text.data() + used, step);
    if (!got)
      return got.takeError();
    text.resize(used + *got);
    if (*got < step)
      break;
    step = std::max<size_t>(step, text.size());
  }
  if (state->truncated)
    return fail(fmt::format("{}: truncated gzip file (the compressed data ends early)", filePath));
  return text;
} catch (const std::bad_alloc &) {
  return fail(fmt::format("{}: not enough memory to read the file", filePath));
}

} // namespace mtlrt::detail
