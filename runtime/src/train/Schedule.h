// Schedule.h: learning-rate schedules (cosine with warm-up, step decay, reduce on plateau).
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mtlrt {

/// A learning-rate schedule: a factor on the run's learning rate per step.
///   constant                          1
///   cosine(warmup = W)                t / (W·B) at step t of the first W
///                                     epochs (B steps each), then
///                                     ½(1 + cos(π s / S)) with s = 0, 1, ...
///                                     the steps after the warm-up and S their
///                                     number (PyTorch's LinearLR, then
///                                     CosineAnnealingLR stepped per step)
///   step(every = E, gamma = G)        G^⌊(epoch - 1) / E⌋ (PyTorch's StepLR)
///   plateau(patience = P, factor = F) times F after P epochs in a row
///                                     without a new best validation value
///                                     (PyTorch's ReduceLROnPlateau, threshold 0)
class Schedule {
public:
  enum class Kind { Constant, Cosine, Step, Plateau };

  /// Parses the forms above; arguments by name, each optional (warmup 0,
  /// gamma 0.1, factor 0.1, patience 10, every 1, as PyTorch's defaults).
  static Result<Schedule> parse(const std::string &text);

  Kind kind() const { return kind_; }
  /// Cosine's epochs of warmup (0 for the others).
  double warmupEpochs() const { return kind_ == Kind::Cosine ? warmup : 0; }
  /// The factor for global step `step` (1-based) in `epoch` (1-based), with
  /// `stepsPerEpoch` steps in each of `epochs` epochs.
  double factor(int64_t step, int64_t epoch, int64_t stepsPerEpoch, int64_t epochs) const;
  /// Plateau: after a validated epoch, its monitored value (smaller is better).
  void endEpoch(double value);

  /// Whether the two are the same schedule (kind and settings; not the state):
  /// "cosine(warmup=2)" and "cosine(warmup = 2.0)" are.
  bool sameSettings(const Schedule &o) const {
    return kind_ == o.kind_ && warmup == o.warmup && every == o.every && gamma == o.gamma &&
           patience == o.patience && shrink == o.shrink;
  }

  /// Plateau's state (factor, best value, epochs without one), for checkpoints.
  std::vector<double> state() const;
  bool setState(const std::vector<double> &state);

private:
  Kind kind_ = Kind::Constant;
  double warmup = 0, every = 1, gamma = 0.1, patience = 10, shrink = 0.1;
  double plateauFactor = 1, best = 0, bad = 0;
  bool haveBest = false;
};

/// Scales the gradients of the tensors that train this step (lr_scales[k] >
/// 0, or every tensor when lr_scales is null) so that their L2 norm is at
/// most `maxNorm`, as torch.nn.utils.clip_grad_norm_ (coefficient maxNorm /
/// (norm + 1e-6), when below 1). A non-finite norm changes nothing: the
/// update then refuses the step. Returns the norm before clipping.
double clipGradNorm(const mtl_model &model, float *grads, const float *lrScales, double maxNorm);

} // namespace mtlrt
