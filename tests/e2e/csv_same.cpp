// csv_same.cpp: checks that two prediction CSV files hold the same numbers, bit for bit.
//
//   csv_same FULL PART
//       Every column of PART's header must be a column of FULL's; both must
//       have as many rows; and each of PART's cells must read (as a float,
//       with strtof) exactly as FULL's cell of the same column and row. So
//       `NAME predict` output (shortest round-trip decimals) compares exactly
//       with a C program's "%.9g" output, which also reads back to the float.
//
// Exit status: 0 when the files agree, 1 when they do not (saying where), 2 on
// bad usage or an unreadable file.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Row = std::vector<std::string>;

Row split(const std::string &line) {
  Row cells;
  std::stringstream in(line);
  std::string cell;
  while (std::getline(in, cell, ','))
    cells.push_back(cell);
  return cells;
}

bool readCsv(const std::string &path, std::vector<Row> &rows) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "csv_same: cannot open " << path << "\n";
    return false;
  }
  std::string line;
  while (std::getline(in, line))
    rows.push_back(split(line));
  if (rows.empty()) {
    std::cerr << "csv_same: " << path << " is empty\n";
    return false;
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    std::cerr << "usage: csv_same FULL PART\n";
    return 2;
  }
  std::vector<Row> full, part;
  if (!readCsv(argv[1], full) || !readCsv(argv[2], part))
    return 2;
  std::vector<size_t> columns;
  for (const std::string &name : part[0]) {
    size_t c = 0;
    while (c < full[0].size() && full[0][c] != name)
      ++c;
    if (c == full[0].size()) {
      std::cerr << "column " << name << " of " << argv[2] << " is not in " << argv[1] << "\n";
      return 1;
    }
    columns.push_back(c);
  }
  if (full.size() != part.size()) {
    std::cerr << "the files have " << full.size() - 1 << " and " << part.size() - 1 << " rows\n";
    return 1;
  }
  for (size_t r = 1; r < part.size(); ++r)
    for (size_t k = 0; k < columns.size(); ++k) {
      if (k >= part[r].size() || columns[k] >= full[r].size()) {
        std::cerr << "row " << r << " is short\n";
        return 1;
      }
      const std::string &a = full[r][columns[k]], &b = part[r][k];
      if (std::strtof(a.c_str(), nullptr) != std::strtof(b.c_str(), nullptr)) {
        std::cerr << "row " << r << ", column " << part[0][k] << ": " << a << " vs " << b << "\n";
        return 1;
      }
    }
  std::cout << part.size() - 1 << " rows of " << columns.size() << " columns identical\n";
  return 0;
}
