// divide_test.cpp: Emitter::divideByScalar (codegen/Elementary.cpp), a
// division by a scalar as a multiply by its reciprocal and a correction,
// against the division itself, bit for bit.
#include "LinkedModule.h"
#include "codegen/Emitter.h"

#include <gtest/gtest.h>
#include <llvm/IR/Module.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

namespace mtl::codegen::divide_test {

// Markstein's condition on the reciprocal: |1 - c y| < 2^-24 for y = 1 / c
// rounded to nearest. Scaling c by a power of two scales y back, so the
// significands of [1, 2) are every case.
TEST(DivideByScalar, TheReciprocalOfEverySignificandIsCloseEnough) {
  float worst = 0;
  for (uint32_t m = 0; m < (1u << 23); ++m) {
    const float c = std::bit_cast<float>(0x3f800000u | m);
    const volatile float y = 1.0f / c;
    worst = std::max(worst, std::fabs(std::fma(-c, y, 1.0f)));
  }
  EXPECT_LT(worst, 0x1p-24f);
  EXPECT_EQ(worst, 0x1p-24f - 0x1p-47f); // reached: the bound has no slack to spare
}

constexpr int kLanes = 16;
using Kernel = void (*)(const float *x, float c, float y, float *out);

// A function `divide`: out[0..16) = divideByScalar(x[0..16), c, y), as
// generated for the host.
test::LinkedModule compile() {
  test::HandBuiltModule built("divide");
  Emitter &e = built.e;
  auto *type = llvm::FunctionType::get(e.b.getVoidTy(), {e.ptr, e.f32, e.f32, e.ptr}, false);
  auto *fn =
      llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, "divide", built.module);
  e.b.SetInsertPoint(llvm::BasicBlock::Create(built.context, "entry", fn));
  auto *vec = llvm::FixedVectorType::get(e.f32, kLanes);
  llvm::Value *x = e.b.CreateAlignedLoad(vec, fn->getArg(0), llvm::Align(4));
  llvm::Value *c = e.b.CreateVectorSplat(kLanes, fn->getArg(1));
  llvm::Value *y = e.b.CreateVectorSplat(kLanes, fn->getArg(2));
  e.b.CreateAlignedStore(e.divideByScalar(x, c, y), fn->getArg(3), llvm::Align(4));
  e.b.CreateRetVoid();
  return test::linkModule(built.module, "native", "divide");
}

// Every significand of x at 2^-75, 1 and 2^60 (the ends of Adam's range of
// sqrt(v)), over divisors of every kind: Adam's sqrt(1 - 0.999^t) for the
// first steps and late ones, the all-ones and all-zeros significands, the
// extremes 2^-27 and 1.
TEST(DivideByScalar, GivesTheBitsOfTheDivision) {
  test::LinkedModule linked = compile();
  ASSERT_NE(linked.entry, nullptr);
  const auto kernel = reinterpret_cast<Kernel>(linked.entry);
  std::vector<float> divisors = {1.0f, 0x1p-27f, std::bit_cast<float>(0x3fffffffu),
                                 std::bit_cast<float>(0x3f7fffffu), 0.75f};
  for (int t : {1, 2, 3, 10, 1000, 100000})
    divisors.push_back(static_cast<float>(std::sqrt(1 - std::pow(0.999, t))));
  std::vector<float> x(1u << 23), got(x.size());
  int64_t checked = 0;
  for (float c : divisors) {
    const float y = 1.0f / c;
    for (int exponent : {-75, 0, 60}) {
      for (uint32_t m = 0; m < x.size(); ++m)
        x[m] = std::ldexp(std::bit_cast<float>(0x3f800000u | m), exponent);
      for (size_t i = 0; i < x.size(); i += kLanes)
        kernel(&x[i], c, y, &got[i]);
      for (size_t i = 0; i < x.size(); ++i) {
        const volatile float want = x[i] / c;
        ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(float(want)))
            << x[i] << " / " << c;
      }
      checked += int64_t(x.size());
    }
  }
  EXPECT_EQ(checked, int64_t(divisors.size()) * 3 * (1 << 23));
}

} // namespace mtl::codegen::divide_test
