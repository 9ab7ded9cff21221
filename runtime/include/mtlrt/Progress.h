// Progress.h: the live progress bar drawn on a terminal while an epoch runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace mtlrt {

/// One line, redrawn in place ("epoch 3/50 [=====>    ] 120/240 loss 0.4321
/// 12.3k samples/s"), at most ten times a second so that drawing never shows
/// in the step time. Draws nothing when `out` is null or not a terminal, so
/// piped output and log files stay clean.
class ProgressBar {
public:
  explicit ProgressBar(std::FILE *out);
  bool enabled() const { return out != nullptr; }

  void startEpoch(int64_t epoch, int64_t epochs, int64_t batches);
  /// After batch `done` (1-based): the running mean loss and the rows seen this epoch.
  void update(int64_t done, double loss, int64_t rows);
  /// Erases the line, leaving the cursor where the bar began.
  void finish();

private:
  using Clock = std::chrono::steady_clock;
  std::FILE *out = nullptr;
  int64_t epoch = 0, epochs = 0, batches = 0;
  Clock::time_point epochStart, lastDraw;
  bool drawn = false;
};

} // namespace mtlrt
