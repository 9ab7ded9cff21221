// suggest_test.cpp: "did you mean" picks the closest plausible name, as the whole table would.
#include "support/Suggest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <random>

namespace mtl {
namespace {

// The optimal-string-alignment distance, case-insensitive, from its whole
// table: the definition closestMatch must agree with.
size_t referenceDistance(const std::string &a, const std::string &b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// The first candidate at the least distance, if within one edit in three characters.
std::optional<std::string> referenceMatch(const std::string &word,
                                          const std::vector<std::string> &candidates) {
  if (word.empty() || word.size() > 64)
    return std::nullopt;
  size_t best = std::max<size_t>(1, (word.size() + 1) / 3) + 1;
  std::optional<std::string> out;
  for (const std::string &c : candidates)
    if (c != word)
      if (size_t d = referenceDistance(word, c); d < best) {
        best = d;
        out = c;
      }
  return out;
}

TEST(Suggest, NamesTheClosestPlausibleCandidate) {
  EXPECT_EQ(closestMatch("tsak", {"shared", "task", "train"}), "task");
  EXPECT_EQ(closestMatch("Dense", {"dropout", "dense"}), "dense");
  EXPECT_EQ(closestMatch("trunk", {"trunk"}), std::nullopt); // the word itself is no typo
  EXPECT_EQ(closestMatch("lr", {"loss", "layer_norm"}), std::nullopt);
  EXPECT_EQ(didYouMean("epohcs", {"epochs", "batch"}), "; did you mean 'epochs'?");
  EXPECT_EQ(didYouMean("zzz", {"epochs"}), "");
}

TEST(Suggest, AgreesWithTheWholeTableOnRandomNames) {
  // Short names over four letters: many near misses, ties and transpositions.
  std::mt19937 rng(7);
  auto name = [&](size_t maxLength) {
    std::string s(std::uniform_int_distribution<size_t>(0, maxLength)(rng), 'a');
    for (char &c : s)
      c = "abAc"[std::uniform_int_distribution<int>(0, 3)(rng)];
    return s;
  };
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::string> candidates;
    for (int k = std::uniform_int_distribution<int>(0, 12)(rng); k > 0; --k)
      candidates.push_back(name(12));
    const std::string word = name(12);
    ASSERT_EQ(closestMatch(word, candidates), referenceMatch(word, candidates))
        << "word '" << word << "', trial " << trial;
  }
}

} // namespace
} // namespace mtl
