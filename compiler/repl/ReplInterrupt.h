// ReplInterrupt.h: Ctrl-C in the REPL: SIGINT only sets a flag, which :train and the prompt read.
#pragma once

#include <atomic>
#include <signal.h>

namespace mtl::driver {

/// Set by SIGINT while an InterruptHandler is installed. Whoever acts on it
/// clears it: the line reader at the prompt, the REPL before each input.
std::atomic<bool> &replInterrupted();

/// While it lives, SIGINT sets replInterrupted() and does nothing else, so
/// Ctrl-C never ends the process: a training run reads the flag after each
/// step and the line reader after each wait for a key. The handler is
/// installed with SA_RESTART, so reads and writes that a signal interrupts
/// go on (poll() still returns EINTR). The destructor restores the
/// disposition it found. One at a time.
class InterruptHandler {
public:
  InterruptHandler();
  ~InterruptHandler();
  InterruptHandler(const InterruptHandler &) = delete;
  InterruptHandler &operator=(const InterruptHandler &) = delete;

private:
  struct sigaction previous_;
};

} // namespace mtl::driver
