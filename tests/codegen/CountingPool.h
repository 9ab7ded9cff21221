// CountingPool.h: a pool for tests that counts the loops handed to it and
// passes each on to an inner pool.
#pragma once

#include "mtlrt/Abi.h"

namespace mtl::test {

struct CountingPool {
  mtl_parallel inner;
  int loops = 0;
  static void parallelFor(void *self, int64_t n, void (*body)(void *, int64_t, int64_t),
                          void *ctx) {
    auto *c = static_cast<CountingPool *>(self);
    ++c->loops;
    c->inner.parallel_for(c->inner.pool, n, body, ctx);
  }
};

} // namespace mtl::test
