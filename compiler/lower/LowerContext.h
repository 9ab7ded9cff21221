// LowerContext.h: state shared by the lowering files (internal to compiler/lower).
#pragma once

#include "ir/Builder.h"
#include "lower/Lower.h"

#include <string>
#include <vector>

namespace mtl::lower {

/// One lowering in progress.
struct Lowering {
  Lowering(const sema::Model &m, LoweredStep &out);

  const sema::Model &model;
  LoweredStep &out;
  ir::Builder b;
  std::vector<ir::ValueId> values;                    ///< per sema value; -1 until lowered
  std::vector<bool> visiting;                         ///< per sema value, to catch cycles
  std::vector<std::vector<ir::ValueId>> moduleParams; ///< per module, in creation order
  ir::ValueId step = -1;
  uint64_t dropouts = 0;            ///< dropout layers lowered so far (for their seeds)
  std::vector<ir::ValueId> logVars; ///< balance uncertainty: each task's log-variance
  std::vector<ir::ValueId> mixes;   ///< per signature.gates probe: the mix it gates

  void error(SourceLoc loc, std::string message);
  /// The scalar "train.step" input (dotted, so no model input can clash), created on first use.
  ir::ValueId stepInput();
  /// The parameter of that name (created on first use) recorded as `module`'s.
  ir::ValueId param(int module, const std::string &name, std::vector<int64_t> shape);
};

/// Lowers sema value `v` (and what it reads) once; -1 after an error.
ir::ValueId lowerValue(Lowering &l, int v);
/// Applies one layer of `module` to `x`.
ir::ValueId lowerLayer(Lowering &l, int module, const sema::Layer &layer, ir::ValueId x);
/// The experts of a Mix or Attend value, whose lowered arguments are `args`
/// (the experts from `args[first]` on): a stack [k, n] gives its k rows.
std::vector<ir::ValueId> expertValues(Lowering &l, const sema::Value &value,
                                      const std::vector<ir::ValueId> &args, size_t first);
/// attend(query, experts..., heads): nn.MultiheadAttention with one query,
/// and a gate probe per head for telemetry.
ir::ValueId lowerAttend(Lowering &l, const sema::Value &value,
                        const std::vector<ir::ValueId> &args);
/// A gru layer of `module` on `x` [B, steps, features], unrolled: the last hidden state.
ir::ValueId lowerGru(Lowering &l, int module, const sema::Layer &layer, ir::ValueId x);
/// A batch_norm layer of `module` on `x` [B, C] or [B, C, H, W]: batch
/// statistics when training, running ones otherwise, and the running
/// statistics' next values as results "buffer.<name>".
ir::ValueId lowerBatchNorm(Lowering &l, int module, const sema::Layer &layer, ir::ValueId x);
/// lambda * sum |theta| or lambda * sum theta^2 over the regularised modules'
/// parameters; -1 when there are none.
ir::ValueId lowerRegularizer(Lowering &l, const sema::Regularizer &reg);
/// lambda * sum_t ||theta_t - theta_mean||^2 over the group's copies; -1 when
/// fewer than two copies have parameters.
ir::ValueId lowerSoftGroup(Lowering &l, const sema::SoftGroup &group);

} // namespace mtl::lower
