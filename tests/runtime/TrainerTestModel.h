// TrainerTestModel.h: a hand-written mtl_model (linear heads, MSE/BCE, SGD with momentum) for
// tests.
//
// A legitimate implementation of the ABI with its gradients written out by
// hand, so the Trainer can be tested without the compiler. Every task is a
// linear head out_t = x·w_t + b_t on the one input x (3 features); regress
// tasks use MSE, binary tasks BCE on logits; the update is PyTorch's SGD with
// momentum 0.5 (buf = 0.5 buf + g; p -= lr buf). The forward pass is split
// over rows with parallel_for (independent work); reductions run serially in
// row order, so results do not depend on the thread count.
#pragma once

#include "mtlrt/Abi.h"
#include "mtlrt/Dataset.h"

#include <cmath>
#include <cstdint>

namespace testmodel {

constexpr int kFeatures = 3, kTasks = 3, kParamsPerTask = kFeatures + 1;
constexpr int kParams = kTasks * kParamsPerTask;
constexpr float kMomentum = 0.5f;

inline const mtl_input_desc kInputs[] = {{"x", MTL_F32, 1, {kFeatures, 0, 0, 0}, kFeatures}};
inline const mtl_task_desc kTaskDescs[kTasks] = {
    {"y", MTL_REGRESS, MTL_MSE, 1, 0, 1.0, 0, MTL_METRIC_MSE | MTL_R2},
    {"pos", MTL_BINARY, MTL_BCE, 1, 0, 0.5, 0, MTL_ACCURACY | MTL_AUC},
    {"aux", MTL_REGRESS, MTL_MSE, 1, 0, 0.1, 1, MTL_METRIC_MAE}};
inline const mtl_tensor_desc kParamDescs[2 * kTasks] = {
    {"y.0.weight", 2, {1, kFeatures, 0, 0}, 0, kFeatures, MTL_INIT_UNIFORM, 0.57735f, nullptr, 0},
    {"y.0.bias", 1, {1, 0, 0, 0}, 3, 1, MTL_INIT_UNIFORM, 0.57735f, nullptr, 0},
    {"pos.0.weight", 2, {1, kFeatures, 0, 0}, 4, kFeatures, MTL_INIT_UNIFORM, 0.57735f, nullptr, 0},
    {"pos.0.bias", 1, {1, 0, 0, 0}, 7, 1, MTL_INIT_UNIFORM, 0.57735f, nullptr, 0},
    {"aux.0.weight", 2, {1, kFeatures, 0, 0}, 8, kFeatures, MTL_INIT_UNIFORM, 0.57735f, nullptr, 0},
    {"aux.0.bias", 1, {1, 0, 0, 0}, 11, 1, MTL_INIT_UNIFORM, 0.57735f, nullptr, 0}};
inline const mtl_tensor_desc kStateDescs[1] = {
    {"momentum_buffer", 1, {kParams, 0, 0, 0}, 0, kParams, MTL_INIT_ZEROS, 0, nullptr, 0}};

struct ForwardCtx {
  const float *x, *params;
  float *outputs; // kTasks blocks of `rows` values
  int64_t rows;
};

inline void forwardRows(void *ctx, int64_t begin, int64_t end) {
  auto *c = static_cast<ForwardCtx *>(ctx);
  for (int64_t r = begin; r < end; ++r)
    for (int t = 0; t < kTasks; ++t) {
      const float *w = c->params + t * kParamsPerTask;
      float z = w[kFeatures];
      for (int j = 0; j < kFeatures; ++j)
        z += c->x[r * kFeatures + j] * w[j];
      c->outputs[t * c->rows + r] = z;
    }
}

/// Forward pass and losses; with `grads`, also d(total)/d(params).
inline void forwardAndLoss(const mtl_batch *batch, const mtl_hyper *hyper, const float *params,
                           float *workspace, mtl_result *result, const mtl_parallel *parallel,
                           float *grads) {
  const int64_t rows = batch->rows;
  float *outputs = workspace + kParams;
  ForwardCtx ctx{static_cast<const float *>(batch->inputs[0]), params, outputs, rows};
  parallel->parallel_for(parallel->pool, rows, forwardRows, &ctx);
  if (grads)
    for (int i = 0; i < kParams; ++i)
      grads[i] = 0;
  float total = 0;
  for (int t = 0; t < kTasks; ++t) {
    const float *target = batch->targets[t];
    const float *out = outputs + t * rows;
    float count = 0, sum = 0;
    for (int64_t r = 0; r < rows; ++r)
      if (!std::isnan(target[r])) {
        count += 1;
        float z = out[r], y = target[r];
        sum += kTaskDescs[t].loss == MTL_MSE
                   ? (z - y) * (z - y)
                   : std::max(z, 0.0f) - z * y + std::log1p(std::exp(-std::fabs(z)));
      }
    float loss = count > 0 ? sum / count : 0.0f;
    result->task_losses[t] = loss;
    result->task_counts[t] = count;
    total += hyper->task_weights[t] * loss;
    if (result->outputs && result->outputs[t])
      for (int64_t r = 0; r < rows; ++r)
        result->outputs[t][r] = out[r];
    if (!grads || count == 0)
      continue;
    float *g = grads + t * kParamsPerTask;
    const float *x = ctx.x;
    for (int64_t r = 0; r < rows; ++r) {
      if (std::isnan(target[r]))
        continue;
      float z = out[r], y = target[r];
      float dz = kTaskDescs[t].loss == MTL_MSE ? 2.0f * (z - y) : 1.0f / (1.0f + std::exp(-z)) - y;
      dz *= hyper->task_weights[t] / count;
      for (int j = 0; j < kFeatures; ++j)
        g[j] += dz * x[r * kFeatures + j];
      g[kFeatures] += dz;
    }
  }
  result->total_loss = total;
}

inline void gradStep(const mtl_batch *batch, const mtl_hyper *hyper, const float *params,
                     float *workspace, float *grads, mtl_result *result,
                     const mtl_parallel *parallel) {
  forwardAndLoss(batch, hyper, params, workspace, result, parallel, grads);
  result->skipped = 0;
}

inline void update(const mtl_hyper *hyper, float *params, float *state, const float *grads,
                   mtl_result *result, const mtl_parallel *) {
  // As generated code does: a step that is not finite changes nothing.
  result->skipped = std::isfinite(result->total_loss) ? 0 : 1;
  for (int i = 0; i < kParams; ++i)
    result->skipped |= std::isfinite(grads[i]) ? 0 : 1;
  if (result->skipped)
    return;
  for (int i = 0; i < kParams; ++i) {
    state[i] = kMomentum * state[i] + grads[i];
    params[i] -= hyper->lr * state[i];
  }
}

inline void evalStep(const mtl_batch *batch, const mtl_hyper *hyper, const float *params,
                     float *workspace, mtl_result *result, const mtl_parallel *parallel) {
  forwardAndLoss(batch, hyper, params, workspace, result, parallel, nullptr);
}

inline const mtl_model kModel = {MTL_ABI_VERSION,
                                 "linear",
                                 "0",
                                 "test",
                                 "generic",
                                 1,
                                 kInputs,
                                 kTasks,
                                 kTaskDescs,
                                 2 * kTasks,
                                 kParamDescs,
                                 1,
                                 kStateDescs,
                                 kParams,
                                 kParams,
                                 /*workspace_fixed=*/kParams,
                                 /*workspace_per_row=*/kTasks,
                                 /*grads_size=*/kParams,
                                 /*num_shared=*/0,
                                 /*shared=*/nullptr,
                                 /*shared_params=*/nullptr,
                                 /*shared_size=*/0,
                                 gradStep,
                                 /*task_grad_step=*/nullptr,
                                 update,
                                 evalStep,
                                 /*config=*/nullptr,
                                 /*has_penalty=*/0,
                                 /*rep_grad_step=*/nullptr,
                                 /*rep_gram_offset=*/0,
                                 /*num_gates=*/0,
                                 /*gates=*/nullptr};

/// `rows` rows of x ~ N(0, 1) * scale + offset; y = 2x0 - x1 + 0.5x2 + 0.3 on
/// the unscaled features, pos = [x0 + x1 > 0] (missing on every 7th row), aux = x0.
inline mtlrt::Dataset makeData(int64_t rows, uint64_t seed, float scale = 1, float offset = 0) {
  mtlrt::Dataset d;
  d.name = "synthetic-linear";
  d.rows = rows;
  d.inputWidths = {kFeatures};
  d.targetWidths = {1, 1, 1};
  d.inputs.resize(1);
  d.targets.resize(kTasks);
  d.classNames.resize(kTasks);
  d.standardizeInputs = {0};
  d.standardizeTargets = {0, 0, 0};
  mtlrt::Rng rng(seed, 99);
  for (int64_t r = 0; r < rows; ++r) {
    float x[kFeatures];
    for (float &v : x) {
      v = float(rng.normal());
      d.inputs[0].write().push_back(v * scale + offset);
    }
    d.targets[0].push_back(2 * x[0] - x[1] + 0.5f * x[2] + 0.3f + 0.01f * float(rng.normal()));
    d.targets[1].push_back(r % 7 == 3 ? NAN : (x[0] + x[1] > 0 ? 1.0f : 0.0f));
    d.targets[2].push_back(x[0]);
    d.sourceRows.push_back(r);
  }
  return d;
}

} // namespace testmodel
