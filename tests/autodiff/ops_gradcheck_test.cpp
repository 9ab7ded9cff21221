// ops_gradcheck_test.cpp: central differences vs autodiff for every differentiable op.
#include "GradCheck.h"

#include <fmt/format.h>

using namespace mtl;
using namespace mtl::ir;
using gradcheck::Case;
using gradcheck::feature;
using gradcheck::probeSum;

namespace {

/// Builds a case whose loss is probeSum(make(builder)).
template <typename Make> double checkValue(Make make, int64_t batch = 3) {
  Case c;
  c.batch = batch;
  Builder b(c.graph);
  c.loss = probeSum(b, make(b));
  return gradcheck::check(c);
}

} // namespace

TEST(GradCheck, UnaryActivations) {
  for (OpKind kind : {OpKind::Neg, OpKind::Relu, OpKind::Gelu, OpKind::Tanh, OpKind::Sigmoid,
                      OpKind::Exp, OpKind::Abs, OpKind::Square}) {
    SCOPED_TRACE(opName(kind));
    checkValue([&](Builder &b) { return b.unary(kind, feature(b, "h", {4})); });
  }
  checkValue([](Builder &b) { return b.leakyRelu(feature(b, "h", {4}), 0.1); });
  // log and sqrt on positive values: f(h^2 + 0.5)
  for (OpKind kind : {OpKind::Log, OpKind::Sqrt}) {
    SCOPED_TRACE(opName(kind));
    checkValue([&](Builder &b) {
      ValueId h = feature(b, "h", {4});
      return b.unary(kind, b.add(b.unary(OpKind::Square, h), b.constant(0.5)));
    });
  }
}

TEST(GradCheck, PiecewiseConstantKindsAddZero) {
  // step, sign and leaky_relu_deriv have derivative zero almost everywhere;
  // element_count does not depend on values. The h term keeps a gradient.
  for (OpKind kind : {OpKind::Step, OpKind::Sign, OpKind::LeakyReluDeriv, OpKind::ElementCount}) {
    SCOPED_TRACE(opName(kind));
    checkValue([&](Builder &b) {
      ValueId h = feature(b, "h", {4});
      Attrs a;
      a.alpha = 0.3;
      ValueId k = b.create(kind, {h}, a);
      return b.add(b.mul(k, b.constant(2)), h);
    });
  }
}

TEST(GradCheck, BinaryWithBroadcasting) {
  for (OpKind kind : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div}) {
    SCOPED_TRACE(opName(kind));
    // Keeps divisors away from zero: d = h^2 + 0.5 in every shape.
    auto positive = [](Builder &b, ValueId v) {
      return b.add(b.unary(OpKind::Square, v), b.constant(0.5));
    };
    auto rhs = [&](Builder &b, ValueId v) { return kind == OpKind::Div ? positive(b, v) : v; };
    checkValue([&](Builder &b) { // same shape
      return b.create(kind, {feature(b, "a", {4}), rhs(b, feature(b, "c", {4}))});
    });
    checkValue([&](Builder &b) { // a static [n] on the right
      return b.create(kind, {feature(b, "a", {2, 4}), rhs(b, b.param("v", {4}))});
    });
    checkValue([&](Builder &b) { // a static [n] on the left
      ValueId lhs = b.param("v", {4});
      return b.create(kind, {lhs, rhs(b, feature(b, "a", {4}))});
    });
    checkValue([&](Builder &b) { // a scalar on either side
      ValueId s = b.reduceSum(b.param("s", {1}));
      return b.create(kind, {b.create(kind, {feature(b, "a", {4}), rhs(b, s)}), b.param("t", {})});
    });
  }
}

TEST(GradCheck, DenseAlgebra) {
  checkValue([](Builder &b) {
    return b.linear(feature(b, "h", {4}), b.param("w", {2, 4}), b.param("b", {2}));
  });
  checkValue([](Builder &b) { return b.linear(feature(b, "h", {2, 4}), b.param("w", {3, 4})); });
  checkValue([](Builder &b) { return b.matmul(feature(b, "h", {4}), b.param("m", {4, 2})); });
  checkValue([](Builder &b) { return b.matmulTN(feature(b, "a", {3}), feature(b, "c", {2})); });
  // A convolution's products: a weight on the left of each image's matrix
  // (with a bias per row), and the sum over the batch of matrix products.
  checkValue([](Builder &b) {
    return b.matmulLeft(b.param("w", {3, 4}), feature(b, "x", {4, 5}), b.param("b", {3}));
  });
  checkValue([](Builder &b) {
    return b.matmulLeft(b.param("w", {2, 3}), feature(b, "x", {3, 4}));
  });
  checkValue([](Builder &b) {
    return b.matmulSumNT(feature(b, "a", {3, 4}), feature(b, "c", {2, 4}));
  });
}

TEST(GradCheck, RowWise) {
  checkValue([](Builder &b) { return b.softmax(feature(b, "h", {5})); });
  checkValue([](Builder &b) { return b.logSoftmax(feature(b, "h", {2, 5})); });
  checkValue([](Builder &b) { return b.layerNorm(feature(b, "h", {5}), 1e-5); });
  // layer_norm with learned gain and bias, as lowering composes it
  checkValue([](Builder &b) {
    ValueId n = b.layerNorm(feature(b, "h", {5}), 1e-5);
    return b.add(b.mul(n, b.param("ln.weight", {5})), b.param("ln.bias", {5}));
  });
  checkValue([](Builder &b) { return b.softmax(b.param("p", {2, 3})); });
}

// batch_norm's adjoint holds its mean and inv_std to be x's batch
// statistics and includes their dependence on x: checked with the
// statistics computed from x, as lowering does, over features (one value
// per channel) and images (3 per channel), with eps large enough to matter.
TEST(GradCheck, BatchNormThroughItsStatistics) {
  for (int64_t size : {1, 3}) {
    SCOPED_TRACE(fmt::format("{} values per channel", size));
    checkValue(
        [&](Builder &b) {
          const int64_t c = 2;
          ValueId x = feature(b, "h", {c * size});
          auto perChannel = [&](ValueId t) {
            ValueId sums = b.reduceSum(t, ReduceAxis::Leading);
            return size == 1 ? sums : b.reduceSum(b.reshape(sums, {c, size}), ReduceAxis::Last);
          };
          auto spread = [&](ValueId v) {
            return size == 1 ? v : b.reshape(b.expandLast(v, size), {c * size});
          };
          ValueId n = b.div(b.elementCount(x), b.constant(double(c)));
          ValueId mean = b.div(perChannel(x), n);
          ValueId var = b.div(perChannel(b.unary(OpKind::Square, b.sub(x, spread(mean)))), n);
          ValueId invStd = b.div(b.constant(1), b.unary(OpKind::Sqrt, b.add(var, b.constant(0.1))));
          Attrs a;
          a.size = size;
          return b.create(OpKind::BatchNorm,
                          {x, mean, invStd, b.param("bn.weight", {c}), b.param("bn.bias", {c})}, a);
        },
        4);
  }
}

TEST(GradCheck, DropoutGatherAndShapes) {
  {
    Case c;
    Builder b(c.graph);
    ValueId step = b.input("step", TensorType::scalar(DType::I32));
    c.feeds["step"] = {5};
    c.loss = probeSum(b, b.dropout(feature(b, "h", {6}), step, 0.4, 7));
    gradcheck::check(c);
  }
  {
    Case c;
    Builder b(c.graph);
    ValueId ids = b.input("ids", TensorType::batch({2}, DType::I32));
    c.feeds["ids"] = {0, 3, 3, 1, 2, 3}; // id 3 repeats: its gradient rows add up
    c.loss = probeSum(b, b.gather(b.param("emb", {5, 3}), ids));
    gradcheck::check(c);
  }
  checkValue([](Builder &b) { return b.flatten(feature(b, "h", {2, 3})); });
  checkValue([](Builder &b) { return b.softmax(b.reshape(feature(b, "h", {6}), {3, 2})); });
  checkValue([](Builder &b) { return b.reshape(b.param("p", {2, 3}), {6}); });
  checkValue([](Builder &b) { return b.broadcastLike(b.param("v", {4}), feature(b, "h", {4})); });
  checkValue([](Builder &b) { return b.broadcastLike(b.param("s", {}), feature(b, "h", {4})); });
  checkValue([](Builder &b) { return b.expandLast(feature(b, "h", {2}), 3); });
  // Concat with one operand twice (its gradient parts add), and slices.
  checkValue([](Builder &b) {
    ValueId h = feature(b, "h", {2});
    return b.concat({h, b.unary(OpKind::Tanh, feature(b, "k", {3})), h});
  });
  checkValue([](Builder &b) {
    return b.concat({feature(b, "h", {2, 3}), feature(b, "k", {2, 1})});
  });
  checkValue([](Builder &b) { return b.slice(feature(b, "h", {5}), 1, 3); });
  checkValue([](Builder &b) { return b.slice(b.param("p", {2, 4}), 3, 1); });
  // A training step reads train_select's first operand: the second's
  // parameters get no gradient, and their numeric derivative is zero too.
  checkValue([](Builder &b) {
    return b.create(OpKind::TrainSelect, {feature(b, "h", {3}), feature(b, "k", {3})});
  });
}

TEST(GradCheck, Reductions) {
  for (OpKind kind : {OpKind::ReduceSum, OpKind::ReduceMean})
    for (ReduceAxis axis : {ReduceAxis::All, ReduceAxis::Last, ReduceAxis::Leading}) {
      SCOPED_TRACE(std::string(opName(kind)) + " " + axisName(axis));
      Attrs a;
      a.axis = axis;
      checkValue([&](Builder &b) { return b.create(kind, {feature(b, "h", {2, 4})}, a); });
      checkValue([&](Builder &b) { return b.create(kind, {b.param("p", {3, 4})}, a); });
    }
}

TEST(GradCheck, WindowsAndTranspose) {
  checkValue([](Builder &b) { return b.transpose(feature(b, "h", {2, 3})); });
  checkValue([](Builder &b) { return b.transpose(feature(b, "h", {2, 3, 4})); });
  // Windows with padding, overlapping (stride below the kernel), side by
  // side, and not tiling their input (a row and a column left over).
  struct Shape {
    int64_t kernel, stride, padding;
  };
  for (Shape s : {Shape{3, 1, 1}, Shape{3, 2, 0}, Shape{2, 2, 0}, Shape{2, 3, 1}}) {
    SCOPED_TRACE(fmt::format("kernel {} stride {} padding {}", s.kernel, s.stride, s.padding));
    checkValue([&](Builder &b) {
      return b.window(OpKind::Im2Col, {feature(b, "img", {2, 5, 4})}, s.kernel, s.stride,
                      s.padding);
    });
    for (OpKind pool : {OpKind::MaxPool, OpKind::AvgPool})
      checkValue([&](Builder &b) {
        return b.window(pool, {feature(b, "img", {2, 5, 4})}, s.kernel, s.stride);
      });
  }
}
