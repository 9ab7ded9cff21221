// Idx.cpp: the IDX reader: validate the header, then read the data in one piece.
#include "mtlrt/Idx.h"

#include "data/GzFile.h"
#include "support/Memory.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <new>

namespace mtlrt {
namespace {

/// No real IDX file comes near this; a header claiming more is corrupt.
constexpr int64_t maxIdxElements = int64_t(1) << 40;

const char *typeName(uint8_t type) {
  switch (type) {
  case 0x08:
    return "unsigned byte";
  case 0x09:
    return "signed byte";
  case 0x0B:
    return "short";
  case 0x0C:
    return "int";
  case 0x0D:
    return "float";
  case 0x0E:
    return "double";
  default:
    return "unknown";
  }
}

Result<IdxArray> readIdxImpl(const std::string &path) {
  auto opened = detail::GzFile::open(path);
  if (!opened)
    return opened.takeError();
  detail::GzFile &file = *opened;

  uint8_t magic[4];
  auto got = file.read(magic, sizeof magic);
  if (!got)
    return got.takeError();
  if (*got == 0)
    return fail(file.truncated()
                    ? fmt::format("{}: truncated gzip file (the compressed data ends early)", path)
                    : fmt::format("{}: file is empty", path));
  if (*got < 4)
    return fail(fmt::format("{}: truncated: the IDX header needs 4 bytes, found {}", path, *got));
  if (magic[0] != 0 || magic[1] != 0)
    return fail(fmt::format("{}: not an IDX file (the magic number starts {:02x} {:02x}, not 00 "
                            "00)",
                            path, magic[0], magic[1]));
  if (magic[2] != 0x08)
    return fail(fmt::format("{}: IDX element type 0x{:02X} ({}) is not supported; only 0x08 "
                            "(unsigned byte) is",
                            path, magic[2], typeName(magic[2])));
  const int rank = magic[3];
  if (rank == 0)
    return fail(fmt::format("{}: IDX rank is 0; an array needs at least one dimension", path));

  std::vector<uint8_t> header(4 * static_cast<size_t>(rank));
  got = file.read(header.data(), header.size());
  if (!got)
    return got.takeError();
  if (*got < header.size())
    return fail(fmt::format("{}: truncated: the IDX header of rank {} needs {} bytes, found {}",
                            path, rank, 4 + header.size(), 4 + *got));
  IdxArray array;
  int64_t total = 1;
  for (int i = 0; i < rank; ++i) {
    const uint8_t *b = &header[4 * static_cast<size_t>(i)];
    int64_t dim = (int64_t(b[0]) << 24) | (int64_t(b[1]) << 16) | (int64_t(b[2]) << 8) | b[3];
    array.dims.push_back(dim);
    // No items is a valid (empty) array; items of no values are not.
    if (dim == 0 && i > 0)
      return fail(fmt::format("{}: IDX dimension {} is 0 (dimensions [{}...]): its items would "
                              "hold no values",
                              path, i + 1, fmt::join(array.dims, ", ")));
    if (dim != 0 && total > maxIdxElements / dim)
      return fail(fmt::format("{}: IDX dimensions [{}...] are too large to be real", path,
                              fmt::join(array.dims, ", ")));
    total *= dim;
  }

  // The header is untrusted: never allocate more than the file can hold.
  const uint64_t expected = static_cast<uint64_t>(total);
  const uint64_t room = std::min<uint64_t>(expected, file.maxDataSize());
  reserveHuge(array.data, static_cast<size_t>(room));
  array.data.resize(static_cast<size_t>(room));
  got = file.read(array.data.data(), array.data.size());
  if (!got)
    return got.takeError();
  uint64_t found = *got;
  if (found == room && room < expected) {
    uint8_t sink[1 << 16];
    for (;;) { // count what is really there, for the message
      auto more = file.read(sink, sizeof sink);
      if (!more)
        return more.takeError();
      found += *more;
      if (*more < sizeof sink)
        break;
    }
  }
  if (found < expected)
    return fail(fmt::format("{}: truncated: expected {} data bytes, found {}{}", path, expected,
                            found, file.truncated() ? " (the gzip stream ends early)" : ""));
  uint8_t extra[1];
  got = file.read(extra, 1); // also makes zlib verify the gzip trailer's checksum
  if (!got)
    return got.takeError();
  if (*got != 0)
    return fail(fmt::format("{}: more data than the IDX header's dimensions [{}] account for", path,
                            fmt::join(array.dims, ", ")));
  if (file.truncated())
    return fail(fmt::format("{}: truncated gzip file (the compressed data ends early)", path));
  return array;
}

} // namespace

int64_t IdxArray::itemSize() const {
  int64_t size = 1;
  for (size_t i = 1; i < dims.size(); ++i)
    size *= dims[i];
  return size;
}

Result<IdxArray> readIdx(const std::string &path) {
  try {
    return readIdxImpl(path);
  } catch (const std::bad_alloc &) {
    throw;
  } catch (const std::exception &e) {
    return fail(fmt::format("{}: {}", path, e.what()));
  }
}

} // namespace mtlrt
