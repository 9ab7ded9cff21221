// Layout.cpp: arena placement of parameters and optimizer state.
#include "codegen/Layout.h"

#include "mtlrt/Abi.h"

namespace mtl::codegen {
namespace {

int64_t alignUp(int64_t n) { return (n + 15) / 16 * 16; }

int initCode(lower::ParamInit::Kind kind) {
  switch (kind) {
  case lower::ParamInit::Kind::Uniform:
    return MTL_INIT_UNIFORM;
  case lower::ParamInit::Kind::Normal:
    return MTL_INIT_NORMAL;
  case lower::ParamInit::Kind::Ones:
    return MTL_INIT_ONES;
  case lower::ParamInit::Kind::Zeros:
    return MTL_INIT_ZEROS;
  case lower::ParamInit::Kind::Values:
    return MTL_INIT_VALUES;
  }
  return MTL_INIT_ZEROS;
}

} // namespace

ArenaLayout layoutArenas(const ir::Graph &graph, const ir::StepSignature &signature,
                         const lower::StepModel &model) {
  const std::vector<std::string> &slots = model.update.slots;
  ArenaLayout out;
  for (size_t i = 0; i < graph.params().size(); ++i) {
    ir::ValueId p = graph.params()[i];
    const ir::Op &op = graph.op(p);
    const lower::ParamInit &init = model.init[i];
    PlacedTensor t{op.name,
                   op.type.dims,
                   out.paramsSize,
                   op.type.rowElements(),
                   initCode(init.kind),
                   static_cast<float>(init.scale),
                   std::vector<float>(init.values.begin(), init.values.end()),
                   p};
    out.paramsSize += alignUp(t.size);
    out.stateOf.emplace_back();
    for (const std::string &slot : slots) {
      out.stateOf.back().push_back(static_cast<int>(out.state.size()));
      out.state.push_back({op.name + "." + slot, op.type.dims, out.stateSize, t.size, 0, 0, {}, p});
      out.stateSize += alignUp(t.size);
    }
    out.params.push_back(std::move(t));
  }
  for (size_t i = 0; i < graph.buffers().size(); ++i) {
    const ir::Op &op = graph.op(graph.buffers()[i]);
    PlacedTensor t{op.name,
                   op.type.dims,
                   out.paramsSize,
                   op.type.rowElements(),
                   initCode(model.bufferInit[i].kind),
                   0,
                   {},
                   graph.buffers()[i],
                   true};
    out.paramsSize += alignUp(t.size);
    out.buffers.push_back(std::move(t));
  }
  out.gradsSize = out.paramsSize;
  for (ir::ValueId p : signature.sharedParams)
    for (size_t k = 0; k < out.params.size(); ++k)
      if (out.params[k].param == p) {
        PlacedTensor t = out.params[k];
        t.offset = out.sharedSize;
        out.sharedSize += alignUp(t.size);
        out.shared.push_back(std::move(t));
        out.sharedIndex.push_back(static_cast<int>(k));
      }
  // Task blocks only when the step splits the gradients by task.
  out.gradsSize += out.sharedSize * static_cast<int64_t>(signature.taskGradients.size());
  // Then the tasks' Gram matrix on the shared representation, T x T floats.
  out.repGramOffset = out.gradsSize;
  out.gradsSize += static_cast<int64_t>(signature.repGram.size());
  // With it, a copy of the parameter arena for the unshared parameters' gradients.
  if (!signature.repGram.empty())
    out.gradsSize += out.paramsSize;
  return out;
}

} // namespace mtl::codegen
