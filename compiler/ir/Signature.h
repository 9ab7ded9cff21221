// Signature.h: which values of a training-step graph are its inputs and results.
#pragma once

#include "ir/Graph.h"

#include <string>
#include <utility>
#include <vector>

namespace mtl::ir {

/// A mix's gate, which the steps sum over a batch's rows for telemetry
/// (which experts each task uses).
struct GateProbe {
  /// [B, k]: the gate's weight on each of the mix's k experts (or an attention
  /// head's); [k] for a learned(...) gate, the same for every row
  ValueId gate = -1;
  int task = -1;                    ///< the one task whose loss reads the mix; -1 when several do
  std::string name;                 ///< the gate as written in mix(..), unique among the probes
  std::vector<std::string> experts; ///< the k experts as written
};

/// The interface of a training-step graph, as lowering builds it and code
/// generation and the interpreter-based tests read it. Ids refer to one Graph.
struct StepSignature {
  std::vector<ValueId> inputs;      ///< per model input: its Input op (rows x elements)
  std::vector<ValueId> targets;     ///< per task: its target Input op (NaN = no label)
  std::vector<ValueId> taskWeights; ///< per task: a scalar Input holding the task's weight
  ValueId step = -1;                ///< scalar Input: the 1-based step (dropout); -1 if unused
  ValueId loss = -1;                ///< the scalar total loss: Σ_t w_t L_t + penalty
  ValueId penalty = -1;             ///< scalar regularisers + soft-sharing terms; -1: none
  std::vector<ValueId> taskLosses;  ///< per task: its scalar mean loss
  std::vector<ValueId> outputs;     ///< per task: the head output (logits or values)
  /// Per trainable parameter: the Param op and the value holding d loss / d param.
  std::vector<std::pair<ValueId, ValueId>> gradients;
  /// Per Buffer op, in definition order: it and the value a training step
  /// makes its next contents (result "buffer.<name>"); the update stores it.
  std::vector<std::pair<ValueId, ValueId>> buffers;

  // What balancing methods need: each task's gradient apart on the shared parameters.
  std::vector<ValueId> weightedLosses; ///< per task: w_t L_t, the task's term of the loss
  /// The Params that more than one task's loss depends on, in graph.params() order.
  std::vector<ValueId> sharedParams;
  /// [task][k]: d (w_t L_t) / d sharedParams[k]; empty when there is nothing to split
  /// (fewer than two tasks, or no shared parameter).
  std::vector<std::vector<ValueId>> taskGradients;
  /// [k]: d penalty / d sharedParams[k] (zeros without a penalty); set with taskGradients.
  std::vector<ValueId> penaltyGradients;

  // What mgda(rep) needs: the tasks' gradients on the representation they share.
  /// The values every task's loss depends on (and that depend on a
  /// parameter) that an op reads on the way to fewer tasks: the shared
  /// representation, MGDA-UB's Z (the trunk's output, for one trunk).
  std::vector<ValueId> sharedValues;
  /// [i * T + j]: the f32 scalar Σ_Z <d (w_i L_i) / d Z, d (w_j L_j) / d Z>
  /// over sharedValues, the same value for (i, j) and (j, i); set with
  /// taskGradients when sharedValues is not empty.
  std::vector<ValueId> repGram;

  /// Every mix's gate, in the order lowering met them; kept alive to the
  /// end of each step, which sums them into mtl_result.gate_sums.
  std::vector<GateProbe> gates;
};

} // namespace mtl::ir
