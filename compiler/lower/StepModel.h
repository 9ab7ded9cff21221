// StepModel.h: what code generation needs of a model besides the step's graph.
#pragma once

#include "ir/Graph.h"
#include "lower/Update.h"
#include "sema/Model.h"

#include <string>
#include <vector>

namespace mtl::lower {

/// How a parameter's values are drawn before training (PyTorch's defaults
/// for the layer it belongs to).
struct ParamInit {
  enum class Kind { Uniform, Normal, Ones, Zeros, Values };
  Kind kind = Kind::Uniform;
  double scale = 0;                ///< Uniform: U(-scale, scale); Normal: N(0, scale²)
  std::vector<double> values = {}; ///< Values: one per element (a `learned(...)` gate)
};

/// Lowering's record of the model for the later stages, so that code
/// generation reads the step and this, never sema::Model: the descriptor's
/// inputs and tasks, each parameter's initialisation, the optimizer, and
/// whether the step has a penalty term.
struct StepModel {
  std::string name;
  std::vector<sema::Input> inputs;
  std::vector<sema::Task> tasks;
  /// One per Param op of the graph, in graph.params() order.
  std::vector<ParamInit> init;
  /// One per Buffer op of the graph, in graph.buffers() order.
  std::vector<ParamInit> bufferInit;
  sema::Optimizer optimizer;
  UpdateGraph update;      ///< the optimizer's update of one element
  bool hasPenalty = false; ///< l1/l2 or soft sharing
};

/// The record of `model`, lowered into `graph` (whose parameters are named
/// by their layers' checkpoint prefixes). nn.Linear weight and bias:
/// U(±1/sqrt(in)); nn.LayerNorm weight 1, bias 0; nn.Embedding weight N(0, 1);
/// nn.GRU weights and biases U(±1/sqrt(hidden)); nn.BatchNorm weight 1, bias
/// 0, running_var 1, running_mean and num_batches_tracked 0.
StepModel describeStep(const sema::Model &model, const ir::Graph &graph);

} // namespace mtl::lower
