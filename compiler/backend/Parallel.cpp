// Parallel.cpp: parallelFor.
#include "backend/Parallel.h"

#include <atomic>

namespace mtl::backend {

void parallelFor(size_t n, unsigned workers, const std::function<void(size_t, unsigned)> &task) {
  std::atomic<size_t> next{0};
  auto run = [&](unsigned worker) {
    for (size_t i = next++; i < n; i = next++)
      task(i, worker);
  };
  std::vector<std::thread> threads;
  for (unsigned w = 1; w < workers; ++w)
    threads.emplace_back(run, w);
  run(0);
  for (std::thread &t : threads)
    t.join();
}

} // namespace mtl::backend
