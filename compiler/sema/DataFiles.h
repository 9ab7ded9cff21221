// DataFiles.h: peeking into data files at check time: CSV header lines and IDX shapes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mtl::sema {

/// Whether `path` names a regular file (false on any error).
bool isFile(const std::string &path);

/// The columns a CSV file declares: its header names (when it has a header)
/// and the number of fields of its first record.
struct CsvColumns {
  std::vector<std::string> names;
  int64_t count = 0;
  /// Why the file is no CSV text this reader splits, said after its name
  /// ("is UTF-16 text ...": a UTF-16 byte-order mark, NUL bytes in its first
  /// 4 KB, lines that end with a carriage return alone); names and count unset.
  std::string notText;
  /// The file ended before the record: it has only this many lines (names and count unset).
  std::optional<int64_t> endsAfter;
  /// Reading failed before the record (a truncated gzip file, a read
  /// error): why (names and count unset).
  std::string unreadable;
};

/// Reads the first record of a CSV file (plain or gzip) after skipping `skip`
/// lines and any blank ones: the header when `header` (its names trimmed of
/// blanks, as the runtime's reader trims them), else the first data line.
/// Nothing if the file cannot be opened.
std::optional<CsvColumns> readCsvColumns(const std::string &path, bool header, char sep,
                                         int64_t skip);

/// Splits one CSV record: RFC 4180 quoting (`"a,b"`, `""` for a quote);
/// `sep == ' '` means fields are separated by runs of blanks.
std::vector<std::string> splitCsvRecord(const std::string &record, char sep);

/// When a CSV header read with separator `sep` gave the single column
/// `header` and the model names a column that is not there: the separator
/// the file more likely uses (the most frequent of `;`, tab, `|` and `,` in
/// that name; or blanks when `wanted` is one of its blank-separated words),
/// or nothing.
std::optional<char> likelySeparator(const std::string &header, const std::string &wanted, char sep);

/// "no column named 'x' in 'f.csv': its header has one column 'x;y;...'; is
/// the file separated by ';'? add sep = \";\" to csv(...)": the message for
/// a missing column when likelySeparator found `likely`.
std::string separatorHint(const std::string &wanted, const std::string &path,
                          const std::string &header, char likely);

/// The dimensions of an IDX file (plain or gzip), e.g. {60000, 28, 28}; nothing
/// and `error` set if it cannot be read or is not IDX.
std::optional<std::vector<int64_t>> readIdxDims(const std::string &path, std::string &error);

} // namespace mtl::sema
