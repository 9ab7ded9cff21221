// ThreadChoice.cpp: timed blocks of steps on the pool and on one thread, and the faster kept.
#include "train/ThreadChoice.h"

#include <algorithm>

namespace mtlrt {

namespace {
constexpr size_t kCounted = ThreadChoice::kBlock - 1; ///< counted steps a block

size_t index(ThreadChoice::Way way) { return way == ThreadChoice::Way::Pool ? 0 : 1; }

/// The lower median (the middle of an odd count); reorders `v`.
double median(std::vector<double> &v) {
  std::nth_element(v.begin(), v.begin() + ptrdiff_t((v.size() - 1) / 2), v.end());
  return v[(v.size() - 1) / 2];
}
} // namespace

ThreadChoice::ThreadChoice(int poolThreads, bool measure)
    : pool_(poolThreads), enabled_(measure && poolThreads > 1), measuring_(enabled_) {
  for (std::vector<double> &t : times_) // no allocation while the steps run
    t.reserve(kCounted * kBlocks);
}

void ThreadChoice::restart() {
  if (!enabled_)
    return;
  *this = ThreadChoice(pool_, true);
}

void ThreadChoice::record(int64_t rows, Way way, double seconds) {
  if (!measuring_ || way != blockWay_)
    return;
  if (rows_ < 0)
    rows_ = rows;
  if (rows != rows_)
    return;
  if (inBlock_++ > 0)
    times_[index(way)].push_back(seconds);
  if (inBlock_ < kBlock)
    return;
  inBlock_ = 0;
  blockWay_ = way == Way::Pool ? Way::One : Way::Pool;
  std::vector<double> &pool = times_[0], &one = times_[1];
  if (one.size() == kCounted && pool.size() == kCounted) {
    if (*std::min_element(one.begin(), one.end()) >
        kClear * *std::max_element(pool.begin(), pool.end()))
      return decide(Way::Pool);
    if (*std::min_element(pool.begin(), pool.end()) >
        kClear * *std::max_element(one.begin(), one.end()))
      return decide(Way::One);
  }
  if (one.size() == kCounted * kBlocks)
    decide(median(pool) < median(one) ? Way::Pool : Way::One);
}

void ThreadChoice::decide(Way way) {
  medians_[0] = median(times_[0]);
  medians_[1] = median(times_[1]);
  chosen_ = way;
  measuring_ = false;
}

ThreadUse ThreadChoice::use() const {
  ThreadUse u;
  u.pool = pool_;
  u.threads = chosen_ == Way::Pool ? pool_ : 1;
  if (enabled_ && !measuring_) {
    u.poolSeconds = medians_[0];
    u.oneSeconds = medians_[1];
  }
  return u;
}

} // namespace mtlrt
