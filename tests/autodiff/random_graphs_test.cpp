// random_graphs_test.cpp: random (mostly malformed) graphs never crash the
// verifier, the interpreter or autodiff, and every gradient graph autodiff
// builds from a valid graph is itself valid and runs.
#include "GradCheck.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <fmt/format.h>

#include <map>
#include <random>

using namespace mtl;
using namespace mtl::ir;

namespace {

/// A random graph: kinds, operand ids (sometimes out of range), leaf types and
/// attributes drawn from small ranges so that valid graphs are not rare.
Graph randomGraph(std::mt19937_64 &rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  Graph g;
  Builder b(g);
  int leaves = 2 + pick(3);
  for (int i = 0; i < leaves; ++i) {
    std::vector<int64_t> dims;
    for (int d = pick(3); d > 0; --d)
      dims.push_back(1 + pick(3));
    if (pick(3) == 0)
      b.param(fmt::format("p{}", i), dims.empty() ? std::vector<int64_t>{2} : dims);
    else
      b.input(fmt::format("x{}", i),
              TensorType{pick(5) == 0 ? DType::I32 : DType::F32, pick(4) != 0, dims});
  }
  int ops = 1 + pick(10);
  int lastKind = static_cast<int>(OpKind::LossGrad);
  for (int i = 0; i < ops; ++i) {
    auto kind = static_cast<OpKind>(2 + pick(lastKind - 1)); // no new leaves
    auto [lo, hi] = operandCount(kind);
    int n = lo + pick(hi - lo + 1) + (pick(20) == 0 ? 1 : 0);
    std::vector<ValueId> operands;
    for (int k = 0; k < n; ++k)
      operands.push_back(static_cast<ValueId>(pick(static_cast<int>(g.size()) + 2)) -
                         (pick(30) == 0 ? 3 : 0));
    Attrs a;
    a.value = 0.5;
    a.alpha = 0.1;
    a.eps = pick(10) == 0 ? 0 : 1e-5;
    a.rate = pick(4) * 0.3;
    a.seed = rng();
    a.delta = pick(5) == 0 ? -1 : 0.7;
    a.size = pick(4);
    a.axis = static_cast<ReduceAxis>(pick(3));
    a.loss = static_cast<LossKind>(pick(5));
    for (int d = pick(3); d > 0; --d)
      a.dims.push_back(1 + pick(4));
    b.create(kind, operands, a);
  }
  return g;
}

Feeds randomFeeds(const Graph &g, int64_t batch, std::mt19937_64 &rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  Feeds feeds;
  for (const Op &op : g.ops())
    if (op.kind == OpKind::Input || op.kind == OpKind::Param) {
      std::vector<double> &v = feeds[op.name];
      v.resize(static_cast<size_t>(op.type.elements(batch)));
      for (double &x : v)
        x = op.type.dtype == DType::I32 || op.type.isScalar() ? static_cast<double>(rng() % 2)
                                                              : u(rng);
    }
  return feeds;
}

} // namespace

TEST(RandomGraphs, NeverCrashAndGradientGraphsVerify) {
  std::mt19937_64 rng(2024);
  int valid = 0, differentiated = 0;
  for (int iter = 0; iter < 32000; ++iter) {
    Graph g = randomGraph(rng);
    if (!verify(g).empty())
      continue;
    ++valid;
    Feeds feeds = randomFeeds(g, 2, rng);
    Execution ex = interpret(g, feeds, {2, false}); // may fail on bad ids: a value
    // Differentiate the sum of the last f32 value w.r.t. every parameter.
    Builder b(g);
    ValueId last = static_cast<ValueId>(g.size()) - 1;
    if (g.type(last).dtype != DType::F32 || g.params().empty())
      continue;
    ValueId loss = b.reduceSum(last);
    autodiff::Gradients grads = autodiff::differentiate(g, loss);
    if (!grads.ok())
      continue; // a backward-only kind on the path: reported, not crashed
    ++differentiated;
    std::vector<Diagnostic> diags = verify(g);
    EXPECT_TRUE(diags.empty()) << diags.front().message;
    Execution full = interpret(g, feeds, {2, false});
    EXPECT_EQ(full.ok(), ex.ok()) << full.error << " / " << ex.error;
  }
  EXPECT_GT(valid, 1000);
  EXPECT_GT(differentiated, 500);
  std::printf("[ random    ] %d valid graphs, %d differentiated\n", valid, differentiated);
}

TEST(RandomGraphs, SmoothGraphsPassGradientChecks) {
  // Random compositions of the smooth kinds over parameters and inputs of a
  // few shapes: exercises the adjoint rules together (broadcasting on either
  // side, static and batched operands, fan-out) beyond the hand-written cases.
  const OpKind kinds[] = {
      OpKind::Add,           OpKind::Sub,        OpKind::Mul,       OpKind::Neg,
      OpKind::Tanh,          OpKind::Sigmoid,    OpKind::Gelu,      OpKind::Square,
      OpKind::Linear,        OpKind::MatMul,     OpKind::MatMulTN,  OpKind::Softmax,
      OpKind::LogSoftmax,    OpKind::LayerNorm,  OpKind::ReduceSum, OpKind::ReduceMean,
      OpKind::BroadcastLike, OpKind::ExpandLast, OpKind::Reshape};
  std::mt19937_64 rng(99);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  int checked = 0;
  std::map<OpKind, int> seen;
  for (int iter = 0; iter < 40000 && checked < 200; ++iter) {
    gradcheck::Case c;
    c.batch = 2;
    Builder b(c.graph);
    b.param("p0", {3, 3});
    b.param("p1", {3});
    b.param("p2", {});
    b.input("x0", TensorType::batch({3}));
    b.input("x1", TensorType::batch({2, 3}));
    for (int i = 0, n = 2 + static_cast<int>(pick(6)); i < n; ++i) {
      OpKind kind = kinds[pick(std::size(kinds))];
      auto [lo, hi] = operandCount(kind);
      std::vector<ValueId> operands;
      for (int k = 0; k < lo + static_cast<int>(pick(static_cast<size_t>(hi - lo + 1))); ++k)
        operands.push_back(static_cast<ValueId>(pick(c.graph.size())));
      Attrs a;
      a.axis = static_cast<ReduceAxis>(pick(3));
      a.size = 2;
      a.dims = pick(2) ? std::vector<int64_t>{3, 1} : std::vector<int64_t>{1, 3};
      b.create(kind, operands, a);
    }
    if (!verify(c.graph).empty())
      continue;
    ValueId last = static_cast<ValueId>(c.graph.size()) - 1;
    c.loss = gradcheck::probeSum(b, last);
    // Only graphs where a parameter reaches the loss are worth checking.
    Graph probe = c.graph;
    if (autodiff::differentiate(probe, c.loss).params.empty())
      continue;
    SCOPED_TRACE(print(c.graph));
    EXPECT_LT(gradcheck::check(c), 1e-6);
    ++checked;
    for (const Op &op : c.graph.ops())
      ++seen[op.kind];
  }
  EXPECT_EQ(checked, 200);
  std::string summary;
  for (auto [kind, count] : seen)
    summary += fmt::format(" {}:{}", opName(kind), count);
  std::printf("[ random    ] ops in checked graphs:%s\n", summary.c_str());
}
