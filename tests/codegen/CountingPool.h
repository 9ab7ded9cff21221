// CountingPool.h: a pool for tests that counts the loops handed to it and
// passes each on to an inner pool.
#pragma once

#include "mtlrt/Abi.h"

#include <atomic>

namespace mtl::test {

struct CountingPool {
  mtl_parallel inner;
  // Atomic: a lane kernel runs its two lanes on two threads at once, and
  // each lane's ops hand their loops to this pool from its own thread.
  std::atomic<int> loops{0};
  static void parallelFor(void *self, int64_t n, void (*body)(void *, int64_t, int64_t),
                          void *ctx) {
    auto *c = static_cast<CountingPool *>(self);
    ++c->loops;
    c->inner.parallel_for(c->inner.pool, n, body, ctx);
  }
};

} // namespace mtl::test
