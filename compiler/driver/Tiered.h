// Tiered.h: a tiered compile's second build, compiled on a thread of its own while the first
// trains.
//
// `mtlc train` of a model whose code is not cached compiles it at -O0 first
// (runnable in a fraction of the time) and starts training, while this
// compiles it again at the requested level; the trainer runs the second
// build from the step after it is ready (mtlrt::CodeSwap). Codegen allows
// LLVM no reassociation, so both builds compute the same bits.
#pragma once

#include "backend/FunctionCache.h"
#include "driver/Front.h"
#include "mtlrt/CodeSwap.h"

#include <llvm/Support/Error.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

struct mtl_model;

namespace mtl::driver {

/// The second build of a tiered compile.
class BackgroundCompile {
public:
  /// The compile: through `cache`, appending each stage's time to `times`;
  /// returns the new build's descriptor.
  using Work = std::function<llvm::Expected<const mtl_model *>(backend::FunctionCache &cache,
                                                               StageTimes &times)>;

  /// Starts `work` on a thread of its own; what it returns is offered to
  /// the trainer that runs `first` (swap()). `cache` compiles at `optLevel`.
  BackgroundCompile(const mtl_model &first, std::unique_ptr<backend::FunctionCache> cache,
                    int optLevel, Work work);
  /// Cancels the compile if it still runs, and waits for its thread.
  ~BackgroundCompile();
  BackgroundCompile(const BackgroundCompile &) = delete;
  BackgroundCompile &operator=(const BackgroundCompile &) = delete;

  /// What to hand the trainer (TrainOptions::codeSwap).
  std::shared_ptr<mtlrt::CodeSwap> swap() const { return swap_; }

  /// What finish() found.
  enum class Outcome {
    Used,      ///< the trainer ran the build
    Unused,    ///< ready before the run ended, but no step or evaluation came after
    Waited,    ///< ready after the run ended: finish() waited for it
    Cancelled, ///< stopped before it was ready
    Failed,    ///< the compile failed (said on stderr as a warning)
  };

  /// After the run (once): waits for the compile to end when `keep` (what
  /// it compiles goes to the disk cache, so the next run of the model starts
  /// with it), or else cancels it; a cancel stops it before the next function
  /// it would optimise or compile (generating the module, and what stays in
  /// the model's own module, run to their end). Says on stderr when it failed, and with `verbose`
  /// what it did: its stages' times and after which step the trainer took
  /// its code.
  Outcome finish(bool keep, bool verbose);

private:
  void run(const Work &work);

  std::shared_ptr<mtlrt::CodeSwap> swap_;
  std::unique_ptr<backend::FunctionCache> cache_;
  int optLevel_;
  std::chrono::steady_clock::time_point start_;
  // Written by the thread, read after it is joined.
  StageTimes times_;
  std::string error_;
  double readyMs_ = 0; ///< from the start to the build's descriptor offered (or the failure)
  std::thread thread_; ///< last: starts once the rest is made
};

} // namespace mtl::driver
