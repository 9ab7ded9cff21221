// Balancer.h: one training step as the runtime drives it: task weights, the
// gradient step, the method's combination of the task gradients, the update.
#pragma once

#include "balance/Method.h"
#include "balance/Methods.h"
#include "mtlrt/Abi.h"
#include "mtlrt/Trainer.h"

#include <cstdint>
#include <span>
#include <vector>

namespace mtlrt::balance {

/// The method's state that a resumed run needs (DWA's loss history,
/// GradNorm's weights and initial losses), as numbers for a checkpoint.
using MethodState = std::vector<double>;

/// Runs a method between a model's gradient step and its update. Holds only
/// buffers sized at construction: a step allocates nothing.
class Balancer {
public:
  /// `gradStats`: split the gradients by task every step even when the
  /// method does not need it, for the statistics.
  Balancer(const mtl_model &model, Method method, uint64_t seed, bool gradStats);
  Balancer() = default;

  const Method &method() const { return method_; }
  /// Whether steps split the gradients by task (the model can, and the
  /// method or the statistics need it).
  bool splits() const { return splits_; }

  /// One step: gradients of the batch with `weights` (the run's task
  /// weights) times the method's, the combination, then the update. Fills
  /// `result`; `grads` is the model's gradient arena.
  void step(const mtl_batch &batch, mtl_hyper &hyper, std::span<const float> weights, float *params,
            float *state, float *workspace, float *grads, mtl_result &result,
            const mtl_parallel *parallel);
  /// Before an epoch of `steps` steps: room for their weights (the stats
  /// report each task's median weight, which a few steps with a vanishing
  /// gradient and a huge coefficient do not sway).
  void startEpoch(int64_t steps);
  /// After an epoch, with its mean loss per task (DWA's history).
  void endEpoch(std::span<const double> taskLosses);

  /// The statistics since the last call, then starts new ones.
  BalanceStats takeStats();

  MethodState state() const;
  /// Restores what state() returned; false if it does not fit the method.
  bool setState(const MethodState &state);

private:
  /// The method's factor on each task's weight before the gradient step.
  void lossWeights(uint64_t step);
  /// DWA's factors from the last two epochs' losses (1 before there are two).
  void dwaFactors();
  /// The coefficient of each task's gradient in the shared gradient.
  void combine(uint64_t step);
  void record();

  const mtl_model *model_ = nullptr;
  Method method_;
  uint64_t seed_ = 0;
  bool splits_ = false;
  int tasks_ = 0;
  std::vector<float> stepWeights_; ///< handed to the gradient step
  std::vector<double> factors_;    ///< the method's factor per task weight
  std::vector<double> coefficients_;
  std::vector<double> gram_;   ///< tasks x tasks, of this step's task gradients
  std::vector<double> losses_; ///< this step's task losses
  std::vector<double> norms_;  ///< GradNorm: this step's unweighted gradient norms
  // DWA: the mean task losses of the last two epochs (newest first).
  std::vector<double> lastLosses_, lossesBefore_;
  GradNorm gradNorm_{1}; ///< learned weights and the first step's losses
  BalanceStats stats_;
  std::vector<double> weightHistory_; ///< steps x tasks effective weights, for the medians
};

} // namespace mtlrt::balance
