// init_test.cpp: parameter initialisation is seeded, per tensor, and has the asked distribution.
#include "mtlrt/Init.h"

#include "mtlrt/Dataset.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace mtlrt;

namespace {
void noGrad(const mtl_batch *, const mtl_hyper *, const float *, float *, float *, mtl_result *,
            const mtl_parallel *) {}
void noUpdate(const mtl_hyper *, float *, float *, const float *, mtl_result *,
              const mtl_parallel *) {}
void noEval(const mtl_batch *, const mtl_hyper *, const float *, float *, mtl_result *,
            const mtl_parallel *) {}

const mtl_input_desc kInput{"x", MTL_F32, 1, {4, 0, 0, 0}, 4};
const mtl_task_desc kTask{"y", MTL_REGRESS, MTL_MSE, 1, 0, 1.0, 0, MTL_METRIC_MSE};

/// A model with the given parameter tensors, packed one after another.
struct FakeModel {
  std::vector<mtl_tensor_desc> params;
  mtl_model model{};
  explicit FakeModel(std::vector<mtl_tensor_desc> tensors) : params(std::move(tensors)) {
    int64_t offset = 0;
    for (mtl_tensor_desc &t : params) {
      t.offset = offset;
      offset += t.size;
    }
    model.abi_version = MTL_ABI_VERSION;
    model.name = "fake";
    model.num_inputs = 1;
    model.inputs = &kInput;
    model.num_tasks = 1;
    model.tasks = &kTask;
    model.num_params = int32_t(params.size());
    model.params = params.data();
    model.params_size = offset;
    model.state_size = 7;
    model.grads_size = offset;
    model.grad_step = noGrad;
    model.update = noUpdate;
    model.eval_step = noEval;
  }
};

mtl_tensor_desc tensor(const char *name, int64_t size, mtl_init init, float scale) {
  return mtl_tensor_desc{name, 1, {size, 0, 0, 0}, 0, size, init, scale, nullptr, 0};
}

std::vector<float> initialised(const mtl_model &model, uint64_t seed) {
  std::vector<float> params(size_t(model.params_size), -1.0f);
  EXPECT_TRUE(initParams(model, params.data(), seed).ok());
  return params;
}
} // namespace

TEST(Init, ZerosOnesAndDeterminism) {
  FakeModel fake({tensor("w", 100, MTL_INIT_UNIFORM, 0.5f), tensor("b", 3, MTL_INIT_ZEROS, 0),
                  tensor("g", 2, MTL_INIT_ONES, 0), tensor("e", 50, MTL_INIT_NORMAL, 1.0f)});
  ASSERT_TRUE(checkModel(fake.model).ok());
  std::vector<float> a = initialised(fake.model, 7), b = initialised(fake.model, 7);
  EXPECT_EQ(a, b); // bit-identical for the same seed
  EXPECT_NE(a, initialised(fake.model, 8));
  for (int i = 100; i < 103; ++i)
    EXPECT_EQ(a[size_t(i)], 0.0f);
  EXPECT_EQ(a[103], 1.0f);
  EXPECT_EQ(a[104], 1.0f);
}

TEST(Init, UniformAndNormalHaveTheirMoments) {
  const int64_t n = 200000;
  FakeModel fake({tensor("u", n, MTL_INIT_UNIFORM, 0.25f), tensor("n", n, MTL_INIT_NORMAL, 2.0f)});
  std::vector<float> p = initialised(fake.model, 1);
  double sumU = 0, sqU = 0, sumN = 0, sqN = 0;
  for (int64_t i = 0; i < n; ++i) {
    float u = p[size_t(i)];
    ASSERT_GE(u, -0.25f);
    ASSERT_LE(u, 0.25f);
    sumU += u;
    sqU += double(u) * u;
    float z = p[size_t(n + i)];
    ASSERT_TRUE(std::isfinite(z));
    sumN += z;
    sqN += double(z) * z;
  }
  EXPECT_NEAR(sumU / n, 0.0, 0.002);
  EXPECT_NEAR(sqU / n, 0.25 * 0.25 / 3, 0.0005); // variance of U(-s, s) is s^2/3
  EXPECT_NEAR(sumN / n, 0.0, 0.02);
  EXPECT_NEAR(std::sqrt(sqN / n), 2.0, 0.02);
}

TEST(Init, EachTensorHasItsOwnStream) {
  // Growing the first tensor must not change the values of the second.
  FakeModel small({tensor("a", 5, MTL_INIT_UNIFORM, 1), tensor("b", 8, MTL_INIT_NORMAL, 1)});
  FakeModel large({tensor("a", 50, MTL_INIT_UNIFORM, 1), tensor("b", 8, MTL_INIT_NORMAL, 1)});
  std::vector<float> s = initialised(small.model, 3), l = initialised(large.model, 3);
  for (size_t i = 0; i < 8; ++i)
    EXPECT_EQ(s[5 + i], l[50 + i]);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(s[i], l[i]); // a prefix of the same stream
}

TEST(Init, ExactValuesArePinned) {
  // The documented recipe, recomputed here: scale * (2u - 1) from Rng(seed, initStream(i)).
  FakeModel fake({tensor("w", 4, MTL_INIT_UNIFORM, 0.5f)});
  std::vector<float> p = initialised(fake.model, 42);
  Rng rng(42, initStream(0));
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(p[i], float(0.5 * (2.0 * rng.uniform() - 1.0)));
}

TEST(Init, GivenValuesAreCopied) {
  const float values[3] = {0.9f, 0.1f, -2.5f};
  FakeModel fake({tensor("a.0.weight", 3, MTL_INIT_VALUES, 0)});
  fake.params[0].init_values = values;
  std::vector<float> p = initialised(fake.model, 7);
  EXPECT_EQ(p[0], 0.9f);
  EXPECT_EQ(p[1], 0.1f);
  EXPECT_EQ(p[2], -2.5f);
}

TEST(Init, StateStartsAtZero) {
  FakeModel fake({tensor("w", 4, MTL_INIT_ONES, 0)});
  std::vector<float> state(7, 3.0f);
  initState(fake.model, state.data());
  for (float v : state)
    EXPECT_EQ(v, 0.0f);
}

TEST(Init, BadDescriptorsAreErrorsNotCrashes) {
  FakeModel outside({tensor("w", 4, MTL_INIT_ONES, 0)});
  outside.params[0].offset = 2; // 2 + 4 > params_size 4
  std::vector<float> p(4);
  Status s = initParams(outside.model, p.data(), 0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("'w'"), std::string::npos) << s.error();
  EXPECT_FALSE(checkModel(outside.model).ok());

  FakeModel badKind({tensor("w", 4, mtl_init(9), 0)});
  EXPECT_FALSE(initParams(badKind.model, p.data(), 0).ok());

  FakeModel badScale({tensor("w", 4, MTL_INIT_UNIFORM, -1.0f)});
  EXPECT_FALSE(initParams(badScale.model, p.data(), 0).ok());

  FakeModel noValues({tensor("w", 4, MTL_INIT_VALUES, 0)}); // init_values is null
  Status values = initParams(noValues.model, p.data(), 0);
  ASSERT_FALSE(values.ok());
  EXPECT_NE(values.error().find("no initial values"), std::string::npos) << values.error();

  FakeModel oldAbi({tensor("w", 4, MTL_INIT_ONES, 0)});
  oldAbi.model.abi_version = 99;
  Status abi = checkModel(oldAbi.model);
  ASSERT_FALSE(abi.ok());
  EXPECT_NE(abi.error().find("ABI version 99"), std::string::npos);
}
