// update_graph_test.cpp: the generated update against the reference
// interpreter. Lowering writes each optimizer's update of one element as a
// graph (lower/Update.cpp); code generation emits it inside every tensor's
// loop. Here one update of a small model's every parameter element, from
// random parameters, gradients and optimizer state at step 3, must equal
// the interpreter's run of that graph on the same element, with every value
// rounded to f32 after each op as the generated code stores it: bit for bit,
// since each op (+, -, ·, /, sqrt) rounded once from double is the f32 op.
#include "CompiledText.h"
#include "ir/Interpreter.h"
#include "ir/Verifier.h"
#include "mtlrt/Abi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

namespace mtl {
namespace update_graph {

constexpr const char *kModel = R"(
model small {
  input x : f32[3]
  task y : regress(2) {
    head = x -> dense(4) -> relu -> dense(2)
  }
}
)";

void checkUpdate(const sema::Optimizer &opt, size_t index) {
  driver::PipelineOptions options;
  options.adjust = [&](sema::Model &model) { model.optimizer = opt; };
  test::CompiledText compiled(kModel, "update_graph_" + std::to_string(index), options);
  const driver::Compilation &c = compiled.c;
  ASSERT_NE(c.compiled, nullptr);
  const mtl_model &m = *c.compiled;
  const lower::UpdateGraph &u = c.step.model.update;
  ASSERT_EQ(m.num_state, m.num_params * int32_t(u.slots.size()));

  std::mt19937 rng(9);
  std::uniform_real_distribution<float> unit(-1, 1);
  std::vector<float> params(size_t(m.params_size)), grads(size_t(m.grads_size));
  std::vector<float> state(size_t(m.state_size));
  for (float *v : {params.data(), grads.data()})
    for (int64_t i = 0; i < m.params_size; ++i)
      v[i] = unit(rng);
  for (int64_t i = 0; i < m.state_size; ++i) // exp_avg_sq is a mean of squares
    state[size_t(i)] = opt.kind == sema::OptimizerKind::Sgd ? unit(rng) : std::fabs(unit(rng));
  const std::vector<float> before = params, stateBefore = state;

  const float lr = 0.05f;
  const int64_t step = 3;
  float weight = 1, taskLoss = 0, count = 0;
  mtl_hyper hyper{lr, &weight, step, 0, nullptr};
  mtl_result result{0.5f, &taskLoss, &count, nullptr, 0, 0, nullptr, 0};
  m.update(&hyper, params.data(), state.data(), grads.data(), &result, nullptr);
  ASSERT_EQ(result.skipped, 0);

  // The prologue's per-step scalars, as the generated code computes them.
  ir::Feeds feeds;
  feeds["lr"] = {lr};
  if (u.stepSize >= 0) {
    const double bc1 = 1 - std::pow(opt.beta1, double(step));
    feeds["step_size"] = {float(double(lr) / bc1)};
    feeds["bc2_sqrt"] = {float(std::sqrt(1 - std::pow(opt.beta2, double(step))))};
  }
  if (u.decay >= 0)
    feeds["decay"] = {1.0f - lr * float(opt.weightDecay)};
  int64_t checked = 0;
  for (int32_t k = 0; k < m.num_params; ++k) {
    const mtl_tensor_desc &t = m.params[k];
    for (int64_t i = 0; i < t.size; ++i) {
      feeds["param"] = {before[size_t(t.offset + i)]};
      feeds["grad"] = {grads[size_t(t.offset + i)]};
      for (size_t s = 0; s < u.slots.size(); ++s) {
        const mtl_tensor_desc &st = m.state[size_t(k) * u.slots.size() + s];
        ASSERT_EQ(std::string(st.name), std::string(t.name) + "." + u.slots[s]);
        feeds["state." + u.slots[s]] = {stateBefore[size_t(st.offset + i)]};
      }
      ir::Execution ref = ir::interpret(u.graph, feeds, {1, true});
      ASSERT_TRUE(ref.ok()) << ref.error;
      const std::string at = std::string(t.name) + "[" + std::to_string(i) + "]";
      EXPECT_EQ(params[size_t(t.offset + i)], float(ref[u.nextParam][0])) << at;
      for (size_t s = 0; s < u.slots.size(); ++s) {
        const mtl_tensor_desc &st = m.state[size_t(k) * u.slots.size() + s];
        EXPECT_EQ(state[size_t(st.offset + i)], float(ref[u.nextSlots[s]][0]))
            << st.name << "[" << i << "]";
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4 * 3 + 4 + 2 * 4 + 2);
}

/// SGD, SGD with momentum, Adam with β far from 1 (so the bias corrections
/// matter) and AdamW.
std::vector<sema::Optimizer> optimizers() {
  std::vector<sema::Optimizer> out(4);
  out[0].kind = out[1].kind = sema::OptimizerKind::Sgd;
  out[1].momentum = 0.9;
  out[2].kind = sema::OptimizerKind::Adam;
  out[2].beta1 = 0.8;
  out[2].beta2 = 0.9;
  out[3].kind = sema::OptimizerKind::AdamW;
  out[3].weightDecay = 0.3;
  return out;
}

TEST(UpdateGraph, EveryOptimizerAgreesWithTheInterpreter) {
  std::vector<sema::Optimizer> all = optimizers();
  for (size_t k = 0; k < all.size(); ++k) {
    SCOPED_TRACE("optimizer " + std::to_string(k));
    checkUpdate(all[k], k);
  }
}

TEST(UpdateGraph, PrintsAndVerifies) {
  // The graph is ordinary IR: it verifies, and its text names the inputs and results.
  lower::UpdateGraph u = lower::lowerUpdate(optimizers()[3]);
  EXPECT_TRUE(ir::verify(u.graph).empty());
  EXPECT_EQ(u.slots, (std::vector<std::string>{"exp_avg", "exp_avg_sq"}));
  for (const char *name : {"param", "grad", "state.exp_avg", "state.exp_avg_sq", "lr", "step_size",
                           "bc2_sqrt", "decay"})
    EXPECT_TRUE(u.graph.findInput(name).has_value()) << name;
  EXPECT_EQ(u.graph.result("param"), u.nextParam);
  EXPECT_EQ(u.graph.result("state.exp_avg_sq"), u.nextSlots[1]);
}

} // namespace update_graph
} // namespace mtl
