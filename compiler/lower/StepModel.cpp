// StepModel.cpp: the model as code generation sees it, and PyTorch's initialisation per layer.
#include "lower/StepModel.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace mtl::lower {
namespace {

ParamInit initFor(const std::string &name, const std::vector<int64_t> &dims,
                  const sema::Layer *layer) {
  bool isWeight = name.ends_with(".weight");
  if (layer && layer->kind == sema::LayerKind::Learned) // the numbers written in learned(...)
    return {ParamInit::Kind::Values, 0, layer->values};
  if (layer && layer->kind == sema::LayerKind::Attention) {
    // nn.MultiheadAttention: Xavier-uniform projections, bound sqrt(6 / (fan_in +
    // fan_out)); biases zero; out_proj.weight as nn.Linear, U(±1/sqrt(E)).
    if (name.ends_with("bias"))
      return {ParamInit::Kind::Zeros, 0};
    if (name.ends_with("out_proj.weight"))
      return {ParamInit::Kind::Uniform, 1.0 / std::sqrt(double(dims[1]))};
    return {ParamInit::Kind::Uniform, std::sqrt(6.0 / double(dims[0] + dims[1]))};
  }
  if (layer &&
      (layer->kind == sema::LayerKind::LayerNorm || layer->kind == sema::LayerKind::BatchNorm))
    return {isWeight ? ParamInit::Kind::Ones : ParamInit::Kind::Zeros, 0};
  if (layer && layer->kind == sema::LayerKind::Embedding)
    return {ParamInit::Kind::Normal, 1.0};
  if (layer && layer->kind == sema::LayerKind::Gru) // nn.GRU: all four U(±1/sqrt(hidden))
    return {ParamInit::Kind::Uniform,
            1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(layer->units, 1)))};
  // PyTorch's fan-in: a dense layer's inputs, a convolution's patch (C k k).
  int64_t fanIn = layer ? sema::elementCount(layer->inShape) : (dims.size() == 2 ? dims[1] : 1);
  if (layer && layer->kind == sema::LayerKind::Conv2d)
    fanIn = layer->inShape[0] * layer->kernel * layer->kernel;
  return {ParamInit::Kind::Uniform,
          1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(fanIn, 1)))};
}

} // namespace

StepModel describeStep(const sema::Model &model, const ir::Graph &graph) {
  StepModel out;
  out.name = model.name;
  out.inputs = model.inputs;
  out.tasks = model.tasks;
  out.optimizer = model.optimizer;
  out.update = lowerUpdate(model.optimizer);
  out.hasPenalty = !model.regularizers.empty() || !model.softGroups.empty();
  std::map<std::string, const sema::Layer *> layers;
  for (const sema::Module &m : model.modules)
    for (const sema::Layer &l : m.layers)
      layers[l.paramPrefix] = &l;
  for (ir::ValueId p : graph.params()) {
    const ir::Op &op = graph.op(p);
    // The layer is the longest prefix of the name that names one
    // (attention's "P.out_proj.weight" is layer P's).
    const sema::Layer *layer = nullptr;
    for (size_t dot = op.name.rfind('.'); !layer && dot != std::string::npos && dot > 0;
         dot = op.name.rfind('.', dot - 1))
      if (auto it = layers.find(op.name.substr(0, dot)); it != layers.end())
        layer = it->second;
    out.init.push_back(initFor(op.name, op.type.dims, layer));
  }
  // nn.BatchNorm's buffers: running_var 1, running_mean and num_batches_tracked 0.
  for (ir::ValueId v : graph.buffers())
    out.bufferInit.push_back({graph.op(v).name.ends_with(".running_var") ? ParamInit::Kind::Ones
                                                                         : ParamInit::Kind::Zeros,
                              0});
  return out;
}

} // namespace mtl::lower
