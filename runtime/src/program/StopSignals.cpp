// StopSignals.cpp: the handler that turns the first Ctrl-C or SIGTERM into a request to stop.
#include "mtlrt/StopSignals.h"

#include <csignal>

namespace mtlrt {
namespace {

std::atomic<bool> stopRequested{false};
volatile std::sig_atomic_t stopSignal = 0;

// C linkage for the signal's sake, and static: a C name with external
// linkage could clash with a program's own that links a model library.
extern "C" {
static void onStopSignal(int signal) {
  stopSignal = signal; // before the flag, which other threads read
  if (stopRequested.exchange(true)) {
    std::signal(signal, SIG_DFL);
    std::raise(signal);
  }
}
}

} // namespace

struct StopSignals::Saved {
  struct sigaction previousInt = {}, previousTerm = {};
};

StopSignals::StopSignals() : saved_(new Saved) {
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (auto [signal, previous] :
       {std::pair{SIGINT, &saved_->previousInt}, {SIGTERM, &saved_->previousTerm}}) {
    sigaction(signal, nullptr, previous);
    if (previous->sa_handler != SIG_IGN)
      sigaction(signal, &action, nullptr);
  }
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &saved_->previousInt, nullptr);
  sigaction(SIGTERM, &saved_->previousTerm, nullptr);
  delete saved_;
}

const std::atomic<bool> &StopSignals::requested() { return stopRequested; }
const char *StopSignals::name() { return stopSignal == SIGTERM ? "SIGTERM" : "Ctrl-C"; }
int StopSignals::exitStatus() { return stopRequested ? 128 + int(stopSignal) : 0; }

} // namespace mtlrt
