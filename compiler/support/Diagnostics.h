// Diagnostics.h: errors, warnings and notes in the clang style, collected per run.
#pragma once

#include "support/Source.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace mtl {

enum class Severity { Error, Warning, Note };

/// One message with its location and any notes that point at related places.
struct Diagnostic {
  Severity severity = Severity::Error;
  SourceLoc loc;
  std::string message;
  struct Note {
    SourceLoc loc;
    std::string message;
  };
  std::vector<Note> notes;

  /// Attaches a note (for example "previous definition is here").
  Diagnostic &note(SourceLoc where, std::string text) {
    notes.push_back({where, std::move(text)});
    return *this;
  }
};

/// Collects diagnostics so that every error of a run is reported, in source
/// order, and prints them as `file:line:col: error: message`, the source line
/// and a caret (or a `~~~` range) under the place.
class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceManager &sources) : sources_(sources) {}

  Diagnostic &error(SourceLoc loc, std::string message);
  Diagnostic &warning(SourceLoc loc, std::string message);

  unsigned errorCount() const { return errors_; }
  bool hasErrors() const { return errors_ > 0; }
  const std::vector<Diagnostic> &diagnostics() const { return diags_; }

  /// Prints everything collected so far (sorted by location) and forgets it.
  /// `color` adds ANSI colours; callers enable it on terminals only.
  void flush(std::FILE *out, bool color);
  /// Renders without printing: the same text `flush` would write.
  std::string render(bool color) const;
  /// Drops collected diagnostics and resets the error count.
  void clear();

  /// Leaves out errors and warnings reported from now on inside `from` ..
  /// `to` (inclusive, in one file): the parser skipped part of the text
  /// there after a syntax error, and what later stages say about it would be
  /// about the part they never saw.
  void quiet(SourceLoc from, SourceLoc to);
  /// Leaves out errors and warnings reported from now on at an occurrence of
  /// `name` in `file`: a name declared by a declaration the parser skipped,
  /// which every use would otherwise report as unknown.
  void quietName(int file, std::string name);

private:
  bool isQuiet(const SourceLoc &loc) const;

  const SourceManager &sources_;
  std::vector<Diagnostic> diags_;
  unsigned errors_ = 0;
  std::vector<std::pair<SourceLoc, SourceLoc>> quietRanges_;
  std::vector<std::pair<int, std::string>> quietNames_;
  Diagnostic leftOut_; ///< what a left-out report returns, so notes can still be attached
};

} // namespace mtl
