// Random.h: the counter-based random numbers behind dropout.
//
// A mask element depends only on (seed, step, element index), never on the
// order of evaluation, so the interpreter, the JIT and threaded code agree
// bit for bit, and the backward pass re-derives the forward mask instead of
// storing it.
#pragma once

#include <cstdint>

namespace mtl::ir {

/// SplitMix64's finaliser: a bijective 64-bit mix.
inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// The seed a dropout op with `opSeed` uses in a run with seed `runSeed`:
/// the op's own constant is fixed at compile time, the run's seed arrives with
/// every step (mtl_hyper.seed), so changing it recompiles nothing.
inline uint64_t dropoutSeed(uint64_t opSeed, uint64_t runSeed) { return opSeed ^ mix64(runSeed); }

/// A uniform number in [0, 1) with 24 random bits (exact in f32), for the
/// element `index` of the dropout op with `seed` at training step `step`.
inline float dropoutUniform(uint64_t seed, uint64_t step, uint64_t index) {
  uint64_t h = mix64(seed ^ mix64(step ^ mix64(index)));
  return static_cast<float>(h >> 40) * (1.0f / 16777216.0f);
}

/// True if the element is kept (uniform >= rate); kept elements are scaled by
/// 1 / (1 - rate), as in PyTorch's inverted dropout.
inline bool dropoutKeep(uint64_t seed, uint64_t step, uint64_t index, double rate) {
  return static_cast<double>(dropoutUniform(seed, step, index)) >= rate;
}

} // namespace mtl::ir
