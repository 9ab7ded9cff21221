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

/// `auto`, which becomes "0", or a whole number from `min` (above 0) to `max`.
/// A transform: add it with Option::transform.
CLI::Validator wholeNumberOrAuto(int64_t min, int64_t max);

/// A number a float holds as written: above 0 (or 0 too with `zeroAllowed`),
/// from the smallest normal float to the largest (a smaller one would be 0,
/// or a denormal that training flushes to 0).
CLI::Validator floatNumber(bool zeroAllowed);

/// Any text but an empty one, which an option would read as "not given".
CLI::Validator nonEmpty();

} // namespace mtlrt
