// Fingerprint.cpp: a 64-bit fingerprint of a data set's values, which a resumed run compares.
#include "mtlrt/Dataset.h"

#include <array>
#include <bit>
#include <cstring>

namespace mtlrt {
namespace {

constexpr uint64_t kMul1 = 0x9E3779B185EBCA87ull, kMul2 = 0xC2B2AE3D27D4EB4Full;

uint64_t mix(uint64_t lane, uint64_t word) { return std::rotl(lane + word * kMul2, 31) * kMul1; }

// Eight bytes a step in four independent lanes, so the multiplications of
// neighbouring words overlap (Fashion-MNIST's 188 MB of pixels take about
// 10 ms on the 2-core development VM).
class Hasher {
public:
  void add(const void *data, size_t bytes) {
    const auto *p = static_cast<const unsigned char *>(data);
    total_ += bytes;
    size_t i = 0;
    for (; i + 32 <= bytes; i += 32)
      for (size_t k = 0; k < 4; ++k) {
        uint64_t w;
        std::memcpy(&w, p + i + 8 * k, 8);
        lanes_[k] = mix(lanes_[k], w);
      }
    for (; i < bytes; ++i) // the tail, byte by byte, into the first lane
      lanes_[0] = mix(lanes_[0], p[i]);
  }
  void add(uint64_t n) { add(&n, sizeof n); }
  uint64_t value() const {
    uint64_t h = total_ * kMul1;
    for (uint64_t lane : lanes_)
      h = mix(h ^ lane, lane >> 29);
    return h ^ (h >> 32);
  }

private:
  std::array<uint64_t, 4> lanes_{1, 2, 3, 4};
  uint64_t total_ = 0;
};

} // namespace

uint64_t valuesFingerprint(const Dataset &data) {
  Hasher h;
  h.add(uint64_t(data.rows));
  // Each slot's size before its values, so moving a value from one slot to
  // the next changes the fingerprint.
  for (const Values &values : data.inputs) {
    h.add(uint64_t(values.size()));
    h.add(values.data(), values.size() * sizeof(float));
  }
  for (const std::vector<float> &values : data.targets) {
    h.add(uint64_t(values.size()));
    h.add(values.data(), values.size() * sizeof(float));
  }
  h.add(uint64_t(data.sources.size()));
  h.add(data.sources.data(), data.sources.size() * sizeof(int32_t));
  return h.value();
}

} // namespace mtlrt
