// FormatLayout.h: the formatter's output lines, tied to source tokens so comments can be placed.
//
// The AST keeps comments as a flat list with locations. To put each one back
// next to what it described, the formatter describes its output as a sequence
// of units (one output line each: an item, a binding, a closing brace...) in
// source order, each starting at a known source token. The units then
// partition the token stream, and a comment belongs to the unit whose tokens
// surround it: it trails a unit when it sits on that unit's last line, and
// otherwise leads the next one.
#pragma once

#include "frontend/Ast.h"

#include <string>
#include <string_view>
#include <vector>

namespace mtl::format {

/// The significant (non-comment) tokens of a source file, re-lexed so that the
/// formatter knows where braces and item boundaries are; the AST keeps only
/// the start of most nodes.
class SourceTokens {
public:
  /// Lexes file `fileId` of `sources`. An unknown id or unlexable text gives
  /// no tokens, and every query below then still answers without failing.
  SourceTokens(const SourceManager &sources, int fileId);

  /// How many significant tokens the file has.
  int size() const { return static_cast<int>(tokens_.size()); }
  /// The first token at or after `loc` (size() if there is none).
  int indexAt(const SourceLoc &loc) const;
  /// How many tokens start before line:col; the index of the token after.
  int countBefore(int line, int col) const;
  /// The first token at or after `from` whose text is `text`, or -1.
  int find(int from, std::string_view text) const;
  /// The `}` that closes the `{` at `open`, or the last token if unbalanced.
  int matchingBrace(int open) const;
  /// The 1-based line and column of a token; 0 for an index out of range.
  int line(int index) const;
  int col(int index) const;

private:
  struct Token {
    int line, col;
    std::string text;
  };
  std::vector<Token> tokens_;
};

/// One line of formatted output and the source tokens it came from.
struct Unit {
  int indent = 0;          ///< nesting level (two spaces each)
  int commentIndent = 0;   ///< level for comments placed before it
  std::string text;        ///< without indentation; empty for the end-of-file unit
  int firstToken = 0;      ///< its first source token
  bool forceBlank = false; ///< a blank line always separates it from what came before
  bool noBlank = false;    ///< first in its block: never a blank line before it
  bool isClose = false;    ///< a closing brace: its comments may be preceded by a
                           ///< blank line, the brace itself never is
};

/// Renders `units` (in source order) with every comment of `comments` placed:
/// trailing on the line of the unit it follows on the same source line,
/// otherwise on its own lines before the unit it precedes, or before the unit
/// it sits inside when it cannot be placed exactly. No comment is dropped.
/// Blank lines are kept (at most one) where the source had them between
/// lines, and added where a unit asks for one.
std::string renderUnits(std::vector<Unit> units, const SourceTokens &tokens,
                        const std::vector<ast::Comment> &comments, const SourceManager &sources,
                        int fileId);

} // namespace mtl::format
