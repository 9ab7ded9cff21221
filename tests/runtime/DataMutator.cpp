// DataMutator.cpp: seeded mutations of data files: bytes, CSV cells and lines.
#include "DataMutator.h"

#include <zlib.h>

#include <algorithm>
#include <iterator>
#include <vector>

namespace datafuzz {
namespace {

// Cells worth trying: non-finite and out-of-range numbers, markers, quotes,
// separators, control bytes, a BOM and text where numbers belong.
const char *const kTokens[] = {"nan",      "NaN",         "-nan",    "inf",    "-inf",
                               "Infinity", "1e39",        "-1e39",   "3.4e38", "1e-50",
                               "-0",       "+1",          "0x1A",    "1,5",    "",
                               " ",        "NA",          "\"",      "\"\"",   "\"a,b\"",
                               "\"x\ny\"", "\r",          "\t",      "-1",     "3",
                               "2.5",      "99999999999", "1000001", "abc",    "\xEF\xBB\xBF",
                               "\x01",     "\xFF",        "1e",      ".",      "--1",
                               "1..2",     "0",           "1",       "2"};

std::vector<std::string> splitLines(const std::string &s) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at <= s.size()) {
    size_t end = s.find('\n', at);
    if (end == std::string::npos) {
      lines.push_back(s.substr(at));
      break;
    }
    lines.push_back(s.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

std::string joinLines(const std::vector<std::string> &lines) {
  std::string s;
  for (size_t i = 0; i < lines.size(); ++i)
    s += (i ? "\n" : "") + lines[i];
  return s;
}

std::vector<std::string> splitCells(const std::string &line, char sep) {
  std::vector<std::string> cells(1);
  for (char c : line)
    if (c == sep)
      cells.emplace_back();
    else
      cells.back().push_back(c);
  return cells;
}

std::string joinCells(const std::vector<std::string> &cells, char sep) {
  std::string s;
  for (size_t i = 0; i < cells.size(); ++i)
    s += (i ? std::string(1, sep) : "") + cells[i];
  return s;
}

} // namespace

std::string gzipBytes(const std::string &bytes) {
  uLongf size = compressBound(static_cast<uLong>(bytes.size())) + 32;
  std::string out(size, '\0');
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY); // 16: a gzip wrapper
  z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef *>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

/// Byte-level damage, for any file.
void mutateBytes(std::string &s, Rng &rng) {
  static const char kBytes[] = {0, 1, '\n', '\r', '"', ',', ' ', '\x7F', '\x80', '\xFF'};
  switch (rng.below(7)) {
  case 0: // flip a bit
    if (!s.empty())
      s[rng.below(s.size())] ^= static_cast<char>(1u << rng.below(8));
    break;
  case 1: // replace a byte
    if (!s.empty())
      s[rng.below(s.size())] =
          rng.chance(50) ? kBytes[rng.below(sizeof kBytes)] : static_cast<char>(rng.below(256));
    break;
  case 2: // insert bytes
    for (size_t k = 1 + rng.below(4); k > 0; --k)
      s.insert(s.begin() + static_cast<long>(rng.below(s.size() + 1)),
               kBytes[rng.below(sizeof kBytes)]);
    break;
  case 3: // delete a range
    if (!s.empty()) {
      size_t at = rng.below(s.size());
      s.erase(at, 1 + rng.below(std::min<size_t>(16, s.size() - at)));
    }
    break;
  case 4: // truncate
    s.resize(rng.below(s.size() + 1));
    break;
  case 5: // repeat a range
    if (!s.empty()) {
      size_t a = rng.below(s.size()), n = 1 + rng.below(std::min<size_t>(64, s.size() - a));
      s.insert(rng.below(s.size() + 1), s.substr(a, n));
    }
    break;
  default: // overwrite a big-endian 32-bit word (an IDX size, a gzip length) with an edge value
    if (s.size() >= 4) {
      static const uint32_t kWords[] = {0, 1, 2, 3, 5, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 16, 17};
      uint32_t w = kWords[rng.below(std::size(kWords))];
      size_t at = rng.chance(70) ? 4 * rng.below(std::min<size_t>(4, s.size() / 4))
                                 : rng.below(s.size() - 3);
      for (int k = 0; k < 4; ++k)
        s[at + k] = static_cast<char>((w >> (24 - 8 * k)) & 0xFF);
    }
    break;
  }
}

/// Cell- and line-level damage to delimited text.
void mutateTable(std::string &s, char sep, Rng &rng) {
  std::vector<std::string> lines = splitLines(s);
  std::string &line = lines[rng.below(lines.size())];
  std::vector<std::string> cells = splitCells(line, sep);
  std::string &cell = cells[rng.below(cells.size())];
  switch (rng.below(10)) {
  case 0: // a nasty token for a cell
  case 1:
    cell = kTokens[rng.below(std::size(kTokens))];
    break;
  case 2: // a cell deleted or repeated: a ragged row
    if (rng.chance(50) && cells.size() > 1)
      cells.erase(cells.begin() + static_cast<long>(rng.below(cells.size())));
    else
      cells.push_back(cell);
    break;
  case 3: { // a header name repeated
    std::vector<std::string> names = splitCells(lines[0], sep);
    names[rng.below(names.size())] = names[rng.below(names.size())];
    lines[0] = joinCells(names, sep);
    s = joinLines(lines);
    return;
  }
  case 4: // a cell quoted, with a separator or a line break inside now and then
    cell = "\"" + cell + (rng.chance(30) ? std::string(1, sep) : rng.chance(30) ? "\n" : "") + "\"";
    break;
  case 5: { // a line repeated, deleted or swapped with another
    size_t a = rng.below(lines.size()), b = rng.below(lines.size());
    if (rng.chance(34))
      lines.insert(lines.begin() + static_cast<long>(a), lines[b]);
    else if (rng.chance(50) && lines.size() > 1)
      lines.erase(lines.begin() + static_cast<long>(a));
    else
      std::swap(lines[a], lines[b]);
    s = joinLines(lines);
    return;
  }
  case 6: // CRLF endings
    for (std::string &l : lines)
      l += "\r";
    s = joinLines(lines);
    return;
  case 7: // a byte-order mark, or a blank line, in front
    s = (rng.chance(50) ? "\xEF\xBB\xBF" : "\n") + s;
    return;
  case 8: // a cell's number scaled far out
    cell += rng.chance(50) ? "e38" : "e39";
    break;
  default: // one cell of a column emptied: a missing value
    cell.clear();
    break;
  }
  line = joinCells(cells, sep);
  s = joinLines(lines);
}

} // namespace datafuzz
