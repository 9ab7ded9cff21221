// ThreadPool.h: a fixed pool of threads behind the ABI's `mtl_parallel::parallel_for`.
#pragma once

#include "mtlrt/Abi.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace mtlrt {

/// A fixed set of threads that splits one loop at a time. The calling thread
/// takes part, so a pool of N threads starts N-1 workers; N = 1 runs every
/// loop inline. Chunking is static: with T threads, [0, n) is cut into T
/// contiguous chunks, chunk i = [i*n/T, (i+1)*n/T), thread i (the caller is 0)
/// runs chunk i, and empty chunks are skipped (a loop of one item runs on the
/// caller: there is nothing to split). A call allocates nothing.
///
/// One loop runs at a time: a parallelFor issued from inside a body, or from
/// another thread while a loop is running, runs inline on its caller, so
/// nesting cannot deadlock. Results never depend on the thread count because
/// the ABI only lets generated code split work whose result is the same
/// however it is split. Workers run each loop in the caller's floating-point
/// mode (MXCSR: rounding, flush-to-zero), so a chunk rounds alike on any thread.
class ThreadPool {
public:
  using Body = void (*)(void *ctx, int64_t begin, int64_t end);

  /// Starts `threads - 1` workers; values below 1 mean 1.
  explicit ThreadPool(int threads = 2);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// Threads that share each loop, the caller included.
  int threads() const { return numThreads; }

  /// Calls body(ctx, begin, end) on the chunks of [0, n) and returns when all
  /// are done. n <= 0 does nothing.
  void parallelFor(int64_t n, Body body, void *ctx);

  /// The pool as generated code sees it; valid while the pool lives.
  mtl_parallel abi();
  /// A pool of none, as generated code sees it: every loop runs on its caller.
  static mtl_parallel callerOnly();

private:
  void workerLoop(int index);
  void runChunk(int index);
  bool workerOnCpu(int cpu) const;

  int numThreads;
  std::vector<std::thread> workers;

  // The current loop, published by bumping `generation` after the fields are set.
  Body jobBody = nullptr;
  void *jobCtx = nullptr;
  unsigned jobFloatMode = 0; ///< the caller's MXCSR: workers run the loop in the same mode
  int64_t jobSize = 0;
  std::atomic<int> callerCpu{-1}; ///< where the caller of the last loop ran (sched_getcpu)
  /// Where each worker last ran a chunk, by thread index (0, the caller, stays -1).
  std::unique_ptr<std::atomic<int>[]> workerCpus;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};  // workers still running the current loop
  std::atomic<int> sleepers{0}; // workers blocked on `wake`
  std::atomic<bool> busy{false};
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable wake;
};

} // namespace mtlrt
