// ReplInterrupt.cpp: the SIGINT handler of the REPL and its installation.
#include "repl/ReplInterrupt.h"

namespace mtl::driver {
namespace {

// A signal handler may only touch lock-free atomics.
static_assert(std::atomic<bool>::is_always_lock_free);
std::atomic<bool> gInterrupted{false};

void onInterrupt(int) { gInterrupted.store(true, std::memory_order_relaxed); }

} // namespace

std::atomic<bool> &replInterrupted() { return gInterrupted; }

InterruptHandler::InterruptHandler() {
  struct sigaction action {};
  action.sa_handler = onInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &previous_);
  gInterrupted.store(false);
}

InterruptHandler::~InterruptHandler() { sigaction(SIGINT, &previous_, nullptr); }

} // namespace mtl::driver
