// CliNumbers.h: the checks of numeric command-line values (and of text that must not be empty),
// with messages that say what was typed and what would be right.
//
// CLI11's own (PositiveNumber, Range) print "Value 0 not in range 0.000000 to 1.79e308", and an
// unsigned option converts "-1" to 2^64 - 1 without a word. These read the text first, so that a
// value is refused as the user wrote it: "--epochs: 0 is not a whole number of at least 1".
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>

namespace mtlrt {

/// The largest whole number a `.mtl` file may write (2^53), and so the largest a flag may.
inline constexpr int64_t kMaxWholeNumber = int64_t(1) << 53;

/// A whole number from `min` to `max`, as written (no sign tricks, no rounding).
CLI::Validator wholeNumber(int64_t min, int64_t max = kMaxWholeNumber);

/// A finite number above 0, or from 0 on with `zeroAllowed`, at most `max`.
CLI::Validator realNumber(bool zeroAllowed, double max);

/// Any text but an empty one, which an option would read as "not given".
CLI::Validator nonEmpty();

} // namespace mtlrt
