// tile_shapes_test.cpp: the products' register tiles take their shape from
// the target's vector registers (codegen/VectorUnit.h, MicroKernel.cpp):
// panels of 4 vectors of 16 floats with AVX-512 in tiles of 6 rows, 3 of 8
// with AVX and 2 of 4 with SSE in tiles of 4, a masked last panel where the
// target has masked moves. Each element of a product is one chain of
// multiply-adds in a fixed order in any tile, so every shape must give the
// same bits. Here each shape is compiled for this host (LLVM splits or joins
// its vectors) and a step of a dense model and of a convolutional one, at 41
// rows (row tails: 6 x 6 + 4 + 1, 10 x 4 + 1) and 256 (tiled products over
// both threads), must give the losses, outputs and gradients of the host's
// own shape bit for bit. The shapes with masked moves gather a
// convolution's input gradient row by row in vectors, the others add its
// columns back in place (Window.cpp): the same bits too.
#include "CompiledText.h"
#include "StepRun.h"
#include "mtlrt/Init.h"
#include "mtlrt/ThreadPool.h"

#include <gtest/gtest.h>

#include <random>

namespace mtl {
namespace tile_shapes {

// Widths that fill no panel exactly: 37 inputs, 100 and 50 outputs (4 x 24
// + 4 and 2 x 24 + 2 with AVX, 64 + 36 with AVX-512), 10-class and 3-wide heads.
constexpr const char *kDense = R"(
model dense_tiles {
  input x : f32[37]
  shared trunk = x -> dense(100) -> relu -> dense(50) -> relu
  task c : classify(10) { head = trunk -> dense(10) }
  task r : regress(3) { head = trunk -> dense(3) }
}
)";

// Convolutions: im2col products of 8 and 12 output channels over 100 and
// 25 pixels (matmul_left), their weight gradients summed over images
// (matmul_sum_nt) and input gradients.
constexpr const char *kConv = R"(
model conv_tiles {
  input x : f32[2, 10, 10]
  shared trunk = x -> conv2d(8, 3, padding = 1) -> relu -> max_pool(2)
                   -> conv2d(12, 3, padding = 1) -> relu -> flatten -> dense(20) -> relu
  task c : classify(10) { head = trunk -> dense(10) }
  task r : regress(3) { head = trunk -> dense(3) }
}
)";

struct Shape {
  const char *name;
  codegen::VectorUnit unit;
};

// AVX-512's, AVX's and SSE's registers, and AVX's without masked moves
// (one-vector panels, then scalar tiles).
const Shape kShapes[] = {{"avx512", {16, 32, true}},
                         {"avx", {8, 16, true}},
                         {"sse", {4, 16, false}},
                         {"avx-unmasked", {8, 16, false}}};

/// One eval_step and one grad_step of `m` on a random batch (seeded: the
/// same for every shape) and initial parameters, on `parallel`'s threads or none.
test::StepRun step(const mtl_model &m, int64_t rows, const mtl_parallel *parallel) {
  std::mt19937 rng(23);
  std::normal_distribution<float> normal;
  int64_t width = 1;
  for (int d = 0; d < m.inputs[0].rank; ++d)
    width *= m.inputs[0].dims[d];
  std::vector<float> x(size_t(rows * width)), cls, reg;
  for (float &v : x)
    v = normal(rng);
  for (int64_t r = 0; r < rows; ++r) {
    cls.push_back(float(rng() % 10));
    for (int j = 0; j < 3; ++j)
      reg.push_back(normal(rng));
  }
  std::vector<float> params(size_t(m.params_size));
  EXPECT_TRUE(mtlrt::initParams(m, params.data(), 5).ok());
  const void *inputs[] = {x.data()};
  const float *targets[] = {cls.data(), reg.data()};
  mtl_batch batch{rows, inputs, targets};
  return test::runStep(m, batch, params.data(), parallel);
}

void expectSameBitsForEveryShape(const char *text, const std::string &name) {
  test::CompiledText host(text, name);
  ASSERT_NE(host.c.compiled, nullptr);
  mtlrt::ThreadPool pool(2);
  mtl_parallel parallel = pool.abi();
  for (const Shape &shape : kShapes) {
    SCOPED_TRACE(shape.name);
    driver::PipelineOptions options;
    options.vectors = shape.unit;
    test::CompiledText other(text, name + "_" + shape.name, options);
    ASSERT_NE(other.c.compiled, nullptr);
    for (int64_t rows : {41, 256})
      for (const mtl_parallel *threads : {static_cast<const mtl_parallel *>(nullptr),
                                          static_cast<const mtl_parallel *>(&parallel)}) {
        SCOPED_TRACE(std::to_string(rows) + " rows, " + (threads ? "two threads" : "one"));
        const test::StepRun want = step(*host.c.compiled, rows, nullptr);
        const test::StepRun got = step(*other.c.compiled, rows, threads);
        ASSERT_FALSE(want.grads.empty());
        EXPECT_NE(want.loss, 0.0f);
        EXPECT_EQ(got.loss, want.loss);
        EXPECT_EQ(got.taskLosses, want.taskLosses);
        EXPECT_EQ(got.outputs, want.outputs);
        EXPECT_EQ(got.grads, want.grads);
      }
  }
}

TEST(TileShapes, EveryShapeGivesTheBitsOfTheHostsInADenseStep) {
  expectSameBitsForEveryShape(kDense, "dense_tiles");
}

TEST(TileShapes, EveryShapeGivesTheBitsOfTheHostsInAConvolutionalStep) {
  expectSameBitsForEveryShape(kConv, "conv_tiles");
}

} // namespace tile_shapes
} // namespace mtl
