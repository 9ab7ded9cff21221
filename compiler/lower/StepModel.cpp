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
  if (layer && layer->kind == sema::LayerKind::LayerNorm)
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
  out.hasPenalty = !model.regularizers.empty() || !model.softGroups.empty();
  std::map<std::string, const sema::Layer *> layers;
  for (const sema::Module &m : model.modules)
    for (const sema::Layer &l : m.layers)
      layers[l.paramPrefix] = &l;
  for (ir::ValueId p : graph.params()) {
    const ir::Op &op = graph.op(p);
    auto it = layers.find(op.name.substr(0, op.name.rfind('.')));
    out.init.push_back(initFor(op.name, op.type.dims, it == layers.end() ? nullptr : it->second));
  }
  return out;
}

} // namespace mtl::lower
