// CodeSwap.cpp: comparing two builds' descriptors, and handing the second to the trainer.
#include "mtlrt/CodeSwap.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>

namespace mtlrt {
namespace {

bool sameText(const char *a, const char *b) { return a == b || (a && b && std::strcmp(a, b) == 0); }

template <class T, class Eq> bool sameArrays(const T *a, const T *b, int64_t count, Eq eq) {
  if (count <= 0 || a == b)
    return true;
  if (!a || !b)
    return false;
  for (int64_t i = 0; i < count; ++i)
    if (!eq(a[i], b[i]))
      return false;
  return true;
}

bool sameDims(const int64_t (&a)[MTL_MAX_RANK], const int64_t (&b)[MTL_MAX_RANK]) {
  return std::equal(std::begin(a), std::end(a), std::begin(b));
}

bool sameInput(const mtl_input_desc &a, const mtl_input_desc &b) {
  return sameText(a.name, b.name) && a.dtype == b.dtype && a.rank == b.rank &&
         sameDims(a.dims, b.dims) && a.elements == b.elements;
}

bool sameTask(const mtl_task_desc &a, const mtl_task_desc &b) {
  return sameText(a.name, b.name) && a.kind == b.kind && a.loss == b.loss && a.width == b.width &&
         a.classes == b.classes && a.weight == b.weight && a.auxiliary == b.auxiliary &&
         a.metrics == b.metrics;
}

bool sameTensor(const mtl_tensor_desc &a, const mtl_tensor_desc &b) {
  return sameText(a.name, b.name) && a.rank == b.rank && sameDims(a.dims, b.dims) &&
         a.offset == b.offset && a.size == b.size && a.init == b.init &&
         std::memcmp(&a.init_scale, &b.init_scale, sizeof(float)) == 0 && a.buffer == b.buffer &&
         sameArrays(a.init_values, b.init_values, a.size,
                    [](float x, float y) { return std::memcmp(&x, &y, sizeof(float)) == 0; });
}

bool sameGate(const mtl_gate_desc &a, const mtl_gate_desc &b) {
  return sameText(a.name, b.name) && a.task == b.task && a.experts == b.experts &&
         sameArrays(a.expert_names, b.expert_names, a.experts, sameText);
}

} // namespace

bool sameLayout(const mtl_model &a, const mtl_model &b) {
  auto present = [](const mtl_model &m) {
    return std::array<bool, 5>{m.grad_step != nullptr, m.task_grad_step != nullptr,
                               m.update != nullptr, m.eval_step != nullptr,
                               m.rep_grad_step != nullptr};
  };
  auto eq = [](auto x, auto y) { return x == y; };
  return a.abi_version == b.abi_version && sameText(a.name, b.name) &&
         sameText(a.source_hash, b.source_hash) && sameText(a.mtlc_version, b.mtlc_version) &&
         sameText(a.target_cpu, b.target_cpu) && sameText(a.config, b.config) &&
         a.num_inputs == b.num_inputs && sameArrays(a.inputs, b.inputs, a.num_inputs, sameInput) &&
         a.num_tasks == b.num_tasks && sameArrays(a.tasks, b.tasks, a.num_tasks, sameTask) &&
         a.num_params == b.num_params && sameArrays(a.params, b.params, a.num_params, sameTensor) &&
         a.num_state == b.num_state && sameArrays(a.state, b.state, a.num_state, sameTensor) &&
         a.num_shared == b.num_shared && sameArrays(a.shared, b.shared, a.num_shared, sameTensor) &&
         sameArrays(a.shared_params, b.shared_params, a.num_shared, eq) &&
         a.params_size == b.params_size && a.state_size == b.state_size &&
         a.workspace_fixed == b.workspace_fixed && a.workspace_per_row == b.workspace_per_row &&
         a.grads_size == b.grads_size && a.shared_size == b.shared_size &&
         a.rep_gram_offset == b.rep_gram_offset && a.has_penalty == b.has_penalty &&
         a.num_gates == b.num_gates && sameArrays(a.gates, b.gates, a.num_gates, sameGate) &&
         present(a) == present(b);
}

Status CodeSwap::offer(const mtl_model *faster) {
  if (!faster || !sameLayout(first_, *faster))
    return fail("the second build's descriptor does not lay out the model as the first's");
  offered_.store(faster, std::memory_order_release);
  return Ok{};
}

const mtl_model *CodeSwap::take(int64_t stepsDone) {
  if (takenAfter() >= 0)
    return nullptr;
  const mtl_model *model = offered_.load(std::memory_order_acquire);
  if (model)
    takenAfter_.store(stepsDone, std::memory_order_release);
  return model;
}

} // namespace mtlrt
