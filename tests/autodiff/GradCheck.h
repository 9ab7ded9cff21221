// GradCheck.h: central-difference gradient checks of autodiff on the interpreter.
//
// Header-only because the test CMake compiles *_test.cpp files only.
#pragma once

#include "autodiff/Autodiff.h"
#include "ir/Builder.h"
#include "ir/Interpreter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

namespace mtl::gradcheck {

/// A forward graph with a scalar loss, the data to run it on, and the batch size.
struct Case {
  ir::Graph graph;
  ir::ValueId loss = -1;
  ir::Feeds feeds;
  int64_t batch = 3;
};

/// The largest error any `check` has returned in this process.
inline double gMax = 0;

/// Prints the largest gradient-check error at the end of the run.
class Report : public ::testing::Environment {
public:
  void TearDown() override { std::printf("[ gradcheck ] max relative error %.3g\n", gMax); }
};
inline ::testing::Environment *const gReport = ::testing::AddGlobalTestEnvironment(new Report);

/// Gives every Input, Param and Buffer without a feed values uniform in
/// [-1, 1) (a Buffer's in [1, 3), as a running variance needs), from a
/// fixed seed, so checks are reproducible.
inline void fillRandom(Case &c, uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  for (const ir::Op &op : c.graph.ops()) {
    if (!ir::isNamedLeaf(op.kind) || c.feeds.count(op.name))
      continue;
    std::vector<double> &v = c.feeds[op.name];
    v.resize(static_cast<size_t>(op.type.elements(c.batch)));
    for (double &x : v)
      x = op.kind == ir::OpKind::Buffer ? u(rng) + 2 : u(rng);
  }
}

/// A batched f32 value [B, rowDims...] that depends on fresh parameters
/// "<name>.weight" and "<name>.bias" through a linear layer on a fresh input
/// "<name>.x" with 3 features, so checks reach through it to parameters.
inline ir::ValueId feature(ir::Builder &b, const std::string &name, std::vector<int64_t> rowDims) {
  int64_t n = ir::TensorType::batch(rowDims).rowElements();
  ir::ValueId x = b.input(name + ".x", ir::TensorType::batch({3}));
  ir::ValueId h = b.linear(x, b.param(name + ".weight", {n, 3}), b.param(name + ".bias", {n}));
  return rowDims.size() == 1 ? h : b.reshape(h, rowDims);
}

/// sum(v * probe) for a fresh random input "probe.<v>" of v's type: a scalar
/// whose gradient w.r.t. v is non-uniform.
inline ir::ValueId probeSum(ir::Builder &b, ir::ValueId v) {
  ir::TensorType t = b.graph().type(v);
  ir::ValueId probe = b.input("probe." + std::to_string(v), t);
  return b.reduceSum(b.mul(v, probe));
}

/// Differentiates a copy of `c.graph` w.r.t. every parameter and compares each
/// gradient element with (L(p + h) - L(p - h)) / 2h, in double precision.
/// Returns the largest error |a - n| / max(|a|, |n|, 1e-3), and adds a test
/// failure if differentiation or a run fails or an error reaches 1e-6.
/// A parameter without a built gradient counts as having gradient zero.
inline double check(Case &c, double h = 1e-5) {
  fillRandom(c);
  ir::Graph full = c.graph;
  autodiff::Gradients grads = autodiff::differentiate(full, c.loss);
  EXPECT_TRUE(grads.ok()) << (grads.errors.empty() ? "" : grads.errors.front().message);
  if (!grads.ok())
    return INFINITY;
  EXPECT_FALSE(grads.params.empty()) << "no parameter reaches the loss";
  ir::Execution ex = ir::interpret(full, c.feeds, {c.batch, false});
  EXPECT_TRUE(ex.ok()) << ex.error;
  if (!ex.ok())
    return INFINITY;
  auto lossAt = [&](const ir::Feeds &feeds) {
    ir::Execution r = ir::interpret(c.graph, feeds, {c.batch, false});
    EXPECT_TRUE(r.ok()) << r.error;
    return r.ok() ? r[c.loss][0] : NAN;
  };
  double worst = 0;
  for (ir::ValueId p : c.graph.params()) {
    const std::string &name = c.graph.op(p).name;
    // A parameter without a path to the loss gets no gradient: its numeric
    // derivative must then be zero.
    std::optional<ir::ValueId> g = grads.of(p);
    ir::Feeds feeds = c.feeds;
    std::vector<double> &w = feeds[name];
    for (size_t i = 0; i < w.size(); ++i) {
      double saved = w[i];
      w[i] = saved + h;
      double up = lossAt(feeds);
      w[i] = saved - h;
      double down = lossAt(feeds);
      w[i] = saved;
      double numeric = (up - down) / (2 * h), analytic = g ? ex[*g][i] : 0.0;
      double err =
          std::fabs(analytic - numeric) / std::max({std::fabs(analytic), std::fabs(numeric), 1e-3});
      EXPECT_LT(err, 1e-6) << name << "[" << i << "]: autodiff " << analytic << ", numeric "
                           << numeric;
      worst = std::max(worst, err);
    }
  }
  gMax = std::max(gMax, worst);
  return worst;
}

} // namespace mtl::gradcheck
