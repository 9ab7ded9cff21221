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

/// Where each task's learned log-variance ("uncertainty.<task>.log_var", which
/// lowering adds for `balance uncertainty`) is in the parameter arena; empty
/// when the model was compiled without them.
std::vector<int64_t> logVarOffsets(const mtl_model &model);

/// Runs a method between a model's gradient step and its update. Its buffers
/// are sized at construction; what a step still allocates is the few
/// T-sized vectors the methods of Methods.h return (coefficients, weights,
/// FAMO's shares), never anything the size of the model or the batch.
class Balancer {
public:
  /// `gradStats`: split the gradients by task every step even when the
  /// method does not need it, for the statistics.
  Balancer(const mtl_model &model, Method method, uint64_t seed, bool gradStats);
  Balancer() = default;

  const Method &method() const { return method_; }
  /// Runs `model`'s entry points from now on: another build of the model
  /// the balancer was made for, laid out alike (mtlrt::sameLayout).
  void setModel(const mtl_model &model) { model_ = &model; }
  /// > 0: every step's gradients are clipped to this L2 norm before the
  /// update, after the method combined them (clipGradNorm).
  void setClipNorm(double maxNorm) { clipNorm_ = maxNorm; }
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
  /// The last step's own: its effective weights, and when it split the
  /// gradients their norms and cosines (conflicts: 1 where negative).
  BalanceStats lastStep() const;

  /// What multiplies w_t L_t, task t's weighted mean loss, in the total
  /// loss a step reports (mtl_result::total_loss), with the parameters as
  /// they are: 1, or uncertainty's exp(-s_t) / 2.
  double lossFactor(int t, const float *params) const;

  MethodState state() const;
  /// Restores what state() returned; false if it does not fit the method.
  bool setState(const MethodState &state);

private:
  double clipNorm_ = 0;
  /// The method's factor on each task's weight before the gradient step.
  void lossWeights(uint64_t step);
  /// DWA's factors from the last two epochs' losses (1 before there are two).
  void dwaFactors();
  /// `out` := per task, what `solve(gram, k)` gives for the k tasks with
  /// labelled rows in the batch (`counts` per task) and a positive weight,
  /// from their part of gram_; 0 for the others.
  template <class Solve>
  void overLabelled(const float *counts, std::span<const float> weights, std::vector<double> &out,
                    Solve solve);
  /// The ranges of a task block that hold shared tensors the update
  /// changes (not frozen: a non-zero `lrScales` entry), adjacent ones merged.
  std::span<const std::pair<int64_t, int64_t>> updatedShared(const float *lrScales);
  /// The method's coefficients for `tasks` gradients with this Gram matrix.
  std::vector<double> coefficientsOf(std::span<const double> gram, int tasks, uint64_t step) const;
  /// Each task's loss on `batch` with the parameters as they are (NaN for a
  /// task without labels there): FAMO's losses before and after a step.
  void evalLosses(const mtl_batch &batch, const mtl_hyper &hyper, const float *params,
                  float *workspace, const mtl_parallel *parallel, std::vector<double> &out);
  void record(const float *params);
  /// Adds this step's gradient norms, cosines and conflicts (from gram_) to `s`.
  void addGradientStats(BalanceStats &s) const;

  const mtl_model *model_ = nullptr;
  Method method_;
  uint64_t seed_ = 0;
  bool splits_ = false;
  int tasks_ = 0;
  std::vector<float> stepWeights_; ///< handed to the gradient step
  std::vector<double> factors_;    ///< the method's factor per task weight
  std::vector<double> coefficients_;
  std::vector<double> gram_;    ///< tasks x tasks, of this step's task gradients
  std::vector<int> labelled_;   ///< overLabelled(): the tasks with labels in the batch
  std::vector<double> subGram_; ///< overLabelled(): their Gram matrix
  std::vector<std::pair<int64_t, int64_t>> updated_; ///< updatedShared()
  std::vector<double> losses_;                       ///< this step's task losses
  std::vector<double> norms_; ///< GradNorm: this step's unweighted gradient norms
  // DWA: the mean task losses of the last two epochs (newest first).
  std::vector<double> lastLosses_, lossesBefore_;
  GradNorm gradNorm_{1}; ///< learned weights and the first step's losses
  Famo famo_{0};         ///< the logits of the tasks' shares
  // FAMO: the batch's losses before and after the update, and the buffers
  // its forward passes report into.
  std::vector<double> famoBefore_, famoAfter_;
  std::vector<float> evalLosses_, evalCounts_;
  std::vector<float *> noOutputs_;
  /// uncertainty: where each task's log-variance s_t is in the parameters.
  std::vector<int64_t> logVars_;
  std::vector<bool> isShared_; ///< per parameter: whether tasks share it
  BalanceStats stats_;
  std::vector<double> weightHistory_; ///< steps x tasks effective weights, for the medians
  std::vector<double> lastWeights_;   ///< the last step's effective weights
};

} // namespace mtlrt::balance
