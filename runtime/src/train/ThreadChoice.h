// ThreadChoice.h: whether a trainer's steps run faster on its pool or on the caller alone.
#pragma once

#include "mtlrt/Trainer.h"

#include <cstdint>
#include <vector>

namespace mtlrt {

/// Chooses between the two ways a trainer can run its steps: on the pool's
/// threads, or on the calling thread alone (a small model's step can take
/// longer on two threads than on one: the pool's wake-ups and the data
/// that moves between the cores' caches cost more than the split saves).
/// The results are the same bits either way (ThreadPool.h), so the choice
/// is about speed only.
///
/// It times steps of one batch size (the first step's; steps of other sizes,
/// such as an epoch's shorter last batch, are run but not timed) in blocks of
/// kBlock steps each way, alternating, pool first; the first step of a block
/// only brings the data into that way's caches and is not counted. After
/// one block each way, a way whose fastest step is over kClear times the
/// other's slowest loses at once; otherwise after kBlocks blocks each way
/// the lower median wins; a tie goes to the one thread, which leaves the
/// other cores free.
class ThreadChoice {
public:
  enum class Way { Pool, One };
  static constexpr int kBlock = 4;
  static constexpr int kBlocks = 3;
  static constexpr double kClear = 1.25;

  /// Runs every step on the pool and measures nothing.
  ThreadChoice() = default;
  /// Measures when `measure` is set and the pool has more than one thread.
  ThreadChoice(int poolThreads, bool measure);

  /// Times again from the next step (the trainer's code changed).
  void restart();
  bool measuring() const { return measuring_; }
  /// The way the next step runs.
  Way next() const { return measuring_ ? blockWay_ : chosen_; }
  /// A step of `rows` rows ran on `way` in `seconds`; ignored unless measuring.
  void record(int64_t rows, Way way, double seconds);
  /// The way steps run once measured, and every other call (the pool while measuring).
  Way chosen() const { return chosen_; }
  /// What was measured and chosen, for the run's summary.
  ThreadUse use() const;

private:
  void decide(Way way);

  int pool_ = 1;
  bool enabled_ = false, measuring_ = false;
  int64_t rows_ = -1; ///< the batch size timed; -1 until the first step
  int inBlock_ = 0;   ///< steps of the current block done
  Way blockWay_ = Way::Pool;
  std::vector<double> times_[2]; ///< counted steps' seconds, by Way
  Way chosen_ = Way::Pool;
  double medians_[2] = {0, 0};
};

} // namespace mtlrt
