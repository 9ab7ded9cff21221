// sampling_test.cpp: the fixed PRNG, hold-out splits and standardisation statistics.
#include "mtlrt/Dataset.h"
#include "mtlrt/FloatMode.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace mtlrt;

TEST(Standardizer, FitsOnGivenRowsIgnoringNan) {
  const float nan = std::nanf("");
  std::vector<float> data = {1, 2, 3, 2, nan, 2, 5, 2, 100, -7};
  std::vector<int64_t> rows = {0, 1, 2, 3}; // row 4 is held out
  Standardizer z = Standardizer::fit(data, 2, rows);
  EXPECT_DOUBLE_EQ(z.mean[0], 3.0);
  EXPECT_DOUBLE_EQ(z.stddev[0], std::sqrt(8.0 / 3)); // population std of 1, 3, 5
  EXPECT_DOUBLE_EQ(z.mean[1], 2.0);
  EXPECT_DOUBLE_EQ(z.stddev[1], 1.0); // constant: std 0 becomes 1
  z.apply(data);
  EXPECT_FLOAT_EQ(data[0], static_cast<float>(-2 / std::sqrt(8.0 / 3)));
  EXPECT_EQ(data[1], 0.0f);
  EXPECT_TRUE(std::isnan(data[4]));
  EXPECT_FLOAT_EQ(data[8], static_cast<float>(97 / std::sqrt(8.0 / 3)));
  EXPECT_EQ(data[9], -9.0f);
}

// Values near the float range's ends: a standard deviation past 2^126 (its
// inverse a subnormal float, which flush-to-zero reads as 0) and a value
// whose distance to the mean overflows a float are standardised in double.
TEST(Standardizer, ValuesNearTheFloatRangesEndsStandardiseInDouble) {
  std::vector<float> data;
  std::vector<int64_t> rows;
  for (int k = 0; k < 40; ++k) {
    data.push_back(static_cast<float>(k * 8e36)); // sd 9.2e37
    data.push_back(k == 0 ? -3e38f : 3e38f);      // mean 2.85e38
    rows.push_back(k);
  }
  Standardizer z = Standardizer::fit(data, 2, rows);
  mtlrt::ScopedFloatMode flush(true); // as while training
  z.apply(data);
  const double sd0 = std::sqrt((40.0 * 40.0 - 1) / 12.0); // of 0, 1, ..., 39
  for (int k = 0; k < 40; ++k)
    EXPECT_NEAR(data[size_t(2 * k)], (k - 19.5) / sd0, 1e-5) << k;
  const double mean1 = (39 * 3e38 - 3e38) / 40, sd1 = 6e38 * std::sqrt(39.0) / 40;
  EXPECT_NEAR(data[0 + 1], (-3e38 - mean1) / sd1, 1e-5);
  EXPECT_NEAR(data[2 + 1], (3e38 - mean1) / sd1, 1e-5);
}

TEST(Random, KnownValues) {
  uint64_t x = 0;
  EXPECT_EQ(Rng::splitmix64(x), 0xE220A8397B1DCDAFull);
  Rng rng(0);
  rng.setState({{1, 2, 3, 4}, false, 0}); // the reference xoshiro256** test state
  EXPECT_EQ(rng.next(), 11520u);
  EXPECT_EQ(rng.next(), 0u);
  EXPECT_EQ(rng.next(), 1509978240u);
  EXPECT_EQ(rng.next(), 1215971899390074240u);

  Rng a(7, 1), b(7, 1), c(7, 2);
  auto saved = a.state();
  uint64_t first = a.next();
  EXPECT_EQ(first, b.next());
  EXPECT_NE(first, c.next());
  a.setState(saved);
  EXPECT_EQ(a.next(), first);
  std::vector<int> hist(6);
  for (int i = 0; i < 60000; ++i) {
    uint64_t v = a.below(6);
    ASSERT_LT(v, 6u);
    ++hist[v];
  }
  for (int h : hist)
    EXPECT_NEAR(h, 10000, 500);
  double sum = 0, sumSq = 0;
  for (int i = 0; i < 100000; ++i) {
    double v = a.normal();
    sum += v, sumSq += v * v;
  }
  EXPECT_NEAR(sum / 1e5, 0.0, 0.02);
  EXPECT_NEAR(sumSq / 1e5, 1.0, 0.02);
}

TEST(Split, DeterministicDisjointAndComplete) {
  Split s = splitRows(344, 0.2, 7);
  EXPECT_EQ(s.validation.size(), 69u); // ceil(68.8), as in scikit-learn
  EXPECT_EQ(s.train.size(), 275u);
  std::vector<int64_t> all = s.train;
  all.insert(all.end(), s.validation.begin(), s.validation.end());
  std::sort(all.begin(), all.end());
  for (int64_t i = 0; i < 344; ++i)
    ASSERT_EQ(all[static_cast<size_t>(i)], i);
  EXPECT_TRUE(std::is_sorted(s.validation.begin(), s.validation.end()));
  Split same = splitRows(344, 0.2, 7);
  EXPECT_EQ(same.validation, s.validation);
  EXPECT_NE(splitRows(344, 0.2, 8).validation, s.validation);
  // Pinned so that a change of algorithm, which would change every run, is noticed.
  EXPECT_EQ(std::vector<int64_t>(s.validation.begin(), s.validation.begin() + 5),
            (std::vector<int64_t>{0, 2, 5, 17, 25}));

  EXPECT_TRUE(splitRows(10, 0.0, 1).validation.empty());
  EXPECT_EQ(splitRows(10, 0.01, 1).validation.size(), 1u);
  EXPECT_EQ(splitRows(10, 0.999, 1).train.size(), 1u);
  EXPECT_EQ(splitRows(1, 0.5, 1).train.size(), 1u);
  EXPECT_TRUE(splitRows(0, 0.5, 1).train.empty());
}
