// Diagnostics.cpp: rendering of diagnostics with source lines and carets.
#include "support/Diagnostics.h"

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>

namespace mtl {

Diagnostic &DiagnosticEngine::error(SourceLoc loc, std::string message) {
  if (isQuiet(loc))
    return leftOut_ = {};
  ++errors_;
  diags_.push_back({Severity::Error, loc, std::move(message), {}});
  return diags_.back();
}

Diagnostic &DiagnosticEngine::warning(SourceLoc loc, std::string message) {
  if (isQuiet(loc))
    return leftOut_ = {};
  diags_.push_back({Severity::Warning, loc, std::move(message), {}});
  return diags_.back();
}

void DiagnosticEngine::clear() {
  diags_.clear();
  errors_ = 0;
  quietRanges_.clear();
  quietNames_.clear();
}

void DiagnosticEngine::quiet(SourceLoc from, SourceLoc to) {
  if (from.valid() && to.valid() && from.file == to.file)
    quietRanges_.emplace_back(from, to);
}

void DiagnosticEngine::quietName(int file, std::string name) {
  if (!name.empty())
    quietNames_.emplace_back(file, std::move(name));
}

bool DiagnosticEngine::isQuiet(const SourceLoc &loc) const {
  if (!loc.valid())
    return false;
  for (const auto &[from, to] : quietRanges_)
    if (loc.file == from.file && std::pair(loc.line, loc.col) >= std::pair(from.line, from.col) &&
        std::pair(loc.line, loc.col) <= std::pair(to.line, to.col + to.length - 1))
      return true;
  if (quietNames_.empty())
    return false;
  // Columns count characters; find the byte where column `loc.col` starts.
  std::string_view line = sources_.line(loc.file, loc.line);
  size_t at = 0;
  for (int col = 1; at < line.size() && col < loc.col; ++col)
    for (++at; at < line.size() && (static_cast<unsigned char>(line[at]) & 0xc0) == 0x80;)
      ++at;
  for (const auto &[file, name] : quietNames_)
    if (file == loc.file && loc.length == static_cast<int>(name.size()) &&
        line.substr(at, name.size()) == name)
      return true;
  return false;
}

namespace {

const char *label(Severity s) {
  switch (s) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

const char *colorOf(Severity s) {
  switch (s) {
  case Severity::Error:
    return "\x1b[1;31m";
  case Severity::Warning:
    return "\x1b[1;35m";
  case Severity::Note:
    return "\x1b[1;36m";
  }
  return "";
}

// The length of the well-formed UTF-8 sequence at the start of `s`, or 0 if
// it is malformed (a stray continuation byte, a truncated sequence, an overlong
// form, a surrogate, or a value past U+10FFFF).
size_t utf8Length(std::string_view s, uint32_t &cp) {
  unsigned char c = static_cast<unsigned char>(s[0]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || n > s.size())
    return 0;
  cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
  for (size_t k = 1; k < n; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[k]);
    if ((cc >> 6) != 0x2)
      return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  static constexpr uint32_t kMinOf[] = {0, 0, 0x80, 0x800, 0x10000};
  bool ok = cp >= kMinOf[n] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
  return ok ? n : 0;
}

// A source line as it is shown: one entry per column (columns count
// characters, as locations do). The terminal must never receive invalid UTF-8
// or control codes, so a tab becomes a space, and every other control
// character (C0, DEL, C1) and every byte that is not part of well-formed UTF-8
// becomes U+FFFD, one per byte; the caret stays under the column it names.
std::vector<std::string> displayColumns(std::string_view line) {
  std::vector<std::string> cells;
  for (size_t i = 0; i < line.size();) {
    uint32_t cp = 0;
    size_t n = utf8Length(line.substr(i), cp);
    if (n == 0) {
      cells.emplace_back("\xef\xbf\xbd");
      ++i;
      continue;
    }
    if (cp == '\t')
      cells.emplace_back(" ");
    else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
      cells.emplace_back("\xef\xbf\xbd");
    else
      cells.emplace_back(line.substr(i, n));
    i += n;
  }
  return cells;
}

void renderOne(std::string &out, const SourceManager &sm, Severity sev, const SourceLoc &loc,
               const std::string &message, bool color) {
  const char *bold = color ? "\x1b[1m" : "";
  const char *reset = color ? "\x1b[0m" : "";
  const char *sevColor = color ? colorOf(sev) : "";
  if (loc.valid())
    out += fmt::format("{}{}:{}:{}: {}", bold, sm.name(loc.file), loc.line, loc.col, reset);
  out += fmt::format("{}{}:{} {}{}{}\n", sevColor, label(sev), reset, bold, message, reset);
  if (!loc.valid())
    return;
  std::vector<std::string> cells = displayColumns(sm.line(loc.file, loc.line));
  constexpr size_t kMaxShown = 200; // very long lines are cut, not dumped
  if (cells.size() > kMaxShown && static_cast<size_t>(loc.col) < kMaxShown)
    cells.resize(kMaxShown);
  else if (cells.size() > kMaxShown)
    return;
  for (const std::string &cell : cells)
    out += cell;
  out += '\n';
  int col = std::max(loc.col, 1);
  int width = std::max(loc.length, 1);
  int room = static_cast<int>(cells.size()) - (col - 1);
  if (room > 0)
    width = std::min(width, room);
  out += std::string(col - 1, ' ');
  out += color ? "\x1b[1;32m" : "";
  out += '^';
  if (width > 1)
    out += std::string(width - 1, '~');
  out += reset;
  out += '\n';
}

} // namespace

std::string DiagnosticEngine::render(bool color) const {
  std::vector<const Diagnostic *> order;
  for (const Diagnostic &d : diags_)
    order.push_back(&d);
  std::stable_sort(order.begin(), order.end(), [](auto *a, auto *b) {
    return std::tie(a->loc.file, a->loc.line, a->loc.col) <
           std::tie(b->loc.file, b->loc.line, b->loc.col);
  });
  std::string out;
  for (const Diagnostic *d : order) {
    renderOne(out, sources_, d->severity, d->loc, d->message, color);
    for (const Diagnostic::Note &n : d->notes)
      renderOne(out, sources_, Severity::Note, n.loc, n.message, color);
  }
  if (errors_ > 0)
    out += fmt::format("{} error{} generated.\n", errors_, errors_ == 1 ? "" : "s");
  return out;
}

void DiagnosticEngine::flush(std::FILE *out, bool color) {
  std::string text = render(color);
  std::fputs(text.c_str(), out);
  std::fflush(out);
  diags_.clear();
}

} // namespace mtl
