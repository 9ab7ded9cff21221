// ThreadPool.cpp: static-chunked parallel loops on a fixed set of threads.
//
// Workers spin briefly on the generation counter before sleeping on a
// condition variable: generated code issues many short loops per step, and a
// futex wake-up per loop would cost more than the loop on small models. A
// loop is published without a lock (job fields, then a release increment of
// the generation); the mutex is taken only to sleep and to wake sleepers.
//
// A wait (a worker's for the next loop, the caller's for the workers) first
// polls with `pause` for about 2 us, then yields the core between polls. A
// yield is a system call, about 1.2 us on the development VM, and a loop
// handed to the other core and back took 1.8 us with yields alone and
// 0.5 us with the pauses first. Two threads on one core (pinned, or packed
// by the scheduler) skip the pauses: there the thread waited for cannot run
// while the other spins. Each thread notes its core when it starts a loop or
// a chunk (sched_getcpu reads it from memory the kernel keeps, no call).
#include "mtlrt/ThreadPool.h"

#include <sched.h>
#include <xmmintrin.h>

namespace mtlrt {

namespace {
// Polls of the generation counter before a worker blocks. Each poll yields the
// core: on a busy machine a pause-spin would hold the core the other thread
// needs (measured 5x slower with 2 cores oversubscribed), and on an idle one
// yield returns at once.
constexpr int kSpinPolls = 2000;

// Polls with `pause` before the first yield: a pause takes about 19 ns on the
// development VM's AMD cores, so about 2 us.
constexpr int kPausePolls = 100;

// Polls `done` with pauses, kPausePolls times at most; whether it held.
template <typename Done> bool pauseUntil(Done done) {
  for (int i = 0; i < kPausePolls; ++i) {
    if (done())
      return true;
    _mm_pause();
  }
  return done();
}

// Marks threads that are inside a loop body, so nested loops run inline.
thread_local bool insideLoop = false;

void parallelForThunk(void *pool, int64_t n, void (*body)(void *, int64_t, int64_t), void *ctx) {
  static_cast<ThreadPool *>(pool)->parallelFor(n, body, ctx);
}

void callerFor(void *, int64_t n, void (*body)(void *, int64_t, int64_t), void *ctx) {
  if (n > 0)
    body(ctx, 0, n);
}
} // namespace

ThreadPool::ThreadPool(int threads)
    : numThreads(threads < 1 ? 1 : threads), workerCpus(new std::atomic<int>[numThreads]) {
  for (int i = 0; i < numThreads; ++i)
    workerCpus[i].store(-1);
  workers.reserve(numThreads - 1);
  for (int i = 1; i < numThreads; ++i)
    workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping.store(true);
    generation.fetch_add(1);
  }
  wake.notify_all();
  for (std::thread &worker : workers)
    worker.join();
}

mtl_parallel ThreadPool::abi() { return mtl_parallel{&parallelForThunk, this}; }

mtl_parallel ThreadPool::callerOnly() { return mtl_parallel{&callerFor, nullptr}; }

void ThreadPool::runChunk(int index) {
  int64_t begin = jobSize * index / numThreads;
  int64_t end = jobSize * (index + 1) / numThreads;
  if (begin < end)
    jobBody(jobCtx, begin, end);
}

bool ThreadPool::workerOnCpu(int cpu) const {
  for (int i = 1; i < numThreads; ++i)
    if (workerCpus[i].load(std::memory_order_relaxed) == cpu)
      return true;
  return false;
}

void ThreadPool::parallelFor(int64_t n, Body body, void *ctx) {
  if (n <= 0)
    return;
  bool expected = false;
  // One item has nothing to split; handing it to a worker would only add latency.
  if (n == 1 || numThreads == 1 || insideLoop ||
      !busy.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
    body(ctx, 0, n);
    return;
  }
  jobBody = body;
  jobCtx = ctx;
  jobSize = n;
  jobFloatMode = _mm_getcsr();
  const int cpu = sched_getcpu();
  callerCpu.store(cpu, std::memory_order_relaxed);
  pending.store(numThreads - 1, std::memory_order_relaxed);
  // Sequentially consistent with the sleepers check below and the sleepers
  // increment in workerLoop: either we see a sleeper and wake it, or it sees
  // the new generation before it sleeps.
  generation.fetch_add(1);
  if (sleepers.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex);
    wake.notify_all();
  }
  insideLoop = true;
  runChunk(0);
  insideLoop = false;
  auto done = [&] { return pending.load(std::memory_order_acquire) == 0; };
  if (cpu < 0 || workerOnCpu(cpu) || !pauseUntil(done))
    while (!done())
      std::this_thread::yield();
  busy.store(false, std::memory_order_release);
}

void ThreadPool::workerLoop(int index) {
  insideLoop = true;
  uint64_t seen = 0;
  for (;;) {
    uint64_t now = generation.load(std::memory_order_acquire);
    const int cpu = sched_getcpu();
    if (now == seen && cpu >= 0 && cpu != callerCpu.load(std::memory_order_relaxed))
      pauseUntil([&] { return (now = generation.load(std::memory_order_acquire)) != seen; });
    for (int i = 0; now == seen && i < kSpinPolls; ++i) {
      std::this_thread::yield();
      now = generation.load(std::memory_order_acquire);
    }
    if (now == seen) {
      std::unique_lock<std::mutex> lock(mutex);
      sleepers.fetch_add(1);
      wake.wait(lock, [&] { return generation.load() != seen; });
      sleepers.fetch_sub(1);
      now = generation.load(std::memory_order_acquire);
    }
    seen = now;
    if (stopping.load(std::memory_order_acquire))
      return;
    if (_mm_getcsr() != jobFloatMode)
      _mm_setcsr(jobFloatMode);
    workerCpus[index].store(sched_getcpu(), std::memory_order_relaxed);
    runChunk(index);
    pending.fetch_sub(1, std::memory_order_acq_rel);
  }
}

} // namespace mtlrt
