// Csv.cpp: the delimited-text reader: quoting, line endings, blank lines, headers.
#include "mtlrt/Csv.h"

#include "data/GzFile.h"
#include "support/Memory.h"

#include <fmt/format.h>

#include <algorithm>
#include <new>
#include <string_view>
#include <unordered_map>

namespace mtlrt {
namespace {

bool isBlank(char c) { return c == ' ' || c == '\t'; }

enum class Scan { Row, End, NeedMore, Error };

/// A record-at-a-time scanner over text that may be only a prefix of the file
/// (`eof` false): it then answers NeedMore rather than guess at a record that
/// might continue in the next chunk.
class Parser {
public:
  Parser(std::string_view text, bool eof, const CsvOptions &options)
      : text(text), eof(eof), path(options.path), sep(options.separator),
        blanks(options.separator == ' ') {
    if (this->text.substr(0, 3) == "\xEF\xBB\xBF")
      pos = 3;
  }

  std::string error;
  int64_t line = 1;

  /// Fails on a UTF-16 byte-order mark: such text is not ASCII-compatible, so
  /// it would otherwise surface as a puzzling error about fields or numbers.
  Scan checkEncoding() {
    if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF")) {
      error = fmt::format("{}:1: the file is UTF-16 text (it starts with a UTF-16 byte-order "
                          "mark); save it as UTF-8",
                          path);
      return Scan::Error;
    }
    return Scan::Row;
  }

  /// Drops `count` physical lines, quotes or not: skipped lines are not CSV.
  Scan skipLines(int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) {
        if (!eof)
          return Scan::NeedMore;
        int64_t lines = i + (pos < text.size() ? 1 : 0);
        error = fmt::format("{}: cannot skip {} line{}: the file has only {}", path, count,
                            count == 1 ? "" : "s", lines);
        return Scan::Error;
      }
      pos = end + 1;
      ++line;
    }
    return Scan::Row;
  }

  /// Parses the next non-blank record into `fields`; `startLine` is where it begins.
  Scan next(std::vector<std::string> &fields, int64_t &startLine) {
    fields.clear();
    if (Scan s = skipBlankLines(); s != Scan::Row)
      return s;
    startLine = line;
    const size_t n = text.size();
    for (;;) {
      if (blanks)
        while (pos < n && isBlank(text[pos]))
          ++pos;
      std::string field;
      bool quoted = pos < n && text[pos] == '"';
      if (quoted) {
        if (Scan s = quotedField(field); s != Scan::Row)
          return s;
      } else {
        size_t end = pos; // a loop: find_first_of calls memchr on its set per character
        if (blanks)
          while (end < n && !isBlank(text[end]) && text[end] != '\n')
            ++end;
        else
          while (end < n && text[end] != sep && text[end] != '\n')
            ++end;
        field = std::string(trimCell(text.substr(pos, end - pos)));
        pos = end;
        if (field.find('\r') != std::string::npos) {
          error = fmt::format("{}:{}: a carriage return inside field {}: the file's lines end "
                              "with a carriage return alone (classic Mac text); save it with LF "
                              "or CRLF line ends",
                              path, line, fields.size() + 1);
          return Scan::Error;
        }
      }
      if (field.find('\0') != std::string::npos) {
        error = fmt::format("{}:{}: a NUL byte in field {}: the file is binary or UTF-16 text, "
                            "not CSV",
                            path, line, fields.size() + 1);
        return Scan::Error;
      }
      fields.push_back(std::move(field));
      // Blanks after a closing quote (or between blank-separated fields) are padding.
      size_t p = pos;
      if (quoted || blanks)
        while (p < n && isBlank(text[p]) && (blanks || text[p] != sep))
          ++p;
      if (p == n || text[p] == '\n' || text[p] == '\r') {
        pos = p;
        break;
      }
      if (blanks ? p > pos : text[p] == sep) {
        pos = blanks ? p : p + 1;
        continue;
      }
      unsigned char c = static_cast<unsigned char>(text[p]);
      std::string shown =
          c >= 0x20 && c < 0x7F ? fmt::format("'{}'", text[p]) : fmt::format("byte 0x{:02X}", c);
      error = fmt::format("{}:{}: unexpected {} after a closing quote (a field that starts "
                          "with a quote must end with one)",
                          path, line, shown);
      return Scan::Error;
    }
    return endRecord();
  }

private:
  std::string_view text;
  bool eof;
  const std::string &path;
  char sep;
  bool blanks;
  size_t pos = 0;

  Scan skipBlankLines() {
    for (;;) {
      size_t p = pos;
      while (p < text.size() && (isBlank(text[p]) || text[p] == '\r'))
        ++p;
      if (p == text.size())
        return eof ? Scan::End : Scan::NeedMore;
      if (text[p] != '\n')
        return Scan::Row;
      pos = p + 1;
      ++line;
    }
  }

  Scan quotedField(std::string &field) {
    int64_t openLine = line;
    ++pos;
    for (;;) {
      size_t q = text.find('"', pos);
      if (q == std::string_view::npos) {
        if (!eof)
          return Scan::NeedMore;
        error = fmt::format("{}:{}: unterminated quoted field (the quote opened on this line "
                            "is never closed)",
                            path, openLine);
        return Scan::Error;
      }
      std::string_view chunk = text.substr(pos, q - pos);
      line += std::count(chunk.begin(), chunk.end(), '\n');
      field.append(chunk);
      if (q + 1 == text.size() && !eof)
        return Scan::NeedMore; // the quote may be the first of a doubled pair
      if (q + 1 < text.size() && text[q + 1] == '"') {
        field.push_back('"');
        pos = q + 2;
        continue;
      }
      pos = q + 1;
      return Scan::Row;
    }
  }

  Scan endRecord() {
    const size_t n = text.size();
    if (pos == n)
      return eof ? Scan::Row : Scan::NeedMore;
    if (text[pos] == '\r') {
      if (pos + 1 == n && !eof)
        return Scan::NeedMore;
      if (pos + 1 < n && text[pos + 1] != '\n') { // after a quoted field
        error = fmt::format("{}:{}: a carriage return alone ends the line: the file's lines end "
                            "with a carriage return alone (classic Mac text); save it with LF "
                            "or CRLF line ends",
                            path, line);
        return Scan::Error;
      }
      ++pos;
    }
    if (pos < n && text[pos] == '\n') {
      ++pos;
      ++line;
    }
    return Scan::Row;
  }
};

Status checkOptions(const CsvOptions &options) {
  if (options.skip < 0)
    return fail(fmt::format("{}: skip must not be negative (got {})", options.path, options.skip));
  char sep = options.separator;
  if (sep == '"' || sep == '\n' || sep == '\r' || sep == '\0')
    return fail(fmt::format("{}: {} cannot separate fields", options.path,
                            sep == '"' ? "a quote" : "a line break or NUL"));
  return Ok{};
}

/// Reads through the header (if any) of `text`; on Row, `first` holds the
/// header or the first data row and the parser stands after it.
Scan readHead(Parser &parser, const CsvOptions &options, std::vector<std::string> &first,
              int64_t &firstLine) {
  if (Scan s = parser.checkEncoding(); s != Scan::Row)
    return s;
  if (Scan s = parser.skipLines(options.skip); s != Scan::Row)
    return s;
  Scan s = parser.next(first, firstLine);
  if (s == Scan::End) {
    parser.error = options.skip == 0
                       ? fmt::format("{}: file is empty", options.path)
                       : fmt::format("{}: file is empty after skipping {} line{}", options.path,
                                     options.skip, options.skip == 1 ? "" : "s");
    return Scan::Error;
  }
  return s;
}

/// Header names, trimmed; a name given twice is an error, since a lookup by
/// name could not tell which column is meant. Unnamed columns may repeat.
Result<std::vector<std::string>> headerNames(const std::vector<std::string> &fields,
                                             const CsvOptions &options, int64_t line) {
  std::vector<std::string> names;
  std::unordered_map<std::string_view, size_t> seen;
  for (const std::string &field : fields)
    names.emplace_back(trimCell(field));
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty())
      continue;
    auto [it, fresh] = seen.emplace(names[i], i);
    if (!fresh)
      return fail(fmt::format("{}:{}: duplicate column name '{}' (columns {} and {}, numbered "
                              "from 0)",
                              options.path, line, names[i], it->second, i));
  }
  return names;
}

Result<CsvTable> readCsvImpl(const CsvOptions &options) {
  if (auto ok = checkOptions(options); !ok)
    return ok.takeError();
  auto file = detail::GzFile::open(options.path);
  if (!file)
    return file.takeError();
  auto text = file->readAll();
  if (!text)
    return text.takeError();

  Parser parser(*text, /*eof=*/true, options);
  CsvTable table;
  std::vector<std::string> fields;
  int64_t line = 0;
  if (readHead(parser, options, fields, line) == Scan::Error)
    return fail(parser.error);
  const size_t width = fields.size();
  const int64_t firstLine = line;
  auto addRow = [&](std::vector<std::string> &cells, int64_t at) {
    for (std::string &cell : cells)
      if (!options.na.empty() && cell == options.na)
        cell.clear();
    table.addRow(cells, at);
  };
  // Room for the cells: at most the file's text, and a row's cells on each
  // of its lines, but no more cells than the file has separators and line
  // ends (a wide first line over many short ones is a ragged file, refused
  // below, not a reason to reserve its product).
  reserveHuge(table.text, text->size());
  const size_t lines = size_t(std::count(text->begin(), text->end(), '\n')) + 1;
  reserveHuge(table.ends, std::min(width * lines, text->size() + 1));
  if (options.header) {
    auto names = headerNames(fields, options, line);
    if (!names)
      return names.takeError();
    table.columns = std::move(*names);
    table.headerLine = line;
  } else {
    table.columns.assign(width, "");
    addRow(fields, line);
  }
  for (;;) {
    Scan s = parser.next(fields, line);
    if (s == Scan::End)
      break;
    if (s == Scan::Error)
      return fail(parser.error);
    if (fields.size() != width) {
      std::string why = options.header ? fmt::format("the header has {} columns", width)
                                       : fmt::format("as the first row, line {}", firstLine);
      return fail(fmt::format("{}:{}: row has {} field{}, expected {} ({})", options.path, line,
                              fields.size(), fields.size() == 1 ? "" : "s", width, why));
    }
    addRow(fields, line);
  }
  return table;
}

Result<std::vector<std::string>> readCsvHeaderImpl(const CsvOptions &options) {
  if (auto ok = checkOptions(options); !ok)
    return ok.takeError();
  auto file = detail::GzFile::open(options.path);
  if (!file)
    return file.takeError();
  std::string text;
  size_t chunk = 1 << 16;
  for (;;) {
    size_t used = text.size();
    text.resize(used + chunk);
    auto got = file->read(text.data() + used, chunk);
    if (!got)
      return got.takeError();
    text.resize(used + *got);
    bool eof = *got < chunk;
    if (eof && file->truncated())
      return fail(
          fmt::format("{}: truncated gzip file (the compressed data ends early)", options.path));
    Parser parser(text, eof, options);
    std::vector<std::string> fields;
    int64_t line = 0;
    Scan s = readHead(parser, options, fields, line);
    if (s == Scan::Error)
      return fail(parser.error);
    if (s == Scan::Row) {
      if (options.header)
        return headerNames(fields, options, line);
      return std::vector<std::string>(fields.size());
    }
    // NeedMore: the head spans more than we have read. A header longer than
    // this is not one (a stream of zeros, a binary file).
    constexpr size_t kMaxHead = size_t(64) << 20;
    const char *what = options.header ? "header" : "first data";
    if (eof)
      return fail(fmt::format("{}: the file ends before its {} line", options.path, what));
    if (text.size() > kMaxHead)
      return fail(
          fmt::format("{}: no {} line in its first {} MB", options.path, what, kMaxHead >> 20));
    chunk *= 2;
  }
}

} // namespace

std::vector<std::string> CsvTable::row(size_t r) const {
  std::vector<std::string> cells;
  for (size_t c = 0; c < columns.size(); ++c)
    cells.emplace_back(cell(r, c));
  return cells;
}

void CsvTable::addRow(const std::vector<std::string> &cells, int64_t line) {
  for (const std::string &c : cells) {
    text += c;
    ends.push_back(text.size());
  }
  lines.push_back(line);
}

std::string_view trimCell(std::string_view s) {
  auto padding = [](char c) { return isBlank(c) || c == '\r'; };
  if (s.empty() || (!padding(s.front()) && !padding(s.back())))
    return s;
  while (!s.empty() && (isBlank(s.front()) || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (isBlank(s.back()) || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

Result<CsvTable> readCsv(const CsvOptions &options) {
  try {
    return readCsvImpl(options);
  } catch (const std::bad_alloc &) {
    throw;
  } catch (const std::exception &e) {
    return fail(fmt::format("{}: {}", options.path, e.what()));
  }
}

Result<std::vector<std::string>> readCsvHeader(const CsvOptions &options) {
  try {
    return readCsvHeaderImpl(options);
  } catch (const std::bad_alloc &) {
    throw;
  } catch (const std::exception &e) {
    return fail(fmt::format("{}: {}", options.path, e.what()));
  }
}

} // namespace mtlrt
