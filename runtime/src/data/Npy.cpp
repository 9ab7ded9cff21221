// Npy.cpp: NumPy's .npy format (a text header, then the raw values), read into floats.
#include "mtlrt/Npy.h"

#include "data/GzFile.h"
#include "data/NpyDetail.h"
#include "support/Memory.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace mtlrt {

int64_t NpyArray::rowSize() const {
  int64_t n = 1;
  for (size_t i = 1; i < dims.size(); ++i)
    n *= dims[i];
  return n;
}

namespace detail {
namespace {

/// The text after `key` in the header dictionary: "'descr': '<f4', ..." gives "'<f4', ...".
std::optional<std::string> after(const std::string &header, const std::string &key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    return std::nullopt;
  at = header.find(':', at);
  if (at == std::string::npos)
    return std::nullopt;
  at = header.find_first_not_of(' ', at + 1);
  return at == std::string::npos ? std::nullopt : std::optional(header.substr(at));
}

/// The value of type T at `p`, as an R.
template <class T, class R = float> R as(const unsigned char *p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<R>(v);
}

} // namespace

Result<NpyHeader> parseNpyHeader(const std::string &bytes, const std::string &where) {
  auto bad = [&](const std::string &what) { return fail(fmt::format("{}: {}", where, what)); };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return bad("not a NumPy .npy array (no \\x93NUMPY magic)");
  const auto *u = reinterpret_cast<const unsigned char *>(bytes.data());
  const int major = u[6];
  if (major < 1 || major > 3)
    return bad(fmt::format("unknown .npy format version {}", major));
  const size_t lengthBytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + lengthBytes)
    return bad("its header is cut short");
  const size_t length = size_t(littleEndian(u + 8, int(lengthBytes)));
  NpyHeader h;
  h.dataOffset = 8 + lengthBytes + length;
  if (bytes.size() < h.dataOffset)
    return bad("its header is cut short");
  const std::string header = bytes.substr(8 + lengthBytes, length);
  auto descr = after(header, "descr");
  auto order = after(header, "fortran_order");
  auto shape = after(header, "shape");
  if (descr && (*descr)[0] == '[')
    return bad("its dtype is a structured (record) one; save each field as an array of its own");
  if (!descr || !order || !shape || (*descr)[0] != '\'' || (*shape)[0] != '(')
    return bad(fmt::format("its header is not NumPy's: {}", header));
  h.dtype = descr->substr(1, descr->find('\'', 1) - 1);
  if (order->rfind("True", 0) == 0)
    return bad("the array is in Fortran order; save it in C order (numpy.ascontiguousarray)");
  for (size_t at = 1; at < shape->size() && (*shape)[at] != ')';) {
    size_t end = 0;
    const std::string rest = shape->substr(at);
    long long d = -1;
    try {
      d = std::stoll(rest, &end);
    } catch (const std::exception &) {
      return bad(fmt::format("its shape is not a tuple of sizes: {}", header));
    }
    if (d < 0)
      return bad(fmt::format("its shape is not a tuple of sizes: {}", header));
    h.dims.push_back(d);
    at += end;
    at = shape->find_first_not_of(", ", at);
    if (at == std::string::npos)
      return bad(fmt::format("its shape is not a tuple of sizes: {}", header));
  }
  if (h.dims.empty())
    return bad("it holds a single value (a 0-d array); a data set needs one row per item");
  const std::string &t = h.dtype;
  if (t.size() < 3 || (t[0] != '<' && t[0] != '|' && t[0] != '='))
    return bad(t.size() >= 3 && t[0] == '>'
                   ? fmt::format("dtype '{}' is big-endian; save it little-endian "
                                 "(a.astype('<{}'))",
                                 t, t.substr(1))
                   : fmt::format("dtype '{}' is not supported (use float32, float64, integers "
                                 "or bool)",
                                 t));
  const std::string kind = t.substr(1);
  static const std::vector<std::string> known = {"f4", "f8", "i1", "i2", "i4", "i8",
                                                 "u1", "u2", "u4", "u8", "b1"};
  if (std::find(known.begin(), known.end(), kind) == known.end())
    return bad(fmt::format("dtype '{}' is not supported (use float32, float64, integers or "
                           "bool)",
                           t));
  h.itemBytes = kind[1] - '0';
  return h;
}

Result<NpyArray> npyFromBytes(const std::string &bytes, const std::string &where,
                              std::string name) {
  Result<NpyHeader> h = parseNpyHeader(bytes, where);
  if (!h)
    return h.takeError();
  NpyArray a;
  a.name = std::move(name);
  a.dims = h->dims;
  a.dtype = h->dtype;
  uint64_t count = 1;
  for (int64_t d : a.dims)
    if (__builtin_mul_overflow(count, uint64_t(d), &count))
      return fail(fmt::format("{}: its shape is too large", where));
  const uint64_t have = bytes.size() - h->dataOffset;
  if (count > std::numeric_limits<uint64_t>::max() / uint64_t(h->itemBytes))
    return fail(fmt::format("{}: its shape ({}) is too large", where, fmt::join(a.dims, ", ")));
  if (have != count * uint64_t(h->itemBytes))
    return fail(fmt::format("{}: the shape ({}) needs {} bytes of data, the file has {}", where,
                            fmt::join(a.dims, ", "), count * uint64_t(h->itemBytes), have));
  reserveHuge(a.data, count);
  a.data.resize(count);
  const auto *p = reinterpret_cast<const unsigned char *>(bytes.data()) + h->dataOffset;
  const std::string kind = a.dtype.substr(1);
  float (*convert)(const unsigned char *) = kind == "f4"   ? as<float>
                                            : kind == "f8" ? as<double>
                                            : kind == "i1" ? as<int8_t>
                                            : kind == "i2" ? as<int16_t>
                                            : kind == "i4" ? as<int32_t>
                                            : kind == "i8" ? as<int64_t>
                                            : kind == "u2" ? as<uint16_t>
                                            : kind == "u4" ? as<uint32_t>
                                            : kind == "u8" ? as<uint64_t>
                                                           : as<uint8_t>; // u1, b1
  for (uint64_t i = 0; i < count; ++i, p += h->itemBytes)
    a.data[i] = convert(p);
  // An integer beyond 2^24 may have no float of its own (an id would become
  // another id): refuse it rather than change it.
  const bool wide = kind == "i4" || kind == "i8" || kind == "u4" || kind == "u8";
  p = reinterpret_cast<const unsigned char *>(bytes.data()) + h->dataOffset;
  for (uint64_t i = 0; wide && i < count; ++i, p += h->itemBytes) {
    if (std::fabs(a.data[i]) < 16777216.0f)
      continue;
    const long double exact = kind == "i4"   ? (long double)as<int32_t, int32_t>(p)
                              : kind == "i8" ? (long double)as<int64_t, int64_t>(p)
                              : kind == "u4" ? (long double)as<uint32_t, uint32_t>(p)
                                             : (long double)as<uint64_t, uint64_t>(p);
    if ((long double)a.data[i] != exact)
      return fail(fmt::format("{}: item {} of the array is {:.0f}, which a 32-bit float cannot "
                              "hold exactly (integers above 2^24 = 16777216 are rounded); scale "
                              "or renumber the values",
                              where, i, double(exact)));
  }
  return a;
}

} // namespace detail

Result<NpyArray> readNpy(const std::string &path) {
  try {
    auto opened = detail::GzFile::open(path);
    if (!opened)
      return opened.takeError();
    Result<std::string> bytes = opened->readAll();
    if (!bytes)
      return bytes.takeError();
    return detail::npyFromBytes(*bytes, path, path);
  } catch (const std::bad_alloc &) {
    throw;
  } catch (const std::exception &e) {
    return fail(fmt::format("{}: {}", path, e.what()));
  }
}

} // namespace mtlrt
