// Layout.cpp: arena placement and PyTorch-default initialisation of parameters.
#include "codegen/Layout.h"

#include "mtlrt/Abi.h"

#include <cmath>
#include <map>

namespace mtl::codegen {
namespace {

int64_t alignUp(int64_t n) { return (n + 15) / 16 * 16; }

// PyTorch: nn.Linear weight and bias ~ U(-1/sqrt(in), 1/sqrt(in));
// nn.LayerNorm weight 1, bias 0; nn.Embedding weight ~ N(0, 1).
void chooseInit(PlacedTensor &t, const std::map<std::string, const sema::Layer *> &layers) {
  std::string prefix = t.name.substr(0, t.name.rfind('.'));
  bool isWeight = t.name.size() > 7 && t.name.compare(t.name.size() - 7, 7, ".weight") == 0;
  auto it = layers.find(prefix);
  const sema::Layer *layer = it == layers.end() ? nullptr : it->second;
  if (layer && layer->kind == sema::LayerKind::LayerNorm) {
    t.init = isWeight ? MTL_INIT_ONES : MTL_INIT_ZEROS;
    return;
  }
  if (layer && layer->kind == sema::LayerKind::Embedding) {
    t.init = MTL_INIT_NORMAL;
    t.initScale = 1.0f;
    return;
  }
  int64_t fanIn = layer ? sema::elementCount(layer->inShape) : (t.dims.size() == 2 ? t.dims[1] : 1);
  t.init = MTL_INIT_UNIFORM;
  t.initScale =
      static_cast<float>(1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(fanIn, 1))));
}

} // namespace

ArenaLayout layoutArenas(const ir::Graph &graph, const sema::Model &model) {
  std::map<std::string, const sema::Layer *> layers;
  for (const sema::Module &m : model.modules)
    for (const sema::Layer &l : m.layers)
      layers[l.paramPrefix] = &l;
  std::vector<std::string> slots;
  switch (model.optimizer.kind) {
  case sema::OptimizerKind::Sgd:
    if (model.optimizer.momentum != 0)
      slots = {"momentum_buffer"};
    break;
  case sema::OptimizerKind::Adam:
  case sema::OptimizerKind::AdamW:
    slots = {"exp_avg", "exp_avg_sq"};
    break;
  }
  ArenaLayout out;
  for (ir::ValueId p : graph.params()) {
    const ir::Op &op = graph.op(p);
    PlacedTensor t{op.name, op.type.dims, out.paramsSize, op.type.rowElements(), 0, 0, p};
    chooseInit(t, layers);
    out.paramsSize += alignUp(t.size);
    out.stateOf.emplace_back();
    for (const std::string &slot : slots) {
      out.stateOf.back().push_back(static_cast<int>(out.state.size()));
      out.state.push_back({op.name + "." + slot, op.type.dims, out.stateSize, t.size, 0, 0, p});
      out.stateSize += alignUp(t.size);
    }
    out.params.push_back(std::move(t));
  }
  return out;
}

} // namespace mtl::codegen
