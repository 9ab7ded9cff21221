// CompileCancel.h: stopping a JIT compile from another thread, for the commands that load their
// data beside it (`mtlc train`, `mtlc experiment`).
#pragma once

#include "backend/FunctionCache.h"

#include <mutex>
#include <vector>

namespace mtl::driver {

/// Cancels a compile running on another thread: the caches it made so far,
/// and any it makes later (PipelineOptions::cacheCreated hands them to add()).
/// The caches must outlive the CompileCancel, as their Compilation does.
class CompileCancel {
public:
  void add(backend::FunctionCache &cache) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cancelled_)
      cache.cancel();
    else
      caches_.push_back(&cache);
  }
  void cancel() {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
    for (backend::FunctionCache *cache : caches_)
      cache->cancel();
  }
  bool cancelled() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cancelled_;
  }

private:
  std::mutex mutex_;
  bool cancelled_ = false;
  std::vector<backend::FunctionCache *> caches_;
};

} // namespace mtl::driver
