// Source.h: source files held in memory and locations that point into them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mtl {

/// A place in a source file: 1-based line and column, and the width of the
/// marked range in columns on that line (at least 1). `file < 0` means "nowhere".
struct SourceLoc {
  int file = -1;
  int line = 0;
  int col = 0;
  int length = 1;

  bool valid() const { return file >= 0 && line > 0; }
  /// The smallest range on one line that covers both locations (or `*this` if
  /// they are on different lines).
  SourceLoc to(const SourceLoc &end) const;
};

/// Owns the text of every file the compiler has read (model files, imports and
/// REPL inputs), so locations can be printed with their source line.
class SourceManager {
public:
  /// Registers a buffer under a display name and returns its file id.
  int add(std::string name, std::string text);
  const std::string &name(int file) const { return files_[file].name; }
  const std::string &text(int file) const { return files_[file].text; }
  /// The text of one line (1-based), without its line break; empty if absent.
  std::string_view line(int file, int line) const;
  int fileCount() const { return static_cast<int>(files_.size()); }

private:
  struct File {
    std::string name;
    std::string text;
    std::vector<size_t> lineStarts;
  };
  std::vector<File> files_;
};

} // namespace mtl
