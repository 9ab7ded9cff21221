// Init.h: initial values of a model's parameters and optimizer state, from the run seed.
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Result.h"

#include <cstdint>

namespace mtlrt {

/// The Rng stream (see Dataset.h) that initialises parameter tensor `index`:
/// each tensor draws from its own stream, so a tensor's values depend only on
/// the seed and its position in `mtl_model::params`, never on threads.
uint64_t initStream(int32_t index);

/// Fills the parameter arena (`model.params_size` floats) from the descriptors:
/// zeros, ones, U(-scale, scale) as scale * (2u - 1) with u = Rng::uniform(),
/// or N(0, scale^2) as scale * Rng::normal(); each tensor's values come from
/// Rng(seed, initStream(i)) in row-major order, computed in double and rounded
/// to float. Floats not covered by any tensor are zeroed. Fails, naming the
/// tensor, on an unknown init kind, a negative or non-finite scale, or a
/// tensor that does not fit in the arena.
Status initParams(const mtl_model &model, float *params, uint64_t seed);

/// Zeroes the optimizer-state arena (`model.state_size` floats): Adam's
/// moments and SGD's momentum start at 0, as in PyTorch.
void initState(const mtl_model &model, float *state);

/// Checks what the runtime relies on before touching a model: the ABI
/// version, non-null entry points and arrays, tensors inside their arenas,
/// positive task widths, and class counts for classify tasks.
Status checkModel(const mtl_model &model);

} // namespace mtlrt
