// elementary_test.cpp: the generated exp, log and log1p (codegen/Elementary.cpp)
// against double-precision libm, over floats from the whole range and the
// special values, for a float and for each lane of a vector of 16.
#include "LinkedModule.h"
#include "codegen/Emitter.h"

#include <gtest/gtest.h>
#include <llvm/IR/Module.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace mtl::codegen {
namespace {

constexpr int kLanes = 16;
using Kernel = void (*)(const float *in, float *out);

enum Fn { Exp, Log, Log1p };
constexpr const char *kNames[] = {"exp", "log", "log1p"};

// Per function: a kernel of one float and one of a vector of kLanes floats,
// in the table the entry `get` returns: {exp.s, exp.v, log.s, log.v, ...}.
struct Kernels {
  std::unique_ptr<backend::FunctionCache> cache;
  Kernel scalar[3] = {}, vector[3] = {};
};

Kernels compile(const std::string &cpu) {
  Kernels out;
  test::HandBuiltModule built("elementary");
  llvm::Module &module = built.module;
  Emitter &e = built.e;
  auto *kernelType = llvm::FunctionType::get(e.b.getVoidTy(), {e.ptr, e.ptr}, false);
  std::vector<llvm::Constant *> table;
  for (int f = Exp; f <= Log1p; ++f)
    for (int width : {1, kLanes}) {
      auto *fn =
          llvm::Function::Create(kernelType, llvm::GlobalValue::InternalLinkage,
                                 std::string(kNames[f]) + (width == 1 ? ".s" : ".v"), module);
      e.b.SetInsertPoint(llvm::BasicBlock::Create(built.context, "entry", fn));
      llvm::Type *type = width == 1 ? e.f32 : llvm::FixedVectorType::get(e.f32, width);
      llvm::Value *x = e.b.CreateAlignedLoad(type, fn->getArg(0), llvm::Align(4));
      llvm::Value *y = f == Exp ? e.exp(x) : f == Log ? e.log(x) : e.log1p(x);
      e.b.CreateAlignedStore(y, fn->getArg(1), llvm::Align(4));
      e.b.CreateRetVoid();
      table.push_back(fn);
    }
  auto *tableType = llvm::ArrayType::get(e.ptr, table.size());
  auto *global =
      new llvm::GlobalVariable(module, tableType, true, llvm::GlobalValue::PrivateLinkage,
                               llvm::ConstantArray::get(tableType, table), "table");
  auto *get = llvm::Function::Create(llvm::FunctionType::get(e.ptr, false),
                                     llvm::GlobalValue::ExternalLinkage, "get", module);
  e.b.SetInsertPoint(llvm::BasicBlock::Create(built.context, "entry", get));
  e.b.CreateRet(global);

  test::LinkedModule linked = test::linkModule(module, cpu, "get");
  out.cache = std::move(linked.cache);
  if (!linked.entry)
    return out;
  void *const *kernels = reinterpret_cast<void *const *(*)()>(linked.entry)();
  for (int f = Exp; f <= Log1p; ++f) {
    out.scalar[f] = reinterpret_cast<Kernel>(kernels[2 * f]);
    out.vector[f] = reinterpret_cast<Kernel>(kernels[2 * f + 1]);
  }
  return out;
}

double reference(Fn f, float x) {
  return f == Exp ? std::exp(double(x)) : f == Log ? std::log(double(x)) : std::log1p(double(x));
}

// How many floats apart `got` is from the exact `want` rounded to float
// (0 for the same value; NaN and infinities must match exactly).
double ulps(float got, double want) {
  float rounded = static_cast<float>(want);
  if (std::isnan(rounded) || std::isnan(got))
    return std::isnan(rounded) && std::isnan(got) ? 0 : 1e9;
  if (std::isinf(rounded) || std::isinf(got))
    return rounded == got ? 0 : 1e9;
  // Floats ordered as integers: sign-magnitude to two's complement.
  auto ordered = [](float v) {
    int32_t i = std::bit_cast<int32_t>(v);
    return i < 0 ? int64_t(INT32_MIN) - i : int64_t(i);
  };
  return std::fabs(double(ordered(got) - ordered(rounded)));
}

// Floats from the whole range (every 4099th bit pattern, both signs) and
// the edges each function has.
std::vector<float> inputs() {
  std::vector<float> out;
  for (uint64_t bits = 0; bits < (uint64_t(1) << 32); bits += 4099)
    out.push_back(std::bit_cast<float>(uint32_t(bits)));
  const float inf = std::numeric_limits<float>::infinity();
  for (
      float v :
      {0.0f,        -0.0f,           inf,      -inf,        std::numeric_limits<float>::quiet_NaN(),
       1.0f,        -1.0f,           2.0f,     0.5f,        88.72283f,
       88.7228394f, 88.73f,          89.0f,    100.0f,      -87.33654f,
       -103.97f,    -104.0f,         -200.0f,  1e-30f,      1e-40f,
       -1e-40f,     1.17549435e-38f, 1.4e-45f, 1e-8f,       -1e-8f,
       1e-4f,       -0.999999f,      -0.5f,    1.41421354f, 0.707106769f,
       3.0e38f})
    out.push_back(v);
  while (out.size() % kLanes != 0)
    out.push_back(1.0f);
  return out;
}

// Each function's largest error in ulps over `inputs`, after checking that
// every lane of the vector kernel gives the scalar kernel's bits.
void check(const Kernels &k, const char *cpu) {
  const std::vector<float> x = inputs();
  const double bound[] = {1, 2, 2};
  for (int f = Exp; f <= Log1p; ++f) {
    ASSERT_TRUE(k.scalar[f] && k.vector[f]);
    std::vector<float> lanes(x.size()), one(x.size());
    for (size_t i = 0; i < x.size(); i += kLanes)
      k.vector[f](&x[i], &lanes[i]);
    double worst = 0;
    float worstAt = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      k.scalar[f](&x[i], &one[i]);
      // The same bits; a NaN's payload may differ.
      if (!(std::isnan(one[i]) && std::isnan(lanes[i]))) {
        ASSERT_EQ(std::bit_cast<uint32_t>(one[i]), std::bit_cast<uint32_t>(lanes[i]))
            << cpu << " " << kNames[f] << "(" << x[i] << "): scalar " << one[i] << ", lane "
            << lanes[i];
      }
      double err = ulps(one[i], reference(Fn(f), x[i]));
      if (err > worst) {
        worst = err;
        worstAt = x[i];
      }
    }
    EXPECT_LE(worst, bound[f]) << cpu << " " << kNames[f] << " is " << worst << " ulps off at "
                               << worstAt;
  }
}

TEST(Elementary, WithinTheirUlpsOfLibmAndTheSameInEveryLane) {
  for (const char *cpu : {"native", "x86-64-v2"}) {
    Kernels k = compile(cpu);
    check(k, cpu);
  }
}

TEST(Elementary, SpecialValues) {
  Kernels k = compile("native");
  ASSERT_TRUE(k.scalar[Exp] && k.scalar[Log] && k.scalar[Log1p]);
  auto run = [&](Fn f, float x) {
    float y = 0;
    k.scalar[f](&x, &y);
    return y;
  };
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  EXPECT_TRUE(std::isnan(run(Exp, nan)));
  EXPECT_EQ(run(Exp, inf), inf);
  EXPECT_EQ(run(Exp, -inf), 0.0f);
  EXPECT_EQ(run(Exp, 0.0f), 1.0f);
  EXPECT_EQ(run(Exp, 89.0f), inf);
  EXPECT_EQ(run(Exp, -104.0f), 0.0f);
  EXPECT_EQ(run(Log, 0.0f), -inf);
  EXPECT_EQ(run(Log, -0.0f), -inf);
  EXPECT_EQ(run(Log, 1.0f), 0.0f);
  EXPECT_EQ(run(Log, inf), inf);
  EXPECT_TRUE(std::isnan(run(Log, -1.0f)));
  EXPECT_TRUE(std::isnan(run(Log, nan)));
  EXPECT_EQ(run(Log1p, -1.0f), -inf);
  EXPECT_EQ(run(Log1p, 0.0f), 0.0f);
  EXPECT_EQ(run(Log1p, 1e-30f), 1e-30f);
  EXPECT_EQ(run(Log1p, inf), inf);
  EXPECT_TRUE(std::isnan(run(Log1p, -2.0f)));
  EXPECT_TRUE(std::isnan(run(Log1p, nan)));
}

} // namespace
} // namespace mtl::codegen
