// NpyFiles.cpp: peeking into NumPy files at check time: .npy headers and .npz member names.
//
// The runtime reads these files whole (runtime/src/data/Npy.cpp, Npz.cpp); sema
// only needs the shapes and names, to report a mismatch at its binding.
#include "sema/NpyFiles.h"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <zlib.h>

namespace mtl::sema {
namespace {

uint64_t le(const std::string &s, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(s[at + size_t(i)]);
  return v;
}

/// The quoted or bare text after `'key':` in a header dictionary.
std::string valueOf(const std::string &header, const std::string &key) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos || (at = header.find(':', at)) == std::string::npos)
    return "";
  at = header.find_first_not_of(' ', at + 1);
  return at == std::string::npos ? "" : header.substr(at);
}

} // namespace

std::optional<NpyShape> readNpyShape(const std::string &path, std::string &error) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) {
    error = "cannot be opened";
    return std::nullopt;
  }
  char start[12] = {};
  const int got = gzread(f, start, sizeof start);
  std::string header;
  const int major = got >= 10 ? static_cast<unsigned char>(start[6]) : 0;
  if (got >= 10 && std::string(start, 6) == "\x93NUMPY" && major >= 1 && major <= 3) {
    const std::string bytes(start, size_t(got));
    const size_t lengthBytes = major == 1 ? 2 : 4, length = size_t(le(bytes, 8, int(lengthBytes)));
    header.assign(start + 8 + lengthBytes, size_t(got) - 8 - lengthBytes);
    if (length < (1u << 20) && length > header.size()) {
      std::string rest(length - header.size(), '\0');
      if (gzread(f, rest.data(), unsigned(rest.size())) == int(rest.size()))
        header += rest;
      else
        header.clear();
    }
  }
  gzclose(f);
  const std::string descr = valueOf(header, "descr"), shape = valueOf(header, "shape");
  if (!descr.empty() && descr[0] == '[') {
    error = "holds a structured (record) dtype; save each field as an array of its own";
    return std::nullopt;
  }
  if (descr.empty() || descr[0] != '\'' || shape.empty() || shape[0] != '(') {
    error = "is not a NumPy .npy array";
    return std::nullopt;
  }
  NpyShape out;
  out.dtype = descr.substr(1, descr.find('\'', 1) - 1);
  for (size_t at = 1; at < shape.size() && shape[at] != ')';) {
    char *end = nullptr;
    const long long d = std::strtoll(shape.c_str() + at, &end, 10);
    if (end == shape.c_str() + at || d < 0) {
      error = "is not a NumPy .npy array (its shape is not a tuple of sizes)";
      return std::nullopt;
    }
    out.dims.push_back(d);
    at = shape.find_first_not_of(", ", size_t(end - shape.c_str()));
    if (at == std::string::npos)
      break;
  }
  static const std::vector<std::string> kinds = {"f4", "f8", "i1", "i2", "i4", "i8",
                                                 "u1", "u2", "u4", "u8", "b1"};
  const std::string &t = out.dtype;
  if (t.size() == 3 && t[0] == '>')
    error = fmt::format("has big-endian dtype '{}'; save it little-endian (a.astype('<{}'))", t,
                        t.substr(1));
  else if (t.size() != 3 || (t[0] != '<' && t[0] != '|' && t[0] != '=') ||
           std::find(kinds.begin(), kinds.end(), t.substr(1)) == kinds.end())
    error = fmt::format("has dtype '{}', which is not supported (use float32, float64, integers "
                        "or bool)",
                        t);
  else if (valueOf(header, "fortran_order").rfind("True", 0) == 0)
    error = "is in Fortran order; save it in C order (numpy.ascontiguousarray)";
  else if (out.dims.empty())
    error = "holds a single value (a 0-d array); a data set needs one row per item";
  else
    return out;
  return std::nullopt;
}

std::optional<std::vector<std::string>> readNpzNames(const std::string &path, std::string &error) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    error = "cannot be opened";
    return std::nullopt;
  }
  // The end-of-directory record is in the last 22 + 65535 bytes.
  const std::streamoff size = in.tellg();
  const std::streamoff tail = std::min<std::streamoff>(size, 22 + 65535);
  std::string bytes(size_t(tail), '\0');
  in.seekg(size - tail);
  in.read(bytes.data(), tail);
  size_t end = std::string::npos;
  for (size_t at = bytes.size() >= 22 ? bytes.size() - 22 : 0; bytes.size() >= 22; --at) {
    if (le(bytes, at, 4) == 0x06054b50) {
      end = at;
      break;
    }
    if (at == 0)
      break;
  }
  if (end == std::string::npos) {
    error = "is not a .npz archive (not a zip file)";
    return std::nullopt;
  }
  uint64_t count = le(bytes, end + 10, 2), offset = le(bytes, end + 16, 4);
  if ((count == 0xFFFF || offset == 0xFFFFFFFFu) && end >= 20 &&
      le(bytes, end - 20, 4) == 0x07064b50) {
    std::string record(56, '\0');
    in.seekg(std::streamoff(le(bytes, end - 20 + 8, 8)));
    if (!in.read(record.data(), 56) || le(record, 0, 4) != 0x06064b50) {
      error = "is not a .npz archive (a broken zip64 record)";
      return std::nullopt;
    }
    count = le(record, 32, 8);
    offset = le(record, 48, 8);
  }
  std::vector<std::string> names;
  in.clear();
  in.seekg(std::streamoff(offset));
  for (uint64_t k = 0; k < count; ++k) {
    std::string entry(46, '\0');
    if (!in.read(entry.data(), 46) || le(entry, 0, 4) != 0x02014b50) {
      error = "is not a .npz archive (a broken zip directory)";
      return std::nullopt;
    }
    std::string name(le(entry, 28, 2), '\0');
    in.read(name.data(), std::streamsize(name.size()));
    in.seekg(std::streamoff(le(entry, 30, 2) + le(entry, 32, 2)), std::ios::cur);
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
      name.resize(name.size() - 4);
    names.push_back(std::move(name));
  }
  return names;
}

} // namespace mtl::sema
