// FloatMode.h: flush-to-zero and denormals-are-zero while generated code runs.
#pragma once

#include <xmmintrin.h>

namespace mtlrt {

/// MXCSR's FTZ (bit 15: denormal results become zero) and DAZ (bit 6:
/// denormal inputs read as zero).
inline constexpr unsigned kFlushDenormals = 0x8040;
/// MXCSR's rounding control (bits 13 and 14; 0 rounds to nearest, even on ties).
inline constexpr unsigned kRoundingControl = 0x6000;

/// Rounds to nearest on the calling thread for its lifetime, and sets FTZ
/// and DAZ when `flushDenormals`, then restores the caller's control word,
/// so a library call leaves its caller's floating-point mode as it found it
/// and its results do not depend on it. The thread pool hands this mode to
/// its workers with each loop (ThreadPool.cpp).
///
/// Why: once a model fits its data, gradients and Adam's moments decay into
/// denormal floats, which x86 cores handle in microcode at up to 100x the
/// cost; a step then slows down 7-15x (bench/README.md). Flushing them
/// changes values only below 1.2e-38, far under what a float32 loss resolves.
class ScopedFloatMode {
public:
  explicit ScopedFloatMode(bool flushDenormals) : saved_(_mm_getcsr()) {
    const unsigned mode = flushDenormals ? (saved_ & ~kRoundingControl) | kFlushDenormals
                                         : saved_ & ~(kRoundingControl | kFlushDenormals);
    if (mode != saved_)
      _mm_setcsr(mode);
  }
  ~ScopedFloatMode() { _mm_setcsr(saved_); }
  ScopedFloatMode(const ScopedFloatMode &) = delete;
  ScopedFloatMode &operator=(const ScopedFloatMode &) = delete;

private:
  unsigned saved_;
};

} // namespace mtlrt
