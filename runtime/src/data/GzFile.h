// GzFile.h: reading plain or gzip-compressed files through zlib (private to the runtime).
#pragma once

#include "mtlrt/Result.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace mtlrt::detail {

/// A file read plain, or through zlib's inflate where it starts with the
/// gzip signature, so every loader accepts both forms. A gzip file may hold
/// several members (`cat a.gz b.gz`), read one after the other; bytes after
/// the last one that are not a member are an error (zeros, a padding some
/// tools add, are not), so a member whose header is damaged does not drop
/// its rows without a word. Move-only.
class GzFile {
public:
  /// Opens `path`; fails with "path: cannot open: <reason>", "path: is a
  /// directory", or "path: not a gzip file" when a non-empty file named .gz
  /// does not hold gzip data.
  static Result<GzFile> open(const std::string &path);

  GzFile(GzFile &&other) noexcept;
  GzFile &operator=(GzFile &&other) noexcept;
  ~GzFile();

  /// Reads up to `size` bytes into `dest`; returns the count, which is less than
  /// `size` only at the end of the data. A gzip stream that ends early counts
  /// as an end (see truncated()); corrupt compressed data, and bytes after
  /// a member that begin no other, are errors.
  Result<size_t> read(void *dest, size_t size);
  /// Reads everything that is left; a truncated gzip stream is an error here.
  Result<std::string> readAll();

  /// True once a read met a gzip stream that ended before its trailer.
  bool truncated() const;
  /// True when the file is not gzip-compressed.
  bool plain() const;
  /// Size of the file on disk (compressed size for gzip files).
  uint64_t diskSize() const { return bytesOnDisk; }
  /// An upper bound on the number of bytes read() can return, from the size on
  /// disk (deflate expands at most ~1032:1); guards allocations against
  /// corrupt headers that claim huge sizes.
  uint64_t maxDataSize() const;
  const std::string &path() const { return filePath; }

private:
  struct State; // the open file and zlib's stream, kept here so zlib.h stays out of headers
  GzFile(std::unique_ptr<State> state, std::string path, uint64_t size);
  Result<size_t> inflateInto(char *out, size_t size);
  std::unique_ptr<State> state;
  std::string filePath;
  uint64_t bytesOnDisk = 0;
};

} // namespace mtlrt::detail
