// Diagnostics.cpp: rendering of diagnostics with source lines and carets.
#include "support/Diagnostics.h"

#include <algorithm>
#include <fmt/format.h>

namespace mtl {

Diagnostic &DiagnosticEngine::error(SourceLoc loc, std::string message) {
  ++errors_;
  diags_.push_back({Severity::Error, loc, std::move(message), {}});
  return diags_.back();
}

Diagnostic &DiagnosticEngine::warning(SourceLoc loc, std::string message) {
  diags_.push_back({Severity::Warning, loc, std::move(message), {}});
  return diags_.back();
}

void DiagnosticEngine::clear() {
  diags_.clear();
  errors_ = 0;
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

// Source lines may hold tabs or control bytes; print them as one space each so
// the caret stays under the column it names and a terminal is never confused.
std::string printable(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (unsigned char c : line)
    out.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
  return out;
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
  std::string_view line = sm.line(loc.file, loc.line);
  constexpr size_t kMaxShown = 200; // very long lines are cut, not dumped
  if (line.size() > kMaxShown && static_cast<size_t>(loc.col) < kMaxShown)
    line = line.substr(0, kMaxShown);
  else if (line.size() > kMaxShown)
    return;
  out += printable(line);
  out += '\n';
  int col = std::max(loc.col, 1);
  int width = std::max(loc.length, 1);
  int room = static_cast<int>(line.size()) - (col - 1);
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
