// CliNumbers.cpp: numeric command-line values, checked as written, and text that must not be empty.
#include "mtlrt/CliNumbers.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

namespace mtlrt {

CLI::Validator wholeNumber(int64_t min, int64_t max) {
  const std::string range = max == kMaxWholeNumber ? fmt::format("of at least {}", min)
                                                   : fmt::format("from {} to {}", min, max);
  return CLI::Validator(
      [min, max, range](std::string &text) -> std::string {
        int64_t value = 0;
        const char *end = text.data() + text.size();
        auto [ptr, ec] = std::from_chars(text.data(), end, value);
        if (ptr != end || text.empty() ||
            (ec != std::errc() && ec != std::errc::result_out_of_range))
          return fmt::format("'{}' is not a whole number {}", text, range);
        if (ec == std::errc::result_out_of_range || value > max)
          return fmt::format("{} is larger than {}", text,
                             max == kMaxWholeNumber ? "2^53" : std::to_string(max));
        if (value < min)
          return fmt::format("{} is not a whole number {}", text, range);
        return "";
      },
      max == kMaxWholeNumber ? fmt::format(">= {}", min) : fmt::format("{} to {}", min, max));
}

CLI::Validator wholeNumberOrAuto(int64_t min, int64_t max) {
  const CLI::Validator whole = wholeNumber(min, max);
  return CLI::Validator(
      [whole](std::string &text) -> std::string {
        if (text == "auto") {
          text = "0";
          return "";
        }
        std::string error = whole(text);
        return error.empty() ? "" : error + ", or auto";
      },
      "");
}

CLI::Validator floatNumber(bool zeroAllowed) {
  return CLI::Validator(
      [zeroAllowed](std::string &text) -> std::string {
        constexpr double max = std::numeric_limits<float>::max();
        constexpr double least = std::numeric_limits<float>::min();
        char *end = nullptr;
        const double value = text.empty() ? NAN : std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value))
          return fmt::format("'{}' is not a finite number", text);
        if (value < 0 || (value == 0 && !zeroAllowed))
          return fmt::format("{} is not a number {} 0", text,
                             zeroAllowed ? "of at least" : "above");
        if (value > max)
          return fmt::format("{} is larger than {:.2g}, the largest float", text, max);
        if (value > 0 && value < least)
          return fmt::format("{} is smaller than {:.2g}, the smallest normal float", text, least);
        return "";
      },
      zeroAllowed ? ">= 0" : "> 0");
}

CLI::Validator nonEmpty() {
  return CLI::Validator(
      [](const std::string &value) {
        return value.empty() ? std::string("an empty value; give one, or leave the option out")
                             : std::string();
      },
      "TEXT");
}

} // namespace mtlrt
