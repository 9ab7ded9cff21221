// cli_numbers_test.cpp: numeric flags are refused as the user typed them, with what would be
// right, and the values that pass arrive unchanged.
#include "mtlrt/CliNumbers.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <string>

namespace {

// Parses `--n VALUE` into an option of type T checked by `check`; the error message, or "".
template <typename T>
std::string parse(const CLI::Validator &check, const std::string &value, T *out = nullptr) {
  CLI::App app;
  T parsed{};
  app.add_option("--n", parsed)->check(check);
  std::vector<std::string> args{value, "--n"}; // CLI11 reads them from the back
  try {
    app.parse(args);
  } catch (const CLI::ParseError &e) {
    return e.what();
  }
  if (out)
    *out = parsed;
  return "";
}

TEST(CliNumbers, WholeNumbersAsTyped) {
  const CLI::Validator epochs = mtlrt::wholeNumber(1);
  int64_t got = 0;
  EXPECT_EQ(parse<int64_t>(epochs, "12", &got), "");
  EXPECT_EQ(got, 12);
  EXPECT_EQ(parse<int64_t>(epochs, "0"), "--n: 0 is not a whole number of at least 1");
  EXPECT_EQ(parse<int64_t>(epochs, "-3"), "--n: -3 is not a whole number of at least 1");
  EXPECT_EQ(parse<int64_t>(epochs, "1.5"), "--n: '1.5' is not a whole number of at least 1");
  EXPECT_EQ(parse<int64_t>(epochs, "abc"), "--n: 'abc' is not a whole number of at least 1");
  EXPECT_EQ(parse<int64_t>(epochs, ""), "--n: '' is not a whole number of at least 1");
  EXPECT_EQ(parse<int64_t>(epochs, "9007199254740993"),
            "--n: 9007199254740993 is larger than 2^53");
  EXPECT_EQ(parse<int64_t>(epochs, "99999999999999999999999"),
            "--n: 99999999999999999999999 is larger than 2^53");
  EXPECT_EQ(parse<int64_t>(epochs, "9007199254740992", &got), "");
  EXPECT_EQ(got, int64_t(1) << 53);
}

TEST(CliNumbers, AnUnsignedSeedIsNeverWrapped) {
  const CLI::Validator seed = mtlrt::wholeNumber(0);
  uint64_t got = 1;
  EXPECT_EQ(parse<uint64_t>(seed, "0", &got), "");
  EXPECT_EQ(got, 0u);
  EXPECT_EQ(parse<uint64_t>(seed, "-1"), "--n: -1 is not a whole number of at least 0");
  std::optional<uint64_t> optional;
  EXPECT_EQ(parse<std::optional<uint64_t>>(seed, "7", &optional), "");
  EXPECT_EQ(optional, 7u);
}

TEST(CliNumbers, ABoundedRange) {
  const CLI::Validator threads = mtlrt::wholeNumber(1, 1024);
  EXPECT_EQ(parse<int>(threads, "1024"), "");
  EXPECT_EQ(parse<int>(threads, "0"), "--n: 0 is not a whole number from 1 to 1024");
  EXPECT_EQ(parse<int>(threads, "5000"), "--n: 5000 is larger than 1024");
}

TEST(CliNumbers, FloatNumbers) {
  const CLI::Validator lr = mtlrt::floatNumber(false);
  double got = 0;
  EXPECT_EQ(parse<double>(lr, "1e-3", &got), "");
  EXPECT_EQ(got, 1e-3);
  EXPECT_EQ(parse<double>(lr, "0"), "--n: 0 is not a number above 0");
  EXPECT_EQ(parse<double>(lr, "-1"), "--n: -1 is not a number above 0");
  EXPECT_EQ(parse<double>(lr, "abc"), "--n: 'abc' is not a finite number");
  EXPECT_EQ(parse<double>(lr, "inf"), "--n: 'inf' is not a finite number");
  EXPECT_EQ(parse<double>(lr, "nan"), "--n: 'nan' is not a finite number");
  EXPECT_EQ(parse<double>(lr, "0.1x"), "--n: '0.1x' is not a finite number");
  EXPECT_EQ(parse<double>(lr, "1e40"), "--n: 1e40 is larger than 3.4e+38, the largest float");
  // As a float 1e-300 is 0 and 1e-40 a denormal, which training flushes to 0.
  EXPECT_EQ(parse<double>(lr, "1e-300"),
            "--n: 1e-300 is smaller than 1.2e-38, the smallest normal float");
  EXPECT_EQ(parse<double>(lr, "1e-40"),
            "--n: 1e-40 is smaller than 1.2e-38, the smallest normal float");
  EXPECT_EQ(parse<double>(lr, "2e-38"), "");
  const CLI::Validator clip = mtlrt::floatNumber(true);
  EXPECT_EQ(parse<double>(clip, "0"), "");
  EXPECT_EQ(parse<double>(clip, "-0.5"), "--n: -0.5 is not a number of at least 0");
}

} // namespace
