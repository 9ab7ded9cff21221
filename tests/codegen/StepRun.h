// StepRun.h: one evaluation and one gradient step of a compiled model, for
// tests that compare the results of two builds or two thread counts bit for bit.
#pragma once

#include "mtlrt/Abi.h"

#include <gtest/gtest.h>

#include <vector>

namespace mtl::test {

/// What eval_step and grad_step give for one batch.
struct StepRun {
  float loss = 0;
  std::vector<float> taskLosses, grads;
  std::vector<std::vector<float>> outputs; ///< each task's head, rows x width
};

/// eval_step, then grad_step on the same batch (every task weight 1, rate
/// 0.01, run seed 0), on `parallel`'s threads or none; the two steps' total
/// losses must agree.
inline StepRun runStep(const mtl_model &m, const mtl_batch &batch, const float *params,
                       const mtl_parallel *parallel) {
  StepRun out;
  std::vector<float> workspace(size_t(m.workspace_fixed + batch.rows * m.workspace_per_row));
  std::vector<float> weights(size_t(m.num_tasks), 1.0f), counts(size_t(m.num_tasks));
  mtl_hyper hyper{0.01f, weights.data(), 1, 0, nullptr};
  out.taskLosses.assign(size_t(m.num_tasks), 0);
  std::vector<float *> outputs;
  for (int t = 0; t < m.num_tasks; ++t) {
    out.outputs.emplace_back(size_t(batch.rows * m.tasks[t].width));
    outputs.push_back(out.outputs.back().data());
  }
  mtl_result result{0, out.taskLosses.data(), counts.data(), outputs.data(), 0, 0, nullptr, 0};
  m.eval_step(&batch, &hyper, params, workspace.data(), &result, parallel);
  out.loss = result.total_loss;
  out.grads.assign(size_t(m.grads_size), 0);
  mtl_result gradResult{0, nullptr, nullptr, nullptr, 0, 0, nullptr, 0};
  m.grad_step(&batch, &hyper, params, workspace.data(), out.grads.data(), &gradResult, parallel);
  EXPECT_EQ(gradResult.total_loss, out.loss) << "grad_step's loss differs from eval_step's";
  return out;
}

/// runStep on a batch of `rows` rows of the given inputs and targets.
inline StepRun runStep(const mtl_model &m, int64_t rows, std::vector<const void *> inputs,
                       std::vector<const float *> targets, const float *params,
                       const mtl_parallel *parallel) {
  mtl_batch batch{rows, inputs.data(), targets.data()};
  return runStep(m, batch, params, parallel);
}

} // namespace mtl::test
