// jit_vs_interpreter_test.cpp: on every example, the JIT-compiled step agrees
// with the reference interpreter: losses, head outputs, gradients, and one
// optimizer update.
#include "JitBatch.h"
#include "codegen/Emitter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace mtl {
namespace jit_vs_interpreter {

using test::Batch;
using test::compile;
using test::Compiled;
using test::feedParams;
using test::makeBatch;
using test::paramNamed;
using test::randomParams;

// A batch below the tiled path's threshold (16 rows) and one above it that is
// not a multiple of the 4-row blocks, so remainder tiles run too.
constexpr int64_t kBatchSizes[] = {5, 37};

// f32 generated code against the f64 interpreter.
void expectClose(double jit, double ref, const std::string &what) {
  EXPECT_NEAR(jit, ref, 2e-4 + 2e-3 * std::fabs(ref)) << what;
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
  mtl_result result{0, taskLosses.data(), counts.data(), outputPtrs.data(), 0, 0, gateSums.data(),
                    0};
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
  mtl_result result{0, taskLosses.data(), counts.data(), nullptr, 0, 0, nullptr, 0};
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

TEST(JitCarriedColumns, AgreeFromTheBatchThatCarriesThem) {
  // A convolution's columns' gradient is computed inside im2col_grad's
  // image loop from Emitter::kCarriedRows rows on (passes/Fusion.h); the
  // examples run 5 and 37 rows, below it. conv.mtl's head `a` and
  // fashion_cnn_bn's second convolution have one.
  static_assert(codegen::Emitter::kCarriedRows <= 70);
  for (const char *entry : {"tests/codegen/models/conv.mtl", "examples/fashion_cnn_bn.mtl"}) {
    SCOPED_TRACE(entry);
    Compiled own;
    compile(entry, own);
    ASSERT_TRUE(own.ok) << own.c.diags.render(false);
    checkLossesOutputsAndGradients(own, 70);
  }
}

TEST(JitNarrowProducts, AgreeFusedIntoTheTrunksGradient) {
  // tests/codegen/models/narrow_heads.mtl without task gradients, so that
  // its heads' input gradients fuse into the trunk's (passes/Fusion.h;
  // narrow_products_test.cpp checks that they do): below and above the
  // tiled path's 16 rows, with x86-64-v2's multiply and add and
  // x86-64-v3's fused multiply-add.
  for (const char *cpu : {"x86-64-v2", "x86-64-v3"}) {
    SCOPED_TRACE(cpu);
    Compiled own;
    compile("tests/codegen/models/narrow_heads.mtl", own, nullptr, cpu, false);
    ASSERT_TRUE(own.ok) << own.c.diags.render(false);
    for (int64_t rows : kBatchSizes)
      checkLossesOutputsAndGradients(own, rows);
    checkOneUpdate(own, 37);
  }
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

INSTANTIATE_TEST_SUITE_P(Examples, JitVsInterpreter, ::testing::ValuesIn(test::modelFiles()),
                         [](const auto &info) { return test::modelName(info.param); });

} // namespace jit_vs_interpreter
} // namespace mtl
