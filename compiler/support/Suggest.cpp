// Suggest.cpp: optimal-string-alignment distance for typo suggestions.
#include "support/Suggest.h"

#include <algorithm>
#include <cctype>

namespace mtl {
namespace {

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                            std::tolower(static_cast<unsigned char>(b[j - 1]))
                        ? 0
                        : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
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
    if (c == word)
      continue;
    size_t dist = editDistance(word, c);
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
