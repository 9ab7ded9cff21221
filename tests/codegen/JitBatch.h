// JitBatch.h: a compiled model and a random batch for it, with the matching
// interpreter feeds: what the tests that run generated steps beside the
// reference interpreter (or against numbers worked out by hand) share.
#pragma once

#include "ModelFiles.h"
#include "driver/Pipeline.h"
#include "ir/Interpreter.h"

#include "mtlrt/Abi.h"

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace mtl::test {

// One batch of random inputs and targets (some missing) for a compiled model,
// and the matching interpreter feeds.
struct Batch {
  std::vector<std::vector<float>> inputs, targets;
  std::vector<std::vector<int32_t>> ids;
  std::vector<const void *> inputPtrs;
  std::vector<const float *> targetPtrs;
  std::vector<float> weights;
  ir::Feeds feeds;
};

inline Batch makeBatch(const mtl_model &m, const lower::LoweredStep &step, int64_t kRows,
                       std::mt19937 &rng) {
  const ir::StepSignature &sig = step.signature;
  auto nameOf = [&](ir::ValueId id) { return step.graph.op(id).name; };
  Batch b;
  std::normal_distribution<float> normal;
  for (int k = 0; k < m.num_inputs; ++k) {
    const mtl_input_desc &in = m.inputs[k];
    std::vector<double> feed;
    if (in.dtype == MTL_I32) {
      std::vector<int32_t> ids(kRows * in.elements);
      for (int32_t &id : ids)
        id = static_cast<int32_t>(rng() % 2);
      feed.assign(ids.begin(), ids.end());
      b.ids.push_back(std::move(ids));
      b.inputPtrs.push_back(b.ids.back().data());
    } else {
      std::vector<float> x(kRows * in.elements);
      for (float &v : x)
        v = normal(rng);
      feed.assign(x.begin(), x.end());
      b.inputs.push_back(std::move(x));
      b.inputPtrs.push_back(b.inputs.back().data());
    }
    b.feeds[nameOf(sig.inputs[k])] = feed;
  }
  for (int t = 0; t < m.num_tasks; ++t) {
    const mtl_task_desc &task = m.tasks[t];
    int64_t width = task.kind == MTL_CLASSIFY ? 1 : task.width;
    std::vector<float> y(kRows * width);
    for (int64_t i = 0; i < kRows * width; ++i) {
      if (task.kind == MTL_CLASSIFY)
        y[i] = static_cast<float>(rng() % task.classes);
      else if (task.kind == MTL_REGRESS)
        y[i] = normal(rng);
      else
        y[i] = static_cast<float>(rng() % 2);
    }
    std::fill_n(y.begin() + 2 * width, width, NAN); // a row without a label for every task
    if (width > 1)                                  // rows 3 and 4 with all but their first value
      y[3 * width] = y[4 * width] = NAN;
    b.feeds[nameOf(sig.targets[t])] = std::vector<double>(y.begin(), y.end());
    b.feeds[nameOf(sig.taskWeights[t])] = {task.weight};
    b.weights.push_back(static_cast<float>(task.weight));
    b.targets.push_back(std::move(y));
  }
  for (auto &t : b.targets)
    b.targetPtrs.push_back(t.data());
  if (sig.step >= 0)
    b.feeds[nameOf(sig.step)] = {1.0};
  return b;
}

inline std::vector<float> randomParams(const mtl_model &m, std::mt19937 &rng) {
  std::vector<float> params(m.params_size, 0.0f);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (int p = 0; p < m.num_params; ++p)
    for (int64_t i = 0; i < m.params[p].size; ++i) // a buffer's running variance is positive
      params[m.params[p].offset + i] = m.params[p].buffer ? 1 + u(rng) : u(rng);
  return params;
}

/// The offset of parameter `name` in the model's arenas.
inline const mtl_tensor_desc *paramNamed(const mtl_model &m, const std::string &name) {
  for (int p = 0; p < m.num_params; ++p)
    if (name == m.params[p].name)
      return &m.params[p];
  return nullptr;
}

// The interpreter reads parameters by name, from the same values the JIT gets.
inline void feedParams(const mtl_model &m, const std::vector<float> &params, ir::Feeds &feeds) {
  for (int p = 0; p < m.num_params; ++p) {
    auto begin = params.begin() + m.params[p].offset;
    feeds[m.params[p].name] = std::vector<double>(begin, begin + m.params[p].size);
  }
}

struct Compiled {
  driver::Compilation c;
  bool ok = false;
};

/// `entry`: a test::modelFiles() entry, or a path relative to the source
/// folder. With `taskGradients`, task_grad_step too, wherever tasks share
/// parameters (without, as `mtlc train` compiles a model whose balancing
/// does not combine gradients).
inline void compile(const std::string &entry, Compiled &out,
                    std::function<void(sema::Model &)> adjust = nullptr,
                    const std::string &cpu = "native", bool taskGradients = true) {
  driver::PipelineOptions o;
  o.adjust = std::move(adjust);
  o.target.cpu = cpu;
  o.taskGradients = taskGradients;
  o.modelName = test::modelOf(entry);
  out.ok = driver::runPipeline(test::modelPath(entry), driver::Stage::Jit, out.c, o);
}

} // namespace mtl::test
