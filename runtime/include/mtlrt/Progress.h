// Progress.h: the live progress bar drawn on a terminal while an epoch runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace mtlrt {

/// One line, redrawn in place ("epoch 3/50 [=====>    ] 120/240 loss 0.4321
/// 12.3k samples/s ETA 1:05"), at most ten times a second within an epoch so
/// that drawing never shows in the step time. The ETA of the whole run is the
/// time per step since the first epoch began (validation included) times the
/// steps left. Draws nothing when `out` is null or not a terminal, so piped
/// output and log files stay clean.
class ProgressBar {
public:
  explicit ProgressBar(std::FILE *out);
  bool enabled() const { return out != nullptr; }

  /// Epoch `epoch` of `epochs` begins, in `batches` steps; every epoch of a
  /// run has as many steps.
  void startEpoch(int64_t epoch, int64_t epochs, int64_t batches);
  /// After batch `done` (1-based): the running mean loss and the rows seen this epoch.
  void update(int64_t done, double loss, int64_t rows);
  /// Erases the line, leaving the cursor where the bar began.
  void finish();

private:
  using Clock = std::chrono::steady_clock;
  std::FILE *out = nullptr;
  int64_t epoch = 0, epochs = 0, batches = 0;
  int64_t stepsBefore = 0; ///< steps of this run's earlier epochs
  Clock::time_point runStart, epochStart, lastDraw;
  bool started = false, drawn = false;
};

} // namespace mtlrt
