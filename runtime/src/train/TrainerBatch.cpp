// TrainerBatch.cpp: the Trainer on caller-supplied rows: forward passes and single training steps.
//
// `NAME predict`, the Predictor and the C library hand rows over in the
// model's own layout rather than as a Dataset; these entry points copy them
// into the same batch buffers fit() uses, so the generated steps see exactly
// what they see in training.
#include "mtlrt/FloatMode.h"
#include "train/TrainerImpl.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fmt/format.h>

namespace mtlrt {

Status Trainer::Impl::checkRaw(int64_t rows, std::span<const float *const> inputs,
                               std::span<const float *const> targets) const {
  if (rows < 0)
    return fail(fmt::format("a batch cannot have {} rows", rows));
  if (inputs.size() != size_t(model->num_inputs))
    return fail(fmt::format("model '{}' has {} inputs, got {}", model->name, model->num_inputs,
                            inputs.size()));
  if (!targets.empty() && targets.size() != size_t(model->num_tasks))
    return fail(fmt::format("model '{}' has {} tasks, got {} target arrays", model->name,
                            model->num_tasks, targets.size()));
  for (int32_t i = 0; i < model->num_inputs; ++i) {
    if (rows > 0 && !inputs[size_t(i)])
      return fail(fmt::format("input '{}': no values", model->inputs[i].name));
    const int64_t w = model->inputs[i].elements, limit = idLimits[size_t(i)];
    const bool ids = model->inputs[i].dtype == MTL_I32;
    // Category ids ('as category'): each column's own range of the table,
    // found column by column as the row is read (no allocation per batch).
    const Categories *columns =
        ids && size_t(i) < categories.size() && categories[size_t(i)].size() == size_t(w)
            ? &categories[size_t(i)]
            : nullptr;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0, first = 0; j < w; ++j) {
        int64_t lo = 0, hi = limit;
        if (columns) {
          lo = first;
          hi = first = std::min(first + int64_t((*columns)[size_t(j)].size()), limit);
        }
        const float x = inputs[size_t(i)][r * w + j];
        const bool ok =
            ids ? x >= float(lo) && x == std::floor(x) && double(x) < double(hi) : std::isfinite(x);
        if (!ok)
          return fail(fmt::format(
              "input '{}', row {}, column {} (from 0): {} is not {}", model->inputs[i].name, r, j,
              x,
              !ids ? std::string("a finite number")
              : lo == 0 && hi == limit
                  ? fmt::format("an integer id in [0, {})", hi)
                  : fmt::format("an id of that column's categories, in [{}, {})", lo, hi)));
      }
  }
  for (size_t t = 0; t < targets.size(); ++t) {
    const mtl_task_desc &task = model->tasks[t];
    if (rows > 0 && !targets[t])
      return fail(fmt::format("task '{}': no targets", task.name));
    const int64_t w = task.kind == MTL_CLASSIFY ? 1 : task.width, n = rows * w;
    for (int64_t k = 0; k < n; ++k) {
      float y = targets[t][k];
      bool ok = std::isnan(y) ||
                (task.kind == MTL_CLASSIFY ? y >= 0 && y < float(task.classes) && y == std::floor(y)
                 : task.kind == MTL_REGRESS ? std::isfinite(y)
                                            : y >= 0 && y <= 1);
      if (!ok)
        return fail(fmt::format(
            "task '{}', row {}, column {} (from 0): label {} is not {}", task.name, k / w, k % w, y,
            task.kind == MTL_CLASSIFY  ? fmt::format("a class id in [0, {})", task.classes)
            : task.kind == MTL_REGRESS ? std::string("a finite number")
                                       : std::string("in [0, 1]")));
    }
  }
  return Ok{};
}

void Trainer::Impl::gatherRaw(int64_t first, int64_t n, std::span<const float *const> inputs,
                              std::span<const float *const> targets) {
  for (size_t i = 0; i < inputBufs.size(); ++i) {
    const int64_t w = model->inputs[i].elements;
    const float *src = inputs[i] + first * w;
    if (model->inputs[i].dtype == MTL_I32) {
      int32_t *dst = inputBufs[i].ints();
      for (int64_t k = 0; k < n * w; ++k)
        dst[k] = int32_t(src[k]);
      continue;
    }
    float *dst = inputBufs[i].floats();
    std::memcpy(dst, src, size_t(n * w) * sizeof(float));
    if (inputStd[i])
      inputStd[i]->apply(std::span<float>(dst, size_t(n * w)));
  }
  for (size_t t = 0; t < targetBufs.size(); ++t) {
    const mtl_task_desc &task = model->tasks[t];
    const int64_t w = task.kind == MTL_CLASSIFY ? 1 : task.width;
    float *dst = targetBufs[t].floats();
    if (targets.empty()) {
      std::fill(dst, dst + n * w, NAN);
      continue;
    }
    std::memcpy(dst, targets[t] + first * w, size_t(n * w) * sizeof(float));
    if (targetStd[t])
      targetStd[t]->apply(std::span<float>(dst, size_t(n * w)));
  }
  batch.rows = n;
}

Status Trainer::forward(int64_t rows, std::span<const float *const> inputs,
                        std::span<float *const> outputs) {
  Impl &m = *impl;
  ScopedFloatMode mode(m.options.flushDenormals);
  if (Status s = m.checkRaw(rows, inputs, {}); !s)
    return s;
  if (outputs.size() != size_t(m.model->num_tasks))
    return fail(fmt::format("model '{}' has {} tasks, got {} output arrays", m.model->name,
                            m.model->num_tasks, outputs.size()));
  for (int32_t t = 0; t < m.model->num_tasks; ++t)
    if (rows > 0 && !outputs[size_t(t)])
      return fail(fmt::format("task '{}': no output array", m.model->tasks[t].name));
  m.hyper.step = m.step;
  for (int64_t begin = 0; begin < rows; begin += m.maxRows) {
    const int64_t n = std::min(rows - begin, m.maxRows);
    m.gatherRaw(begin, n, inputs, {});
    mtl_result res{
        0.0f, m.taskLosses.data(), m.taskCounts.data(), m.outputPtrs.data(), 0.0f, 0, nullptr, 0};
    m.model->eval_step(&m.batch, &m.hyper, m.params.floats(), m.workspace.floats(), &res,
                       &m.parallel);
    for (size_t t = 0; t < outputs.size(); ++t) {
      const int64_t w = m.model->tasks[t].width;
      std::memcpy(outputs[t] + begin * w, m.outputBufs[t].floats(), size_t(n * w) * 4);
    }
  }
  return Ok{};
}

Result<float> Trainer::trainBatch(int64_t rows, std::span<const float *const> inputs,
                                  std::span<const float *const> targets,
                                  std::span<float> taskLosses) {
  Impl &m = *impl;
  ScopedFloatMode mode(m.options.flushDenormals);
  if (rows < 1 || rows > m.maxRows)
    return fail(fmt::format("a training batch needs 1 to {} rows (the batch size), got {}",
                            m.maxRows, rows));
  if (targets.size() != size_t(m.model->num_tasks))
    return fail(fmt::format("model '{}' has {} tasks, got {} target arrays", m.model->name,
                            m.model->num_tasks, targets.size()));
  if (taskLosses.size() < size_t(m.model->num_tasks))
    return fail(fmt::format("model '{}' has {} tasks, got room for {} losses", m.model->name,
                            m.model->num_tasks, taskLosses.size()));
  if (Status s = m.checkRaw(rows, inputs, targets); !s)
    return s.takeError();
  m.gatherRaw(0, rows, inputs, targets);
  m.hyper.step = ++m.step;
  mtl_result res{
      0.0f, m.taskLosses.data(), m.taskCounts.data(), m.noOutputs.data(), 0.0f, 0, nullptr, 0};
  m.trainStep(res);
  std::copy(m.taskLosses.begin(), m.taskLosses.end(), taskLosses.begin());
  if (res.skipped == 2) {
    m.broken = true;
    return fail(fmt::format("step {}: its update overflowed, leaving parameters or optimizer "
                            "state that are not finite; load a checkpoint to go on",
                            m.step));
  }
  if (res.skipped) {
    m.hyper.step = --m.step;
    return fail(fmt::format("step {} not taken: its total loss is {} (or a gradient or the "
                            "learning rate is 2^60 or more); the parameters and optimizer state "
                            "are unchanged",
                            m.step + 1, res.total_loss));
  }
  return res.total_loss;
}

} // namespace mtlrt
