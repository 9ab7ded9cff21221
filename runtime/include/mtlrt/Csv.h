// Csv.h: reading delimited text tables (plain or gzip) and turning columns into numbers or classes.
#pragma once

#include "mtlrt/Result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mtlrt {

/// How to read one CSV file.
struct CsvOptions {
  std::string path; ///< plain or gzip-compressed; named as given in every message
  bool header = true;
  /// Field separator; ' ' means runs of blanks and tabs, with blanks at the
  /// start and end of a line ignored (for whitespace-aligned tables).
  char separator = ',';
  /// An extra missing-value marker such as "NA"; empty cells are always missing.
  std::string na;
  /// Physical lines dropped before the header (or the data), e.g. a title line.
  int64_t skip = 0;
};

/// A parsed table: every row has as many cells as there are columns. The
/// cells are kept one after another in one string, so a table takes about
/// its file's size plus 8 bytes a cell (a string per cell took 32 bytes
/// and more, and an allocation per row).
struct CsvTable {
  /// Header names, trimmed; empty strings when the file has no header.
  std::vector<std::string> columns;
  /// 1-based source line where each row starts, for messages; one per row.
  std::vector<int64_t> lines;
  /// 1-based line of the header, 0 without one.
  int64_t headerLine = 0;
  /// Every cell as written (quotes removed, unquoted cells trimmed of
  /// blanks), row after row; missing cells, including those equal to the NA
  /// marker, are empty. Cell i (row r, column c: i = r * columns + c) ends
  /// at ends[i] and starts where cell i - 1 ends (at 0 for the first).
  std::string text;
  std::vector<uint64_t> ends;

  size_t rowCount() const { return lines.size(); }
  /// The cell at `row` and `col`; empty past the last column.
  std::string_view cell(size_t row, size_t col) const {
    if (col >= columns.size())
      return {};
    const size_t i = row * columns.size() + col;
    const uint64_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(text).substr(begin, ends[i] - begin);
  }
  /// A row's cells, copied.
  std::vector<std::string> row(size_t r) const;
  /// Appends a row of one cell per column, starting at source line `line`.
  void addRow(const std::vector<std::string> &cells, int64_t line);
};

/// Reads a whole table. Accepts RFC 4180 quoting ("a,b", "say ""hi""", line
/// breaks inside quotes), LF or CRLF endings, a final line with or without a
/// newline, a UTF-8 byte-order mark, and skips blank lines. Fails, naming the
/// file and line, on ragged rows ("f.csv:17: row has 7 fields, expected 8 (the
/// header has 8 columns)"), an unterminated quote (at the line it opens), a
/// header name given twice ("f.csv:1: duplicate column name 'b' (columns 1 and
/// 6, numbered from 0)"), a NUL byte or a UTF-16 byte-order mark (binary or
/// UTF-16 files), an empty file ("f.csv: file is empty"), or a file that
/// cannot be read (including a file named .gz that is not gzip).
Result<CsvTable> readCsv(const CsvOptions &options);

/// Reads only as far as the header, for checks that must not load the data,
/// with the same checks as readCsv on what it reads. Without a header,
/// returns as many empty names as the first row has fields.
Result<std::vector<std::string>> readCsvHeader(const CsvOptions &options);

/// `cell` without the blanks (spaces and tabs) and carriage returns around
/// it: what the reader keeps of an unquoted cell and of a header name, and
/// what labels and categories are compared by however they were quoted.
/// The C library trims the names it looks up the same way.
std::string_view trimCell(std::string_view cell);

/// "'bill_length_mm'" for a named column, "3" for an unnamed one: how
/// messages refer to column `col`.
std::string describeColumn(const CsvTable &table, size_t col);

/// Finds a column by header name. Fails with the available columns and a
/// did-you-mean: "f.csv: no column named 'bil_length' (columns: species, ...);
/// did you mean 'bill_length_mm'?".
/// `taken`: the columns the data set reads already, which no suggestion names.
Result<size_t> findColumn(const CsvTable &table, const std::string &name, const std::string &path,
                          const std::vector<std::string> &taken = {});

/// The numbers of column `col`: missing cells become NaN; anything that is not
/// a number fails with "f.csv:9: column 'x': 'abc' is not a number", and so
/// does a non-finite one ("inf", "nan": declare such markers with `na`).
/// Accepts what strtof accepts in the C locale, less hex.
Result<std::vector<float>> numericColumn(const CsvTable &table, size_t col,
                                         const std::string &path);

/// The numbers of columns `cols`, row after row (rows x cols.size()), read
/// row by row through the table's text; on a cell numericColumn refuses,
/// the error numericColumn gives for the first such column in `cols`.
Result<std::vector<float>> numericColumns(const CsvTable &table, const std::vector<size_t> &cols,
                                          const std::string &path);

/// A column of class labels encoded as ids 0..k-1.
struct ClassColumn {
  std::vector<int32_t> ids;       ///< per row; -1 where the label is missing
  std::vector<std::string> names; ///< names[id]; k = names.size()
};

/// Encodes labels as class ids. With `order`, names[i] = order[i] and any
/// other label is an error naming the label, its line and the known classes
/// (an integer label matches by value: "02" is class "2"). Otherwise, when every label is a
/// non-negative integer, the integer is the id (names are "0".."max"; a negative one is an error);
/// else the distinct labels sorted by byte value get ids 0..k-1.
Result<ClassColumn> classColumn(const CsvTable &table, size_t col, const std::string &path,
                                std::vector<std::string> order = {});

/// Id 0 of every category column's vocabulary: values that training never
/// saw, and missing cells.
inline constexpr const char *kUnknownCategory = "<unk>";

/// Columns of categories encoded as ids, one vocabulary per column.
struct CategoryColumns {
  std::vector<int32_t> ids; ///< rows x columns; ids of column j follow those of column j-1
  std::vector<std::vector<std::string>> names; ///< per column: kUnknownCategory, then its values
  int64_t unknown = 0;      ///< cells whose value the given vocabulary lacks, read as <unk>
  int64_t missing = 0;      ///< missing cells, read as <unk>
  std::string firstUnknown; ///< where the first unknown value is, for a note
};

/// Encodes category columns. With `vocabulary` (one per column, as this
/// function makes them), each value is looked up in its column's vocabulary
/// and an unknown one reads as <unk>; without, each column's vocabulary is
/// <unk> followed by its distinct values sorted by byte value. Values are
/// compared as text ("02" and "2" differ), with surrounding blanks trimmed.
Result<CategoryColumns> categoryColumns(const CsvTable &table, const std::vector<size_t> &cols,
                                        const std::string &path,
                                        const std::vector<std::vector<std::string>> &vocabulary);

} // namespace mtlrt
