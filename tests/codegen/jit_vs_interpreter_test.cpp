// jit_vs_interpreter_test.cpp: on every example, the JIT-compiled step agrees
// with the reference interpreter: losses, head outputs, gradients, and one
// optimizer update.
#include "ModelFiles.h"
#include "driver/Pipeline.h"
#include "ir/Interpreter.h"

#include "mtlrt/Abi.h"
#include "mtlrt/Init.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace mtl {
namespace jit_vs_interpreter {

// A batch below the tiled path's threshold (16 rows) and one above it that is
// not a multiple of the 4-row blocks, so remainder tiles run too.
constexpr int64_t kBatchSizes[] = {5, 37};

// f32 generated code against the f64 interpreter.
void expectClose(double jit, double ref, const std::string &what) {
  EXPECT_NEAR(jit, ref, 2e-4 + 2e-3 * std::fabs(ref)) << what;
}

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

Batch makeBatch(const mtl_model &m, const lower::LoweredStep &step, int64_t kRows,
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

std::vector<float> randomParams(const mtl_model &m, std::mt19937 &rng) {
  std::vector<float> params(m.params_size, 0.0f);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (int p = 0; p < m.num_params; ++p)
    for (int64_t i = 0; i < m.params[p].size; ++i) // a buffer's running variance is positive
      params[m.params[p].offset + i] = m.params[p].buffer ? 1 + u(rng) : u(rng);
  return params;
}

/// The offset of parameter `name` in the model's arenas.
const mtl_tensor_desc *paramNamed(const mtl_model &m, const std::string &name) {
  for (int p = 0; p < m.num_params; ++p)
    if (name == m.params[p].name)
      return &m.params[p];
  return nullptr;
}

/// Each buffer's next value, which a training step leaves in the block of
/// `grads` that starts at `block`, against the interpreter's; marks them written.
void checkBuffers(const mtl_model &m, const ir::Graph &g, const ir::StepSignature &sig,
                  const ir::Execution &ref, const std::vector<float> &grads, int64_t block,
                  const std::string &step, std::vector<bool> *written = nullptr) {
  for (auto &[buffer, next] : sig.buffers) {
    const mtl_tensor_desc *d = paramNamed(m, g.op(buffer).name);
    ASSERT_NE(d, nullptr) << g.op(buffer).name;
    EXPECT_EQ(d->buffer, 1) << d->name;
    for (int64_t i = 0; i < d->size; ++i) {
      expectClose(grads[block + d->offset + i], ref[next][i],
                  step + "'s next " + d->name + "[" + std::to_string(i) + "]");
      if (written)
        (*written)[size_t(block + d->offset + i)] = true;
    }
  }
}

// The interpreter reads parameters by name, from the same values the JIT gets.
void feedParams(const mtl_model &m, const std::vector<float> &params, ir::Feeds &feeds) {
  for (int p = 0; p < m.num_params; ++p) {
    auto begin = params.begin() + m.params[p].offset;
    feeds[m.params[p].name] = std::vector<double>(begin, begin + m.params[p].size);
  }
}

/// The fraction of row `r`'s targets for task `t` that are labelled.
double labelledPart(const Batch &batch, int t, int64_t rows, int64_t r) {
  const std::vector<float> &y = batch.targets[size_t(t)];
  const size_t width = y.size() / size_t(rows);
  const auto row = y.begin() + std::ptrdiff_t(size_t(r) * width);
  return double(std::count_if(row, row + std::ptrdiff_t(width),
                              [](float v) { return !std::isnan(v); })) /
         double(width);
}

/// mtl_result.gate_sums as the interpreter's values give them: each gate's
/// columns summed over the rows labelled for its task, each weighted by the
/// part labelled (every row when several tasks read the mix).
std::vector<double> referenceGateSums(const ir::StepSignature &sig, const ir::Execution &ref,
                                      const Batch &batch, int64_t rows) {
  std::vector<double> out;
  for (const ir::GateProbe &gate : sig.gates) {
    const auto k = static_cast<int64_t>(gate.experts.size());
    const bool perRow = ref[gate.gate].size() == size_t(rows * k); // else learned(...)
    for (int64_t j = 0; j < k; ++j) {
      double sum = 0;
      for (int64_t r = 0; r < rows; ++r) {
        const double part = gate.task >= 0 ? labelledPart(batch, gate.task, rows, r) : 1;
        sum += ref[gate.gate][size_t(perRow ? r * k + j : j)] * part;
      }
      out.push_back(sum);
    }
  }
  return out;
}

/// The descriptor's gates are the signature's, and `sums` (a step's
/// gate_sums) the interpreter's.
void checkGates(const mtl_model &m, const ir::StepSignature &sig, const std::vector<float> &sums,
                const std::vector<double> &ref, const std::string &step) {
  ASSERT_EQ(m.num_gates, int32_t(sig.gates.size()));
  ASSERT_EQ(sums.size(), ref.size());
  for (int32_t g = 0; g < m.num_gates; ++g) {
    const ir::GateProbe &probe = sig.gates[size_t(g)];
    EXPECT_EQ(m.gates[g].name, probe.name);
    EXPECT_EQ(m.gates[g].task, probe.task) << probe.name;
    ASSERT_EQ(m.gates[g].experts, int32_t(probe.experts.size())) << probe.name;
    for (int32_t j = 0; j < m.gates[g].experts; ++j)
      EXPECT_EQ(m.gates[g].expert_names[j], probe.experts[size_t(j)]) << probe.name;
  }
  for (size_t i = 0; i < sums.size(); ++i)
    expectClose(sums[i], ref[i], step + " gate sum " + std::to_string(i));
}

struct Compiled {
  driver::Compilation c;
  bool ok = false;
};

/// `entry`: a test::modelFiles() entry, or a path relative to the source folder.
void compile(const std::string &entry, Compiled &out,
             std::function<void(sema::Model &)> adjust = nullptr,
             const std::string &cpu = "native") {
  driver::PipelineOptions o;
  o.adjust = std::move(adjust);
  o.target.cpu = cpu;
  o.taskGradients = true; // task_grad_step too, wherever tasks share parameters
  o.modelName = test::modelOf(entry);
  out.ok = driver::runPipeline(test::modelPath(entry), driver::Stage::Jit, out.c, o);
}

class JitVsInterpreter : public ::testing::TestWithParam<std::string> {};

/// Losses and outputs of eval_step, and the gradient arena of grad_step and
/// task_grad_step, against the interpreter.
void checkLossesOutputsAndGradients(const Compiled &own, int64_t kRows) {
  SCOPED_TRACE("batch " + std::to_string(kRows));
  const mtl_model &m = *own.c.compiled;
  std::mt19937 rng(42);
  Batch batch = makeBatch(m, own.c.step, kRows, rng);
  std::vector<float> params = randomParams(m, rng);
  feedParams(m, params, batch.feeds);

  // Eval runs without dropout; the train step (gradients) with it, under a
  // run seed that both sides mix into every dropout op's own.
  constexpr uint64_t kRunSeed = 20261123;
  ir::Execution evalRef = ir::interpret(own.c.step.graph, batch.feeds, {kRows, false, false});
  ir::Execution ref = ir::interpret(own.c.step.graph, batch.feeds, {kRows, false, true, kRunSeed});
  ASSERT_TRUE(evalRef.ok()) << evalRef.error;
  ASSERT_TRUE(ref.ok()) << ref.error;
  const ir::StepSignature &sig = own.c.step.signature;

  mtl_batch mb{kRows, batch.inputPtrs.data(), batch.targetPtrs.data()};
  mtl_hyper hyper{1.0f, batch.weights.data(), 1, kRunSeed, nullptr};
  std::vector<float> workspace(m.workspace_fixed + kRows * m.workspace_per_row);
  std::vector<float> taskLosses(m.num_tasks), counts(m.num_tasks);
  std::vector<std::vector<float>> outputs(m.num_tasks);
  std::vector<float *> outputPtrs;
  for (int t = 0; t < m.num_tasks; ++t) {
    outputs[t].resize(kRows * m.tasks[t].width);
    outputPtrs.push_back(outputs[t].data());
  }
  std::vector<float> gateSums(referenceGateSums(sig, evalRef, batch, kRows).size(), NAN);
  mtl_result result{0, taskLosses.data(), counts.data(), outputPtrs.data(), 0, 0, gateSums.data()};
  m.eval_step(&mb, &hyper, params.data(), workspace.data(), &result, nullptr);
  checkGates(m, sig, gateSums, referenceGateSums(sig, evalRef, batch, kRows), "eval_step");

  expectClose(result.total_loss, evalRef[sig.loss][0], "total loss");
  expectClose(result.penalty, sig.penalty >= 0 ? evalRef[sig.penalty][0] : 0.0, "penalty");
  for (int t = 0; t < m.num_tasks; ++t) {
    std::string task = m.tasks[t].name;
    expectClose(taskLosses[t], evalRef[sig.taskLosses[t]][0], task + " loss");
    double labelled = 0;
    for (int64_t r = 0; r < kRows; ++r)
      labelled += labelledPart(batch, t, kRows, r);
    EXPECT_FLOAT_EQ(counts[t], float(labelled)) << task << " labelled rows";
    for (size_t i = 0; i < outputs[t].size(); ++i)
      expectClose(outputs[t][i], evalRef[sig.outputs[t]][i], task + " output " + std::to_string(i));
  }

  const ir::Graph &g = own.c.step.graph;
  std::vector<float> grads(m.grads_size, NAN);
  std::fill(gateSums.begin(), gateSums.end(), NAN);
  m.grad_step(&mb, &hyper, params.data(), workspace.data(), grads.data(), &result, nullptr);
  checkGates(m, sig, gateSums, referenceGateSums(sig, ref, batch, kRows), "grad_step");
  ASSERT_FALSE(sig.gradients.empty());
  for (auto &[param, grad] : sig.gradients) {
    const std::string &name = g.op(param).name;
    const mtl_tensor_desc *d = paramNamed(m, name);
    ASSERT_NE(d, nullptr) << name;
    for (int64_t i = 0; i < d->size; ++i)
      expectClose(grads[d->offset + i], ref[grad][i],
                  "gradient of " + name + "[" + std::to_string(i) + "]");
  }
  checkBuffers(m, g, sig, ref, grads, 0, "grad_step");
  if (sig.taskGradients.empty()) {
    EXPECT_EQ(m.task_grad_step, nullptr);
    return;
  }
  // Split by task: each task's block, and the penalty's gradient where the
  // shared parameters sit in the first part of the arena.
  ASSERT_NE(m.task_grad_step, nullptr);
  ASSERT_EQ(m.num_shared, int32_t(sig.sharedParams.size()));
  std::vector<float> split(m.grads_size, NAN);
  m.task_grad_step(&mb, &hyper, params.data(), workspace.data(), split.data(), &result, nullptr);
  expectClose(result.total_loss, ref[sig.loss][0], "total loss of task_grad_step");
  for (int32_t s = 0; s < m.num_shared; ++s) {
    const mtl_tensor_desc &d = m.params[m.shared_params[s]];
    EXPECT_EQ(std::string(d.name), g.op(sig.sharedParams[s]).name);
    for (int64_t i = 0; i < d.size; ++i) {
      const std::string at = std::string(d.name) + "[" + std::to_string(i) + "]";
      if (sig.penalty >= 0) // else the shared parameters' place is not written (Abi.h)
        expectClose(split[d.offset + i], ref[sig.penaltyGradients[s]][i], "penalty gradient " + at);
      else
        EXPECT_TRUE(std::isnan(split[d.offset + i])) << "written without a penalty: " << at;
      for (int t = 0; t < m.num_tasks; ++t)
        expectClose(split[m.params_size + t * m.shared_size + m.shared[s].offset + i],
                    ref[sig.taskGradients[t][s]][i],
                    std::string(m.tasks[t].name) + "'s gradient of " + at);
    }
  }
  checkBuffers(m, g, sig, ref, split, 0, "task_grad_step");
  // The tasks' Gram matrix on the shared representation (mgda(rep)), and
  // nothing else of the arena written.
  if (sig.repGram.empty()) {
    EXPECT_EQ(m.rep_grad_step, nullptr);
    return;
  }
  ASSERT_NE(m.rep_grad_step, nullptr);
  std::vector<float> rep(m.grads_size, NAN);
  m.rep_grad_step(&mb, &hyper, params.data(), workspace.data(), rep.data(), &result, nullptr);
  expectClose(result.total_loss, ref[sig.loss][0], "total loss of rep_grad_step");
  const int64_t tasks = m.num_tasks, block = m.rep_gram_offset + tasks * tasks;
  ASSERT_EQ(block + m.params_size, m.grads_size);
  std::vector<bool> written(size_t(m.grads_size), false);
  for (int64_t k = 0; k < tasks * tasks; ++k) {
    expectClose(rep[m.rep_gram_offset + k], ref[sig.repGram[k]][0],
                "representation Gram [" + std::to_string(k) + "]");
    written[size_t(m.rep_gram_offset + k)] = true;
  }
  EXPECT_GT(rep[m.rep_gram_offset], 0) << "a task's own gradient on the representation is zero";
  // The unshared parameters' gradients, after it.
  for (auto &[param, grad] : sig.gradients) {
    if (std::find(sig.sharedParams.begin(), sig.sharedParams.end(), param) !=
        sig.sharedParams.end())
      continue;
    const mtl_tensor_desc *d = paramNamed(m, g.op(param).name);
    ASSERT_NE(d, nullptr);
    for (int64_t i = 0; i < d->size; ++i) {
      expectClose(rep[block + d->offset + i], ref[grad][i],
                  "rep_grad_step's gradient of " + std::string(d->name));
      written[size_t(block + d->offset + i)] = true;
    }
  }
  checkBuffers(m, g, sig, ref, rep, block, "rep_grad_step", &written);
  for (int64_t k = 0; k < m.grads_size; ++k) {
    if (!written[size_t(k)]) {
      EXPECT_TRUE(std::isnan(rep[k])) << "rep_grad_step wrote grads[" << k << "]";
    }
  }
}

/// `own` is the model compiled with its own optimizer.
void checkOneUpdate(const Compiled &own, int64_t kRows) {
  SCOPED_TRACE("batch " + std::to_string(kRows));
  const mtl_model &m = *own.c.compiled;
  const sema::Optimizer &opt = own.c.model->optimizer;
  std::mt19937 rng(7);
  Batch batch = makeBatch(m, own.c.step, kRows, rng);
  std::vector<float> params = randomParams(m, rng);
  feedParams(m, params, batch.feeds);
  ir::Execution ref = ir::interpret(own.c.step.graph, batch.feeds, {kRows, false});
  ASSERT_TRUE(ref.ok()) << ref.error;

  const double lr = 0.01;
  mtl_batch mb{kRows, batch.inputPtrs.data(), batch.targetPtrs.data()};
  mtl_hyper hyper{static_cast<float>(lr), batch.weights.data(), 1, 0, nullptr};
  std::vector<float> workspace(m.workspace_fixed + kRows * m.workspace_per_row);
  std::vector<float> taskLosses(m.num_tasks), counts(m.num_tasks), state(m.state_size);
  mtl_result result{0, taskLosses.data(), counts.data(), nullptr, 0, 0, nullptr};
  std::vector<float> updated = params, grads(m.grads_size);
  m.grad_step(&mb, &hyper, updated.data(), workspace.data(), grads.data(), &result, nullptr);
  m.update(&hyper, updated.data(), state.data(), grads.data(), &result, nullptr);
  EXPECT_EQ(result.skipped, 0) << "a finite step was skipped";

  // The first step of each optimizer from zero state, written out plainly.
  for (auto &[param, grad] : own.c.step.signature.gradients) {
    const std::string &name = own.c.step.graph.op(param).name;
    for (int p = 0; p < m.num_params; ++p) {
      if (name != m.params[p].name)
        continue;
      for (int64_t i = 0; i < m.params[p].size; ++i) {
        double w = params[m.params[p].offset + i], g = ref[grad][i], expect = 0;
        switch (opt.kind) {
        case sema::OptimizerKind::Sgd:
          expect = w - lr * g;
          break;
        case sema::OptimizerKind::AdamW:
          w *= 1 - lr * opt.weightDecay;
          [[fallthrough]];
        case sema::OptimizerKind::Adam: {
          // Adam's first step is lr * g / (|g| + eps): for |g| near eps it
          // amplifies the f32-vs-f64 difference of g itself, so only
          // gradients well above eps are compared.
          if (std::fabs(g) < 1e-6)
            continue;
          double mhat = (1 - opt.beta1) * g / (1 - opt.beta1);
          double vhat = (1 - opt.beta2) * g * g / (1 - opt.beta2);
          expect = w - lr * mhat / (std::sqrt(vhat) + opt.eps);
          break;
        }
        }
        expectClose(updated[m.params[p].offset + i], expect, "updated " + name);
      }
    }
  }
  // The update stores each buffer's next value: the training step's.
  checkBuffers(m, own.c.step.graph, own.c.step.signature, ref, updated, 0, "update");
}

TEST_P(JitVsInterpreter, LossesOutputsGradientsAndOneUpdateAgree) {
  // Compiled once: the machine code does not depend on the batch size.
  Compiled own;
  compile(GetParam(), own);
  ASSERT_TRUE(own.ok) << own.c.diags.render(false);
  for (int64_t rows : kBatchSizes) {
    checkLossesOutputsAndGradients(own, rows);
    checkOneUpdate(own, rows);
  }
}

TEST(JitTargets, MaskedTailsAgreeWithAndWithoutMaskedVectorMoves) {
  // A product's columns past its last full panel (of 24 columns on
  // x86-64-v3, 8 on x86-64-v2) and a pool's last windows of a row (past a
  // multiple of 16): where the CPU masks moves in hardware (x86-64-v3,
  // AVX2), one panel of the vectors the columns need, the last masked;
  // one-vector panels and scalar code where it cannot (x86-64-v2).
  // Penguins' and wine's layers, shared_trunk_regression's 50 and 100
  // columns (2 and 4 past their panels) and the pools model have such columns.
  for (const char *cpu : {"x86-64-v2", "x86-64-v3"})
    for (const char *entry :
         {"examples/penguins.mtl", "examples/wine.mtl", "examples/shared_trunk_regression.mtl",
          "tests/codegen/models/pools.mtl"}) {
      SCOPED_TRACE(std::string(cpu) + " " + entry);
      Compiled own;
      compile(entry, own, nullptr, cpu);
      ASSERT_TRUE(own.ok) << own.c.diags.render(false);
      checkLossesOutputsAndGradients(own, 37);
    }
}

TEST(JitPackedProducts, AgreeWhereWeightsAndGradientBlocksArePacked) {
  // tests/codegen/models/packed.mtl at 70 rows, past every packing's
  // threshold: a block of 64 rows and a part block. x86-64-v2's panels and
  // x86-64-v3's, as above.
  for (const char *cpu : {"x86-64-v2", "x86-64-v3"}) {
    SCOPED_TRACE(cpu);
    Compiled own;
    compile("tests/codegen/models/packed.mtl", own, nullptr, cpu);
    ASSERT_TRUE(own.ok) << own.c.diags.render(false);
    checkLossesOutputsAndGradients(own, 70);
    checkOneUpdate(own, 70);
  }
}

TEST(JitPools, AWindowsGradientGoesToItsFirstMaximum) {
  // pool_ties: y = x0 + x1 (a 1 x 1 convolution with weights 1, 1), then
  // max_pool(2). Window 0 holds y = 1 at (0, 0) from channel 0 and at (1, 1)
  // from channel 1; window 1 holds y = 0.75 at (0, 2) from x = (0.25, 0.5)
  // and at (1, 2) from (0.5, 0.25). Against zero targets the MSE's gradient
  // is the output itself (its mean has 2 elements), so the first maxima give
  // d w = 1 (1, 0) + 0.75 (0.25, 0.5) = (1.1875, 0.375) and the last ones
  // would give (0.375, 1.1875). Random inputs never tie; these do, with
  // the vector pools (x86-64-v3) and the element-by-element ones (x86-64-v2).
  const float x[2 * 2 * 4] = {1, 0, 0.25f, 0.5f, 0, 0, 0.5f,  0,      // channel 0
                              0, 0, 0.5f,  0,    0, 1, 0.25f, 0.25f}; // channel 1
  const float target[2] = {0, 0}, weight = 1;
  for (const char *cpu : {"x86-64-v2", "x86-64-v3"}) {
    SCOPED_TRACE(cpu);
    Compiled own;
    compile("tests/codegen/models/pool_ties.mtl", own, nullptr, cpu);
    ASSERT_TRUE(own.ok) << own.c.diags.render(false);
    const mtl_model &m = *own.c.compiled;
    const mtl_tensor_desc *w = paramNamed(m, "a.0.weight");
    ASSERT_NE(w, nullptr);
    ASSERT_EQ(w->size, 2);
    std::vector<float> params(m.params_size, 1.0f), grads(m.grads_size, NAN);
    const void *inputs[] = {x};
    const float *targets[] = {target};
    mtl_batch mb{1, inputs, targets};
    mtl_hyper hyper{0.1f, &weight, 1, 0, nullptr};
    std::vector<float> workspace(m.workspace_fixed + m.workspace_per_row);
    float taskLoss = 0, count = 0;
    mtl_result result{0, &taskLoss, &count, nullptr, 0, 0, nullptr};
    m.grad_step(&mb, &hyper, params.data(), workspace.data(), grads.data(), &result, nullptr);
    EXPECT_FLOAT_EQ(grads[w->offset], 1.1875f);
    EXPECT_FLOAT_EQ(grads[w->offset + 1], 0.375f);
    EXPECT_FLOAT_EQ(result.total_loss, (1.0f + 0.5625f) / 2);
  }
}

TEST(GateSums, SoftmaxGatesAverageToOneAndNullAsksForNothing) {
  // digits_mmoe: one softmax gate per task, so each gate's weights on a row
  // sum to 1 and its means over the labelled rows do too.
  Compiled own;
  compile("examples/digits_mmoe.mtl", own);
  ASSERT_TRUE(own.ok) << own.c.diags.render(false);
  const mtl_model &m = *own.c.compiled;
  ASSERT_EQ(m.num_gates, 3);
  constexpr int64_t kRows = 37;
  std::mt19937 rng(5);
  Batch batch = makeBatch(m, own.c.step, kRows, rng);
  std::vector<float> params = randomParams(m, rng);
  mtl_batch mb{kRows, batch.inputPtrs.data(), batch.targetPtrs.data()};
  mtl_hyper hyper{1.0f, batch.weights.data(), 1, 0, nullptr};
  std::vector<float> workspace(m.workspace_fixed + kRows * m.workspace_per_row);
  std::vector<float> taskLosses(m.num_tasks), counts(m.num_tasks), sums(9, NAN);
  mtl_result result{0, taskLosses.data(), counts.data(), nullptr, 0, 0, sums.data()};
  m.eval_step(&mb, &hyper, params.data(), workspace.data(), &result, nullptr);
  const char *names[] = {"digit_gate", "odd_gate", "high_gate"};
  const char *experts[] = {"e1", "e2", "e3"};
  for (int32_t g = 0; g < 3; ++g) {
    const mtl_gate_desc &gate = m.gates[g];
    EXPECT_STREQ(gate.name, names[g]);
    EXPECT_EQ(gate.task, g) << "each gate belongs to the task whose head mixes with it";
    ASSERT_EQ(gate.experts, 3);
    double total = 0;
    for (int32_t j = 0; j < 3; ++j) {
      EXPECT_STREQ(gate.expert_names[j], experts[j]);
      EXPECT_GT(sums[size_t(3 * g + j)], 0.0f);
      total += sums[size_t(3 * g + j)] / counts[size_t(g)];
    }
    EXPECT_NEAR(total, 1.0, 1e-5) << gate.name;
  }
  result.gate_sums = nullptr; // not wanted: a step that wrote through it would crash here
  m.eval_step(&mb, &hyper, params.data(), workspace.data(), &result, nullptr);
  EXPECT_EQ(result.gate_sums, nullptr);
}

TEST_P(JitVsInterpreter, IrPassesKeepEveryResult) {
  // "JIT = interpreter" runs both on the graph after the IR passes, so a
  // pass that merges two different values (CSE with a key that misses an
  // attribute) passes it. Here the interpreter runs the graph before and
  // after the passes on the same feeds: every named result must agree.
  Compiled own;
  compile(GetParam(), own);
  ASSERT_TRUE(own.ok) << own.c.diags.render(false);
  driver::Compilation before;
  driver::PipelineOptions o;
  o.taskGradients = true;
  o.modelName = test::modelOf(GetParam());
  ASSERT_TRUE(driver::runPipeline(test::modelPath(GetParam()), driver::Stage::Grad, before, o));
  const mtl_model &m = *own.c.compiled;
  std::mt19937 rng(3);
  constexpr int64_t kRows = 6;
  Batch batch = makeBatch(m, own.c.step, kRows, rng);
  feedParams(m, randomParams(m, rng), batch.feeds);
  const ir::Graph &pre = before.step.graph, &post = own.c.step.graph;
  ir::Execution a = ir::interpret(pre, batch.feeds, {kRows, false, true, 99});
  ir::Execution b = ir::interpret(post, batch.feeds, {kRows, false, true, 99});
  ASSERT_TRUE(a.ok()) << a.error;
  ASSERT_TRUE(b.ok()) << b.error;
  ASSERT_FALSE(pre.results().empty());
  for (const auto &[name, id] : pre.results()) {
    std::optional<ir::ValueId> after = post.result(name);
    ASSERT_TRUE(after) << "the passes dropped result " << name;
    ASSERT_EQ(a[id].size(), b[*after].size()) << name;
    for (size_t i = 0; i < a[id].size(); ++i)
      EXPECT_NEAR(a[id][i], b[*after][i], 1e-9 * (1 + std::fabs(a[id][i])))
          << name << "[" << i << "]";
  }
}

// Generated cross-entropy reads a class id only inside [0, classes): an id
// outside (the class count itself, or -1, which only a caller of the C
// interface can pass; the interpreter refuses them) counts as a missing
// label, so the step's loss and gradients equal those with NaN there.
TEST(JitGuards, CrossEntropyTreatsAnIdOutsideTheClassesAsMissing) {
  Compiled own;
  compile("tests/codegen/models/combine.mtl", own);
  ASSERT_TRUE(own.ok) << own.c.diags.render(false);
  const mtl_model &m = *own.c.compiled;
  constexpr int64_t kRows = 8;
  std::mt19937 rng(7);
  Batch batch = makeBatch(m, own.c.step, kRows, rng);
  std::vector<float> params = randomParams(m, rng);
  int classify = -1;
  for (int t = 0; t < m.num_tasks; ++t)
    if (m.tasks[t].kind == MTL_CLASSIFY)
      classify = t;
  ASSERT_GE(classify, 0);
  auto step = [&](float row3, float row5, float &loss) {
    std::vector<float> y = batch.targets[size_t(classify)];
    y[3] = row3, y[5] = row5;
    std::vector<const float *> targets = batch.targetPtrs;
    targets[size_t(classify)] = y.data();
    mtl_batch mb{kRows, batch.inputPtrs.data(), targets.data()};
    mtl_hyper hyper{1.0f, batch.weights.data(), 1, 1, nullptr};
    std::vector<float> workspace(m.workspace_fixed + kRows * m.workspace_per_row);
    std::vector<float> taskLosses(m.num_tasks), counts(m.num_tasks), grads(m.grads_size, NAN);
    mtl_result result{0, taskLosses.data(), counts.data(), nullptr, 0, 0, nullptr};
    m.grad_step(&mb, &hyper, params.data(), workspace.data(), grads.data(), &result, nullptr);
    loss = taskLosses[size_t(classify)];
    return grads;
  };
  const auto classes = static_cast<float>(m.tasks[classify].classes);
  float missingLoss = 0, outsideLoss = 0, labelledLoss = 0;
  std::vector<float> missing = step(NAN, NAN, missingLoss);
  std::vector<float> outside = step(classes, -1, outsideLoss);
  std::vector<float> labelled = step(classes - 1, 0, labelledLoss);
  EXPECT_EQ(outsideLoss, missingLoss);
  EXPECT_NE(labelledLoss, missingLoss); // the rows matter when they are labelled
  ASSERT_EQ(outside.size(), missing.size());
  for (size_t i = 0; i < missing.size(); ++i) // NaN: padding the step does not write
    EXPECT_TRUE(outside[i] == missing[i] || (std::isnan(outside[i]) && std::isnan(missing[i])))
        << "gradient " << i << ": " << outside[i] << " and " << missing[i];
}

// A gradient of 2^60 or more, though finite, would overflow the update: the
// step is refused (skipped = 1) and the parameters and optimizer state stay
// as they were; one just under the bound is applied.
TEST(JitGuards, UpdateRefusesAHugeFiniteGradient) {
  Compiled own;
  compile("tests/codegen/models/combine.mtl", own);
  ASSERT_TRUE(own.ok) << own.c.diags.render(false);
  const mtl_model &m = *own.c.compiled;
  std::mt19937 rng(3);
  const std::vector<float> before = randomParams(m, rng);
  auto update = [&](float gradient, std::vector<float> &params) {
    params = before;
    std::vector<float> state(size_t(m.state_size), 0.0f), grads(size_t(m.grads_size), 0.0f);
    grads[size_t(m.params[0].offset)] = gradient;
    std::vector<float> weights(size_t(m.num_tasks), 1.0f);
    mtl_hyper hyper{1e-3f, weights.data(), 1, 1, nullptr};
    mtl_result result{};
    m.update(&hyper, params.data(), state.data(), grads.data(), &result, nullptr);
    return result.skipped;
  };
  std::vector<float> params;
  EXPECT_EQ(update(1e30f, params), 1); // finite, and past 2^60
  EXPECT_EQ(params, before);
  EXPECT_EQ(update(1e17f, params), 0); // under 2^60 (1.15e18)
  EXPECT_NE(params, before);
}

// A learned(...) gate starts at the numbers written: the descriptor carries
// them (MTL_INIT_VALUES) and the runtime's initialisation copies them.
TEST(JitInit, LearnedGateStartsAtTheNumbersWritten) {
  Compiled own;
  compile("tests/codegen/models/stacks.mtl", own);
  ASSERT_TRUE(own.ok) << own.c.diags.render(false);
  const mtl_model &m = *own.c.compiled;
  const mtl_tensor_desc *gate = paramNamed(m, "d.0.weight");
  ASSERT_NE(gate, nullptr);
  EXPECT_EQ(gate->init, MTL_INIT_VALUES);
  std::vector<float> params(size_t(m.params_size), NAN);
  ASSERT_TRUE(mtlrt::initParams(m, params.data(), 5).ok());
  const std::vector<float> written = {0.9f, 0.1f, -0.3f};
  EXPECT_EQ(
      std::vector<float>(params.begin() + gate->offset, params.begin() + gate->offset + gate->size),
      written);
}

INSTANTIATE_TEST_SUITE_P(Examples, JitVsInterpreter, ::testing::ValuesIn(test::modelFiles()),
                         [](const auto &info) { return test::modelName(info.param); });

} // namespace jit_vs_interpreter
} // namespace mtl
