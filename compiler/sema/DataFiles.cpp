// DataFiles.cpp: CSV header and IDX header reading through zlib (which reads plain files too).
#include "sema/DataFiles.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace mtl::sema {
namespace {

constexpr size_t kMaxRecord = 64u << 20; // a header longer than this is not one

struct GzFile {
  gzFile f;
  explicit GzFile(const std::string &path) : f(gzopen(path.c_str(), "rb")) {}
  ~GzFile() {
    if (f)
      gzclose(f);
  }
};

// One physical line without its line break, NUL bytes and all (gzgets
// would end it at one); false at end of file.
bool readLine(gzFile f, std::string &line) {
  line.clear();
  bool any = false;
  for (int c; line.size() <= kMaxRecord && (c = gzgetc(f)) != -1;) {
    any = true;
    if (c == '\n')
      break;
    line.push_back(static_cast<char>(c));
  }
  while (!line.empty() && line.back() == '\r')
    line.pop_back();
  return any;
}

bool blankLine(const std::string &line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

std::string trimmed(const std::string &name) {
  size_t from = name.find_first_not_of(" \t\r");
  if (from == std::string::npos)
    return "";
  return name.substr(from, name.find_last_not_of(" \t\r") - from + 1);
}

// A carriage return outside quotes that ends no line (readLine took the
// line break's): the file's lines end with CR alone.
bool bareCarriageReturn(const std::string &record) {
  bool quoted = false;
  for (char c : record)
    if (c == '"')
      quoted = !quoted;
    else if (c == '\r' && !quoted)
      return true;
  return false;
}

bool openQuote(const std::string &record) {
  bool open = false;
  for (char c : record)
    if (c == '"')
      open = !open;
  return open;
}

} // namespace

std::vector<std::string> splitCsvRecord(const std::string &record, char sep) {
  std::vector<std::string> fields;
  size_t i = 0, n = record.size();
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  if (sep == ' ') {
    while (i < n && blank(record[i]))
      ++i;
    if (i == n)
      return fields;
  }
  while (true) {
    std::string field;
    if (i < n && record[i] == '"') {
      for (++i; i < n; ++i) {
        if (record[i] != '"') {
          field.push_back(record[i]);
        } else if (i + 1 < n && record[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          ++i;
          break;
        }
      }
    }
    while (i < n && !(sep == ' ' ? blank(record[i]) : record[i] == sep))
      field.push_back(record[i++]);
    fields.push_back(std::move(field));
    if (i >= n)
      break;
    if (sep == ' ') {
      while (i < n && blank(record[i]))
        ++i;
      if (i == n)
        break;
    } else {
      ++i;
      if (i == n) {
        fields.emplace_back();
        break;
      }
    }
  }
  return fields;
}

std::optional<CsvColumns> readCsvColumns(const std::string &path, bool header, char sep,
                                         int64_t skip) {
  GzFile in(path);
  if (!in.f)
    return std::nullopt;
  CsvColumns out;
  char bom[2] = {};
  if (gzread(in.f, bom, 2) == 2 &&
      (std::string_view(bom, 2) == "\xFF\xFE" || std::string_view(bom, 2) == "\xFE\xFF")) {
    out.notText = "is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8";
    return out;
  }
  gzrewind(in.f);
  std::string line;
  CsvColumns ended;
  // The file ended, or could not be read (a truncated gzip file, a read error).
  auto ends = [&](int64_t lines) {
    int code = Z_OK;
    const char *message = gzerror(in.f, &code);
    if (code == Z_BUF_ERROR)
      ended.unreadable = "truncated gzip file (the compressed data ends early)";
    else if (code == Z_ERRNO)
      ended.unreadable = std::strerror(errno);
    else if (code != Z_OK && code != Z_STREAM_END)
      ended.unreadable = message ? message : "read error";
    else
      ended.endsAfter = lines;
    return ended;
  };
  for (int64_t i = 0; i < skip; ++i)
    if (!readLine(in.f, line))
      return ends(i);
  // After the lines skipped (which may be anything), binary files and UTF-16
  // text hold NUL bytes, which no CSV text does.
  const z_off_t at = gztell(in.f);
  char probe[4096];
  const int got = gzread(in.f, probe, sizeof probe);
  if (std::string_view(probe, size_t(std::max(got, 0))).find('\0') != std::string_view::npos) {
    out.notText = "is not CSV text: it holds NUL bytes (a binary file, or UTF-16 text without "
                  "its byte-order mark)";
    return out;
  }
  gzseek(in.f, at, SEEK_SET);
  // The record: the first line after those skipped that is not blank.
  std::string record;
  int64_t lines = skip;
  do {
    if (!readLine(in.f, record))
      return ends(lines);
    if (++lines == 1 && record.rfind("\xEF\xBB\xBF", 0) == 0) // a UTF-8 byte order mark
      record.erase(0, 3);
  } while (blankLine(record));
  // A quoted field may hold line breaks.
  while (openQuote(record) && record.size() < kMaxRecord && readLine(in.f, line))
    record += "\n" + line;
  if (bareCarriageReturn(record)) { // CR line ends: one line holds the whole file
    out.notText = "ends its lines with a carriage return alone (classic Mac text); save it with "
                  "LF or CRLF line ends";
    return out;
  }
  std::vector<std::string> fields = splitCsvRecord(record, sep);
  out.count = static_cast<int64_t>(fields.size());
  if (header)
    for (const std::string &field : fields)
      out.names.push_back(trimmed(field));
  return out;
}

std::optional<char> likelySeparator(const std::string &header, const std::string &wanted,
                                    char sep) {
  std::optional<char> best;
  size_t most = 0;
  for (char c : {';', '\t', '|', ','}) {
    size_t n = static_cast<size_t>(std::count(header.begin(), header.end(), c));
    if (c != sep && n > most) {
      most = n;
      best = c;
    }
  }
  if (best || sep == ' ')
    return best;
  // Blanks also occur inside names ("body mass"), so they only count when
  // the missing name is one of the words.
  std::vector<std::string> words = splitCsvRecord(header, ' ');
  if (words.size() > 1 && std::find(words.begin(), words.end(), wanted) != words.end())
    return ' ';
  return std::nullopt;
}

std::string separatorHint(const std::string &wanted, const std::string &path,
                          const std::string &header, char likely) {
  // The first two fields show the pattern; the rest would only be long.
  std::vector<std::string> fields = splitCsvRecord(header, likely);
  std::string gap = likely == '\t' ? "\\t" : std::string(1, likely);
  std::string shown = fields.empty() ? "" : fields[0];
  if (fields.size() > 1)
    shown += gap + fields[1] + (fields.size() > 2 ? gap + "..." : "");
  if (shown.size() > 80)
    shown = shown.substr(0, 77) + "...";
  std::string by = likely == '\t' ? "tabs" : likely == ' ' ? "blanks" : fmt::format("'{}'", likely);
  return fmt::format("no column named '{}' in '{}': its header has one column '{}'; is the file "
                     "separated by {}? add sep = \"{}\" to csv(...)",
                     wanted, path, shown, by, gap);
}

std::optional<std::vector<int64_t>> readIdxDims(const std::string &path, std::string &error) {
  GzFile in(path);
  if (!in.f) {
    error = "cannot be opened";
    return std::nullopt;
  }
  unsigned char magic[4];
  if (gzread(in.f, magic, 4) != 4 || magic[0] != 0 || magic[1] != 0 || magic[3] < 1 ||
      magic[3] > 8) {
    error = "is not an IDX file";
    return std::nullopt;
  }
  std::vector<int64_t> dims;
  for (int i = 0; i < magic[3]; ++i) {
    unsigned char b[4];
    if (gzread(in.f, b, 4) != 4) {
      error = "is not an IDX file (its header is cut short)";
      return std::nullopt;
    }
    dims.push_back((int64_t(b[0]) << 24) | (int64_t(b[1]) << 16) | (int64_t(b[2]) << 8) |
                   int64_t(b[3]));
  }
  // The values per item, as callers multiply them, must not overflow: a
  // header of such dimensions is no real data (the reader refuses it too).
  constexpr int64_t kMaxValues = int64_t(1) << 40;
  int64_t values = 1;
  for (size_t i = 1; i < dims.size(); ++i) {
    if (dims[i] != 0 && values > kMaxValues / dims[i]) {
      error = fmt::format("has IDX dimensions [{}] too large to be real", fmt::join(dims, ", "));
      return std::nullopt;
    }
    values *= dims[i];
  }
  return dims;
}

bool isFile(const std::string &path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

} // namespace mtl::sema
