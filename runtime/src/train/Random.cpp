// Random.cpp: the runtime's fixed PRNG (splitmix64 + xoshiro256**) and hold-out splits.
#include "mtlrt/Dataset.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mtlrt {

uint64_t Rng::splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (stream * 0x9E3779B97F4A7C15ull);
  for (uint64_t &word : s)
    word = splitmix64(x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t Rng::next() {
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

uint64_t Rng::below(uint64_t bound) {
  // 2^64 mod bound, computed in 64 bits as (-bound) mod bound.
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    uint64_t r = next();
    if (r >= threshold)
      return r % bound;
  }
}

double Rng::normal() {
  if (hasSpare) {
    hasSpare = false;
    return spare;
  }
  double u1 = static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; // (0, 1]: log is finite
  double u2 = uniform();
  double radius = std::sqrt(-2.0 * std::log(u1));
  double angle = 2.0 * std::numbers::pi * u2;
  spare = radius * std::sin(angle);
  hasSpare = true;
  return radius * std::cos(angle);
}

Rng::State Rng::state() const { return State{{s[0], s[1], s[2], s[3]}, hasSpare, spare}; }

void Rng::setState(const State &state) {
  std::copy(std::begin(state.s), std::end(state.s), s);
  hasSpare = state.hasSpare;
  spare = state.spare;
}

namespace {
/// How many of `rows` rows a fraction holds out, leaving at least `keep`.
int64_t heldRows(int64_t rows, double fraction, int64_t keep) {
  fraction = std::isnan(fraction) ? 0.0 : std::clamp(fraction, 0.0, 1.0);
  int64_t held = static_cast<int64_t>(std::ceil(fraction * static_cast<double>(rows)));
  if (fraction > 0 && rows > keep)
    return std::clamp<int64_t>(held, 1, rows - keep);
  return std::max<int64_t>(0, std::min(held, rows - keep));
}
} // namespace

Split splitRows(int64_t rows, double validateFraction, uint64_t seed, double testFraction,
                uint64_t stream) {
  Split split;
  if (rows <= 0)
    return split;
  int64_t held = heldRows(rows, validateFraction, 1);
  int64_t tested = std::min(heldRows(rows, testFraction, 1), std::max<int64_t>(0, rows - held - 1));
  std::vector<int64_t> order(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i)
    order[static_cast<size_t>(i)] = i;
  Rng rng(seed, stream);
  for (int64_t i = rows - 1; i >= 1; --i)
    std::swap(order[static_cast<size_t>(i)],
              order[static_cast<size_t>(rng.below(static_cast<uint64_t>(i) + 1))]);
  split.train.assign(order.begin(), order.end() - held - tested);
  split.test.assign(order.end() - held - tested, order.end() - held);
  split.validation.assign(order.end() - held, order.end());
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.test.begin(), split.test.end());
  std::sort(split.validation.begin(), split.validation.end());
  return split;
}

} // namespace mtlrt
