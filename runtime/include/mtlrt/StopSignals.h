// StopSignals.h: Ctrl-C and SIGTERM while training: the first asks the work
// to stop at a point where what it wrote is whole; a second ends the process.
#pragma once

#include <atomic>

namespace mtlrt {

/// While it lives, SIGINT and SIGTERM set requested() (unless the process
/// was started ignoring them, as a shell starts background jobs: they stay
/// ignored); a second one ends the process as the signal would. The
/// destructor puts back the handlers it found.
class StopSignals {
public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals &) = delete;
  StopSignals &operator=(const StopSignals &) = delete;

  /// Set by the first signal: TrainOptions::interrupt, ExperimentOptions::interrupt.
  static const std::atomic<bool> &requested();
  /// "Ctrl-C" or "SIGTERM", the signal that set requested().
  static const char *name();
  /// 128 + the signal: the exit status of a process the signal ended; 0 if none came.
  static int exitStatus();

private:
  struct Saved;
  Saved *saved_;
};

} // namespace mtlrt
