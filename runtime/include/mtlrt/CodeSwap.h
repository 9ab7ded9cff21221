// CodeSwap.h: a second build of a model's code, handed to the Trainer running the first between
// two steps.
//
// `mtlc train` compiles a model twice when its code is not cached: at -O0,
// which is ready in a fraction of the time, so training starts at once, and
// at the requested level on a thread of its own, whose code the trainer then
// runs from the next step on. Both builds come from the same mtlc IR, so they
// lay out every arena alike and compute the same bits at every level
// (docs/architecture.md, "Tiered compilation").
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Result.h"

#include <atomic>
#include <cstdint>

namespace mtlrt {

/// Whether `a` and `b` describe the same model with the same arenas: equal
/// inputs, tasks, tensors (names, shapes, offsets, initialisation), sizes,
/// gates, run configuration and the same entry points present. Only the
/// entry points' addresses may differ.
bool sameLayout(const mtl_model &a, const mtl_model &b);

/// Hands a second build of a model from the thread that compiled it to the
/// Trainer running the first (TrainOptions::codeSwap).
class CodeSwap {
public:
  /// For a trainer that starts with `first`, which must outlive this.
  explicit CodeSwap(const mtl_model &first) : first_(first) {}

  /// Offers `faster` (from any thread, at most once; it must outlive the
  /// trainer). Fails, offering nothing, when its layout differs from the
  /// first build's (a compiler error).
  Status offer(const mtl_model *faster);
  /// For the trainer, between steps: the offered build the first time it is
  /// there, recording `stepsDone` (the optimizer steps taken before it);
  /// null otherwise.
  const mtl_model *take(int64_t stepsDone);
  /// The trainer's step count when it took the offered build (the steps
  /// run before it, counting a resumed checkpoint's); -1 while it has not
  /// taken it.
  int64_t takenAfter() const { return takenAfter_.load(std::memory_order_acquire); }

private:
  const mtl_model &first_;
  std::atomic<const mtl_model *> offered_{nullptr};
  std::atomic<int64_t> takenAfter_{-1};
};

} // namespace mtlrt
