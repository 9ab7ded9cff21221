// Init.cpp: parameter initialisation and the sanity checks on a model descriptor.
#include "mtlrt/Init.h"

#include "mtlrt/Dataset.h"

#include <cmath>
#include <cstring>
#include <fmt/format.h>

namespace mtlrt {

// "INIT" in the high word keeps these streams clear of the data loader's
// small stream numbers (split, synthetic data).
uint64_t initStream(int32_t index) { return 0x494E495400000000ull + uint64_t(uint32_t(index)); }

namespace {
Status checkTensor(const mtl_tensor_desc &t, int64_t arenaSize, const char *arena) {
  const char *name = t.name ? t.name : "(unnamed)";
  if (t.offset < 0 || t.size < 0 || t.offset > arenaSize || t.size > arenaSize - t.offset)
    return fail(fmt::format("model: {} tensor '{}' (offset {}, size {}) lies outside its arena "
                            "of {} floats",
                            arena, name, t.offset, t.size, arenaSize));
  return Ok{};
}
} // namespace

Status checkModel(const mtl_model &model) {
  if (model.abi_version != MTL_ABI_VERSION)
    return fail(fmt::format("model: ABI version {} does not match the runtime's {}",
                            model.abi_version, MTL_ABI_VERSION));
  if (!model.grad_step || !model.update || !model.eval_step)
    return fail("model: missing grad_step, update or eval_step");
  if (model.num_inputs < 1 || !model.inputs || model.num_tasks < 1 || !model.tasks)
    return fail("model: needs at least one input and one task");
  if ((model.num_params > 0 && !model.params) || (model.num_state > 0 && !model.state))
    return fail("model: tensor count without a tensor list");
  if (model.params_size < 0 || model.state_size < 0 || model.workspace_fixed < 0 ||
      model.workspace_per_row < 0 || model.shared_size < 0)
    return fail("model: negative arena size");
  const int64_t blocks = model.params_size + model.num_tasks * model.shared_size;
  const int64_t gram = int64_t(model.num_tasks) * model.num_tasks;
  if (model.task_grad_step &&
      (model.num_shared < 1 || !model.shared || !model.shared_params || model.num_tasks < 2 ||
       model.grads_size != blocks + (model.rep_grad_step ? gram + model.params_size : 0)))
    return fail("model: task_grad_step without a consistent shared-parameter table");
  if (model.rep_grad_step && (!model.task_grad_step || model.rep_gram_offset != blocks))
    return fail("model: rep_grad_step without task_grad_step or its Gram matrix after the "
                "task blocks");
  if (!model.task_grad_step && model.grads_size != model.params_size)
    return fail("model: the gradient arena must match the parameter arena");
  for (int32_t i = 0; i < model.num_inputs; ++i)
    if (model.inputs[i].elements < 1)
      return fail(fmt::format("model: input '{}' has no elements", model.inputs[i].name));
  for (int32_t i = 0; i < model.num_tasks; ++i) {
    const mtl_task_desc &task = model.tasks[i];
    if (task.width < 1)
      return fail(fmt::format("model: task '{}' has width {}", task.name, task.width));
    if (task.kind == MTL_CLASSIFY && (task.classes < 2 || task.classes != task.width))
      return fail(fmt::format("model: classify task '{}' has {} classes and width {}", task.name,
                              task.classes, task.width));
  }
  for (int32_t i = 0; i < model.num_params; ++i)
    if (Status s = checkTensor(model.params[i], model.params_size, "parameter"); !s)
      return s;
  for (int32_t i = 0; i < model.num_state; ++i)
    if (Status s = checkTensor(model.state[i], model.state_size, "optimizer-state"); !s)
      return s;
  for (int32_t i = 0; model.task_grad_step && i < model.num_shared; ++i) {
    if (Status s = checkTensor(model.shared[i], model.shared_size, "shared-gradient"); !s)
      return s;
    const int32_t p = model.shared_params[i];
    if (p < 0 || p >= model.num_params || model.params[p].size != model.shared[i].size)
      return fail(fmt::format("model: shared tensor '{}' names no parameter of its size",
                              model.shared[i].name));
  }
  if (model.num_gates < 0 || (model.num_gates > 0 && !model.gates))
    return fail("model: gate count without a gate list");
  for (int32_t i = 0; i < model.num_gates; ++i) {
    const mtl_gate_desc &g = model.gates[i];
    if (!g.name || g.task < -1 || g.task >= model.num_tasks || g.experts < 1 || !g.expert_names)
      return fail(fmt::format("model: gate {} has no name, task or experts", i));
  }
  return Ok{};
}

Status initParams(const mtl_model &model, float *params, uint64_t seed) {
  if (model.params_size > 0)
    std::memset(params, 0, sizeof(float) * size_t(model.params_size));
  for (int32_t i = 0; i < model.num_params; ++i) {
    const mtl_tensor_desc &t = model.params[i];
    if (Status s = checkTensor(t, model.params_size, "parameter"); !s)
      return s;
    double scale = t.init_scale;
    if (!std::isfinite(scale) || scale < 0)
      return fail(fmt::format("model: parameter '{}' has init scale {}", t.name, scale));
    float *out = params + t.offset;
    Rng rng(seed, initStream(i));
    switch (t.init) {
    case MTL_INIT_ZEROS:
      break; // already zero
    case MTL_INIT_ONES:
      for (int64_t k = 0; k < t.size; ++k)
        out[k] = 1.0f;
      break;
    case MTL_INIT_UNIFORM:
      for (int64_t k = 0; k < t.size; ++k)
        out[k] = float(scale * (2.0 * rng.uniform() - 1.0));
      break;
    case MTL_INIT_NORMAL:
      for (int64_t k = 0; k < t.size; ++k)
        out[k] = float(scale * rng.normal());
      break;
    case MTL_INIT_VALUES:
      if (!t.init_values)
        return fail(fmt::format("model: parameter '{}' has no initial values", t.name));
      std::copy(t.init_values, t.init_values + t.size, out);
      break;
    default:
      return fail(fmt::format("model: parameter '{}' has unknown init kind {}", t.name, t.init));
    }
  }
  return Ok{};
}

void initState(const mtl_model &model, float *state) {
  if (model.state_size > 0)
    std::memset(state, 0, sizeof(float) * size_t(model.state_size));
}

} // namespace mtlrt
