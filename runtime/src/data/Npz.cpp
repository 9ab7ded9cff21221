// Npz.cpp: NumPy's .npz archives: a zip file of .npy members, stored or deflated.
//
// Only what numpy.savez and savez_compressed write is needed, so this reads
// the zip's central directory (zip64 sizes and offsets included), and each
// member's data through its local header, inflating deflated ones with zlib.
#include "data/GzFile.h"
#include "data/NpyDetail.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace mtlrt {
namespace {

uint64_t le(const std::string &s, size_t at, int n) {
  return detail::littleEndian(reinterpret_cast<const unsigned char *>(s.data()) + at, n);
}

/// One member as the central directory describes it.
struct Member {
  std::string name;
  int method = 0;
  uint32_t crc = 0;
  uint64_t compressed = 0, size = 0, offset = 0;
};

/// Reads the zip64 extra field of a central directory entry: the 64-bit
/// values of whichever 32-bit fields hold 0xFFFFFFFF, in this order.
void zip64Sizes(const std::string &zip, size_t extra, size_t length, Member &m) {
  for (size_t at = extra; at + 4 <= extra + length;) {
    const uint64_t id = le(zip, at, 2), size = le(zip, at + 2, 2);
    if (id == 1) {
      size_t p = at + 4;
      for (uint64_t *field : {&m.size, &m.compressed, &m.offset})
        if (*field == 0xFFFFFFFFu && p + 8 <= at + 4 + size) {
          *field = le(zip, p, 8);
          p += 8;
        }
      return;
    }
    at += 4 + size;
  }
}

Result<std::vector<Member>> directory(const std::string &zip, const std::string &path) {
  auto notZip = [&](const std::string &why) {
    return fail(fmt::format("{}: not a .npz archive ({})", path, why));
  };
  if (zip.size() < 22)
    return notZip("too short for a zip file");
  size_t end = std::string::npos;
  for (size_t at = zip.size() - 22;; --at) {
    if (le(zip, at, 4) == 0x06054b50) {
      end = at;
      break;
    }
    if (at == 0 || zip.size() - at > 22 + 65535)
      break;
  }
  if (end == std::string::npos)
    return notZip("no zip end-of-directory record");
  uint64_t count = le(zip, end + 10, 2), offset = le(zip, end + 16, 4);
  if ((count == 0xFFFF || offset == 0xFFFFFFFFu) && end >= 20 &&
      le(zip, end - 20, 4) == 0x07064b50) {
    const uint64_t record = le(zip, end - 20 + 8, 8); // the zip64 end-of-directory record
    if (record + 56 > zip.size() || le(zip, size_t(record), 4) != 0x06064b50)
      return notZip("a broken zip64 record");
    count = le(zip, size_t(record) + 32, 8);
    offset = le(zip, size_t(record) + 48, 8);
  }
  std::vector<Member> members;
  size_t at = size_t(offset);
  for (uint64_t k = 0; k < count; ++k) {
    if (at + 46 > zip.size() || le(zip, at, 4) != 0x02014b50)
      return notZip("a broken central directory");
    Member m;
    m.method = int(le(zip, at + 10, 2));
    m.crc = uint32_t(le(zip, at + 16, 4));
    m.compressed = le(zip, at + 20, 4);
    m.size = le(zip, at + 24, 4);
    const size_t name = le(zip, at + 28, 2), extra = le(zip, at + 30, 2),
                 comment = le(zip, at + 32, 2);
    m.offset = le(zip, at + 42, 4);
    if (at + 46 + name + extra + comment > zip.size())
      return notZip("a broken central directory");
    m.name = zip.substr(at + 46, name);
    zip64Sizes(zip, at + 46 + name, extra, m);
    members.push_back(std::move(m));
    at += 46 + name + extra + comment;
  }
  return members;
}

/// The bytes of member `m`, inflated and checked against its CRC.
Result<std::string> memberBytes(const std::string &zip, const Member &m, const std::string &where) {
  const size_t local = size_t(m.offset);
  if (local + 30 > zip.size() || le(zip, local, 4) != 0x04034b50)
    return fail(fmt::format("{}: a broken zip entry", where));
  const size_t start = local + 30 + le(zip, local + 26, 2) + le(zip, local + 28, 2);
  if (start > zip.size() || m.compressed > zip.size() - start)
    return fail(fmt::format("{}: the archive is cut short", where));
  std::string out;
  if (m.method == 0) {
    out = zip.substr(start, size_t(m.compressed));
  } else if (m.method == 8) {
    if (m.size > uint64_t(m.compressed) * 1032 + 1024)
      return fail(fmt::format("{}: a broken zip entry (its sizes do not fit)", where));
    out.resize(size_t(m.size));
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
      return fail(fmt::format("{}: cannot start zlib", where));
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(zip.data() + start));
    z.avail_in = uInt(m.compressed);
    z.next_out = reinterpret_cast<Bytef *>(out.data());
    z.avail_out = uInt(out.size());
    const int status = inflate(&z, Z_FINISH);
    const uint64_t produced = z.total_out;
    inflateEnd(&z);
    if (status != Z_STREAM_END || produced != m.size)
      return fail(fmt::format("{}: corrupt compressed data", where));
  } else {
    return fail(fmt::format("{}: zip compression method {} is not supported (numpy.savez "
                            "stores, savez_compressed deflates)",
                            where, m.method));
  }
  if (uint32_t(crc32(0, reinterpret_cast<const Bytef *>(out.data()), uInt(out.size()))) != m.crc)
    return fail(fmt::format("{}: CRC mismatch: the archive is corrupt", where));
  return out;
}

} // namespace

Result<std::vector<NpyArray>> readNpz(const std::string &path,
                                      const std::vector<std::string> &only) {
  try {
    auto opened = detail::GzFile::open(path);
    if (!opened)
      return opened.takeError();
    Result<std::string> zip = opened->readAll();
    if (!zip)
      return zip.takeError();
    Result<std::vector<Member>> members = directory(*zip, path);
    if (!members)
      return members.takeError();
    std::vector<NpyArray> arrays;
    for (const Member &m : *members) {
      std::string name = m.name;
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
        name.resize(name.size() - 4);
      if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end())
        continue;
      const std::string where = fmt::format("{}: array '{}'", path, name);
      if (std::any_of(arrays.begin(), arrays.end(),
                      [&](const NpyArray &a) { return a.name == name; }))
        return fail(fmt::format("{}: the archive holds two arrays named '{}'", path, name));
      if (m.compressed > 0xFFFFFFFFu || m.size > 0xFFFFFFFFu)
        return fail(fmt::format("{}: members of 4 GiB or more are not supported", where));
      Result<std::string> bytes = memberBytes(*zip, m, where);
      if (!bytes)
        return bytes.takeError();
      Result<NpyArray> a = detail::npyFromBytes(*bytes, where, name);
      if (!a)
        return a.takeError();
      arrays.push_back(std::move(*a));
    }
    for (const std::string &name : only)
      if (std::none_of(arrays.begin(), arrays.end(),
                       [&](const NpyArray &a) { return a.name == name; })) {
        std::vector<std::string> names;
        for (const Member &m : *members)
          names.push_back(m.name.ends_with(".npy") ? m.name.substr(0, m.name.size() - 4) : m.name);
        return fail(fmt::format("{}: no array named '{}' (it has: {})", path, name,
                                fmt::join(names, ", ")));
      }
    return arrays;
  } catch (const std::bad_alloc &) {
    throw;
  } catch (const std::exception &e) {
    return fail(fmt::format("{}: {}", path, e.what()));
  }
}

} // namespace mtlrt
