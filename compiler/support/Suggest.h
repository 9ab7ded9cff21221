// Suggest.h: "did you mean" suggestions for misspelled names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mtl {

/// The candidate closest to `word` by edit distance (transpositions count as
/// one edit), if it is close enough to be a plausible typo; nothing otherwise.
std::optional<std::string> closestMatch(std::string_view word,
                                        const std::vector<std::string> &candidates);

/// "; did you mean 'x'?" for the closest candidate, or "" when there is none.
std::string didYouMean(std::string_view word, const std::vector<std::string> &candidates);

} // namespace mtl
