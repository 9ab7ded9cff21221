// Sampling.h: how the batches of an epoch draw from the data sets of a run that trains on several.
#pragma once

#include "mtlrt/Result.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mtlrt {

/// Which data set each training step draws its batch from, when a run
/// trains on several (Dataset::sources). Every batch holds rows of one data
/// set, so a step trains the tasks that data set labels.
///   round_robin       the data sets in turn, one batch each
///   proportional      at random, with probability n_s / Σ n (sizes of the
///                     training rows)
///   temperature(T)    at random, with probability ∝ n_s^(1/T): T = 1 is
///                     proportional, larger T flattens towards uniform
///                     (as multilingual training samples languages)
/// An epoch is Σ_s ⌈n_s / batch⌉ steps, the steps of one pass over every
/// data set, whatever the sampling.
struct Sampling {
  enum class Kind { RoundRobin, Proportional, Temperature } kind = Kind::Proportional;
  double temperature = 1; ///< Temperature: > 0

  /// "round_robin", "proportional", "temperature(2)" or "temperature(t =
  /// 2)"; fails naming the forms there are.
  static Result<Sampling> parse(const std::string &text);
};

/// The batches of one epoch: batch b is rows[ends[b - 1] .. ends[b]) (from 0
/// for the first).
struct EpochPlan {
  std::vector<int64_t> rows;
  std::vector<int64_t> ends;
};

/// Plans epoch `epoch` (1-based) over `sources`, each data set's training
/// rows in ascending order. Each data set is read in passes: pass p of data
/// set s is its rows shuffled (when `shuffle`) by shuffleRows with stream
/// shuffleStream(epoch) ^ (s << 48) ^ (p << 40), cut into batches of `batch`
/// rows (the pass's last one smaller); a data set that runs out starts its
/// next pass. The data set of each step is drawn from Rng(seed,
/// samplingStream(epoch)). One data set gives exactly the batches of
/// shuffleRows(rows, seed, epoch) cut in order, so a run on one data set
/// does not depend on the sampling. Every epoch depends only on the seed and
/// its number, which makes resuming exact.
void planEpoch(const Sampling &sampling, std::span<const std::vector<int64_t>> sources,
               int64_t batch, bool shuffle, uint64_t seed, int64_t epoch, EpochPlan &plan);

/// The Rng stream that draws the data sets of `epoch`'s steps.
uint64_t samplingStream(int64_t epoch);

} // namespace mtlrt
