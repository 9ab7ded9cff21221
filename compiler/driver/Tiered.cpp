// Tiered.cpp: the second build of a tiered compile, on its own thread.
#include "driver/Tiered.h"

#include <fmt/format.h>

namespace mtl::driver {
namespace {

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

BackgroundCompile::BackgroundCompile(const mtl_model &first,
                                     std::unique_ptr<backend::FunctionCache> cache, int optLevel,
                                     Work work)
    : swap_(std::make_shared<mtlrt::CodeSwap>(first)), cache_(std::move(cache)),
      optLevel_(optLevel), start_(std::chrono::steady_clock::now()),
      thread_([this, work = std::move(work)] { run(work); }) {}

BackgroundCompile::~BackgroundCompile() {
  if (thread_.joinable()) { // finish() was not called (a test, or an exception)
    cache_->cancel();
    thread_.join();
  }
}

void BackgroundCompile::run(const Work &work) {
  llvm::Expected<const mtl_model *> model = work(*cache_, times_);
  if (!model) {
    error_ = llvm::toString(model.takeError());
  } else if (mtlrt::Status s = swap_->offer(*model); !s) {
    error_ = "internal compiler error: " + s.error();
  }
  readyMs_ = msSince(start_);
}

BackgroundCompile::Outcome BackgroundCompile::finish(bool keep, bool verbose) {
  const double endedMs = msSince(start_);
  if (!keep)
    cache_->cancel();
  thread_.join();
  // What happened, from what the thread did: a cancel may come too late to
  // stop it, the compile may have failed before, and the trainer may have
  // taken the build in the meantime.
  const bool early = readyMs_ > endedMs;
  const std::string level = fmt::format("-O{}", optLevel_);
  if (error_ == backend::kCancelledMessage) {
    if (verbose)
      fmt::print(stderr, "mtlc: the run ended {:.0f} ms into the {} compile; cancelled it\n",
                 endedMs, level);
    return Outcome::Cancelled;
  }
  if (!error_.empty()) {
    fmt::print(stderr, "warning: the {} compile failed, so the run used -O0 code throughout: {}\n",
               level, error_);
    return Outcome::Failed;
  }
  const int64_t after = swap_->takenAfter();
  const Outcome outcome = after >= 0 ? Outcome::Used : early ? Outcome::Waited : Outcome::Unused;
  if (!verbose)
    return outcome;
  std::string stages;
  for (const auto &[name, ms] : times_)
    stages += fmt::format("{}{} {:.2f} ms", stages.empty() ? "" : ", ", name, ms);
  std::string used =
      outcome == Outcome::Used ? fmt::format("the run used it after step {}", after)
      : outcome == Outcome::Waited
          ? fmt::format("the run ended {:.0f} ms before; waited for it{}", readyMs_ - endedMs,
                        keep ? " to store it in the disk cache" : "")
          : "the run took no step after it was ready";
  fmt::print(stderr, "mtlc: {} code ready in the background after {:.0f} ms ({}); {}\nmtlc: {}\n",
             level, readyMs_, stages, used, cache_->summary());
  return outcome;
}

} // namespace mtl::driver
