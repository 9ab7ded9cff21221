// Parallel.h: the function cache's work on every core: a queue that threads start on while
// the caller is still filling it.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace mtl::backend {

/// Work that threads start on while the caller is still adding to it: items
/// run in the order added until the caller calls finish(), then what is left
/// largest first, on the threads and the caller's. Each item runs once, as
/// `task(item, worker)` with worker 0 the caller and 1.. the threads; an item
/// must stay where it is until finish() returns.
template <typename Item> class Overlapped {
public:
  Overlapped(unsigned threads, std::function<void(Item &, unsigned)> task)
      : task_(std::move(task)) {
    for (unsigned w = 1; w <= threads; ++w)
      threads_.emplace_back([this, w] { run(w); });
  }
  ~Overlapped() { finish(); }
  Overlapped(const Overlapped &) = delete;
  Overlapped &operator=(const Overlapped &) = delete;

  void add(Item &item, size_t size) {
    {
      std::lock_guard<std::mutex> guard(lock_);
      queue_.push_back({size, &item});
    }
    ready_.notify_one();
  }

  /// Runs what is left here too, and returns when every item has run.
  void finish() {
    {
      std::lock_guard<std::mutex> guard(lock_);
      if (closed_)
        return;
      closed_ = true;
      std::stable_sort(queue_.begin(), queue_.end(),
                       [](const auto &a, const auto &b) { return a.first > b.first; });
    }
    ready_.notify_all();
    run(0);
    for (std::thread &t : threads_)
      t.join();
  }

private:
  void run(unsigned worker) {
    for (;;) {
      Item *item = nullptr;
      {
        std::unique_lock<std::mutex> guard(lock_);
        ready_.wait(guard, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty())
          return;
        item = queue_.front().second;
        queue_.pop_front();
      }
      task_(*item, worker);
    }
  }

  std::function<void(Item &, unsigned)> task_;
  std::mutex lock_;
  std::condition_variable ready_;
  std::deque<std::pair<size_t, Item *>> queue_;
  bool closed_ = false;
  std::vector<std::thread> threads_;
};

} // namespace mtl::backend
