// batch_norm_test.cpp: the lowered batch_norm against torch.nn.BatchNorm's
// formulas written out here in doubles (per channel c over the n = B·HW
// values of the batch):
//   training: y = (x - mean) / sqrt(var + eps) · weight + bias, var biased;
//             running_mean ← (1 - m) running_mean + m mean,
//             running_var  ← (1 - m) running_var + m Σ(x - mean)² / (n - 1),
//             num_batches_tracked ← num_batches_tracked + 1;
//   eval:     y = (x - running_mean) / sqrt(running_var + eps) · weight + bias,
// and a gradient check of the training step through it.
#include "SemaModels.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <random>

using namespace mtl;
using namespace mtl::test;

namespace {

constexpr double kMomentum = 0.2, kEps = 1e-3;

/// x: f32[shape] -> batch_norm -> flatten, regressed with MSE onto n targets.
sema::Model normModel(const sema::Shape &shape) {
  sema::Model m;
  m.inputs.push_back({"x", sema::DType::F32, shape, {}});
  const int64_t n = sema::elementCount(shape);
  sema::Module h;
  h.name = "h";
  h.layers = {layer(sema::LayerKind::BatchNorm, "h.0", shape, shape),
              layer(sema::LayerKind::Flatten, "h.1", shape, {n})};
  h.layers[0].momentum = kMomentum;
  h.layers[0].eps = kEps;
  m.modules.push_back(h);
  m.values = {inputRef(0, shape), apply(0, 0, {n})};
  m.tasks.push_back(task("t", sema::TaskKind::Regress, n, 1, sema::Loss::Mse, 1));
  return m;
}

std::vector<double> uniform(std::mt19937 &rng, size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double &x : v)
    x = u(rng);
  return v;
}

/// Checks the output in training and in eval, and the buffers' next values,
/// for a batch of `batch` rows of `shape` ([C] or [C, H, W]).
void checkFormulas(const sema::Shape &shape, int64_t batch) {
  SCOPED_TRACE(fmt::format("shape [{}], batch {}", fmt::join(shape, ", "), batch));
  sema::Model m = normModel(shape);
  lower::LoweredStep step = lower::lowerModel(m);
  ASSERT_TRUE(step.ok()) << step.errors.front().message;
  const int64_t c = shape[0], hw = sema::elementCount(shape) / c, row = c * hw;

  std::mt19937 rng(11);
  ir::Feeds feeds;
  feeds["x"] = uniform(rng, size_t(batch * row), -2, 3);
  feeds["target.t"] = uniform(rng, size_t(batch * row), -1, 1);
  feeds["weight.t"] = {1};
  feeds["h.0.weight"] = uniform(rng, size_t(c), 0.5, 1.5);
  feeds["h.0.bias"] = uniform(rng, size_t(c), -0.5, 0.5);
  feeds["h.0.running_mean"] = uniform(rng, size_t(c), -0.5, 0.5);
  feeds["h.0.running_var"] = uniform(rng, size_t(c), 0.5, 2);
  feeds["h.0.num_batches_tracked"] = {7};
  const std::vector<double> &x = feeds["x"], &w = feeds["h.0.weight"], &b = feeds["h.0.bias"];
  const std::vector<double> &rm = feeds["h.0.running_mean"], &rv = feeds["h.0.running_var"];

  ir::Execution train = ir::interpret(step.graph, feeds, {batch, false, true});
  ir::Execution eval = ir::interpret(step.graph, feeds, {batch, false, false});
  ASSERT_TRUE(train.ok()) << train.error;
  ASSERT_TRUE(eval.ok()) << eval.error;
  const std::vector<double> &yTrain = train[step.signature.outputs[0]];
  const std::vector<double> &yEval = eval[step.signature.outputs[0]];
  auto next = [&](const std::string &name) { return train[*step.graph.result("buffer." + name)]; };
  ASSERT_EQ(step.signature.buffers.size(), 3u);

  const double n = double(batch * hw);
  for (int64_t ch = 0; ch < c; ++ch) {
    auto at = [&](int64_t r, int64_t s) { return size_t(r * row + ch * hw + s); };
    double sum = 0, squares = 0;
    for (int64_t r = 0; r < batch; ++r)
      for (int64_t s = 0; s < hw; ++s)
        sum += x[at(r, s)];
    const double mean = sum / n;
    for (int64_t r = 0; r < batch; ++r)
      for (int64_t s = 0; s < hw; ++s)
        squares += (x[at(r, s)] - mean) * (x[at(r, s)] - mean);
    const double var = squares / n, unbiased = n > 1 ? squares / (n - 1) : 0;
    for (int64_t r = 0; r < batch; ++r)
      for (int64_t s = 0; s < hw; ++s) {
        const size_t i = at(r, s);
        EXPECT_NEAR(yTrain[i], (x[i] - mean) / std::sqrt(var + kEps) * w[ch] + b[ch], 1e-9) << i;
        EXPECT_NEAR(yEval[i], (x[i] - rm[ch]) / std::sqrt(rv[ch] + kEps) * w[ch] + b[ch], 1e-9)
            << i;
      }
    EXPECT_NEAR(next("h.0.running_mean")[ch], (1 - kMomentum) * rm[ch] + kMomentum * mean, 1e-12);
    EXPECT_NEAR(next("h.0.running_var")[ch], (1 - kMomentum) * rv[ch] + kMomentum * unbiased,
                1e-12);
  }
  EXPECT_EQ(next("h.0.num_batches_tracked")[0], 8);
}

} // namespace

TEST(BatchNorm, FeaturesFollowTorchsFormulas) {
  checkFormulas({3}, 5);
  checkFormulas({3}, 1); // one value per channel: unbiased variance 0, not 0/0
}

TEST(BatchNorm, ImagesNormaliseEachChannelOverTheBatchAndTheImage) {
  checkFormulas({2, 2, 3}, 4);
  checkFormulas({2, 1, 2}, 1);
}

TEST(BatchNorm, NamesInitialisationAndBuffers) {
  lower::LoweredStep step = lower::lowerModel(normModel({2, 2, 3}));
  ASSERT_TRUE(step.ok()) << step.errors.front().message;
  using Kind = lower::ParamInit::Kind;
  // The trained parameters, nn.BatchNorm2d's: weight 1, bias 0.
  ASSERT_EQ(step.graph.params().size(), 2u);
  EXPECT_EQ(step.graph.op(step.graph.params()[0]).name, "h.0.weight");
  EXPECT_EQ(step.graph.op(step.graph.params()[1]).name, "h.0.bias");
  EXPECT_EQ(step.model.init[0].kind, Kind::Ones);
  EXPECT_EQ(step.model.init[1].kind, Kind::Zeros);
  const char *names[] = {"h.0.running_mean", "h.0.running_var", "h.0.num_batches_tracked"};
  const Kind inits[] = {Kind::Zeros, Kind::Ones, Kind::Zeros};
  const std::vector<int64_t> dims[] = {{2}, {2}, {}};
  ASSERT_EQ(step.graph.buffers().size(), 3u);
  ASSERT_EQ(step.model.bufferInit.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    const ir::Op &op = step.graph.op(step.graph.buffers()[k]);
    EXPECT_EQ(op.name, names[k]);
    EXPECT_EQ(op.type.dims, dims[k]) << names[k];
    EXPECT_EQ(step.model.bufferInit[k].kind, inits[k]) << names[k];
    EXPECT_EQ(step.signature.buffers[k].first, step.graph.buffers()[k]);
  }
}

TEST(BatchNorm, GradientOfTheTrainingStep) {
  for (const sema::Shape &shape : {sema::Shape{3}, sema::Shape{2, 2, 3}}) {
    sema::Model m = normModel(shape);
    lower::LoweredStep step = lower::lowerModel(m);
    ASSERT_TRUE(step.ok()) << step.errors.front().message;
    gradcheck::Case c = caseFor(m, step, 4);
    std::mt19937 rng(5);
    c.feeds["target.t"] = uniform(rng, size_t(4 * sema::elementCount(shape)), -1, 1);
    EXPECT_LT(gradcheck::check(c), 1e-6);
  }
}
