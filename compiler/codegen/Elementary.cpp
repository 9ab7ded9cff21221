// Elementary.cpp: exp, log and log1p as generated code, for floats and vectors.
//
// libm's expf and logf are calls: LLVM turns a vector of them into one call
// per lane, so a loss, a softmax or an element-wise exp ran a call per
// element. These are a few multiply-adds with no table and no branch, the
// same instructions for a float and for every lane of a vector: a value
// gets the same bits whichever way a loop reaches it (vector body or scalar
// rest, any split over the threads), NaN payloads aside. Accuracy,
// against double-precision libm (tests/codegen/elementary_test.cpp): within
// 1 ulp for exp, 2 for log and log1p, over the whole float range.
#include "codegen/Emitter.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/Support/ErrorHandling.h>

#include <cmath>
#include <limits>

namespace mtl::codegen {
namespace {

// Constants shaped like `like` (a float or a vector of them), floats and their i32 bits.
struct Shape {
  Emitter &e;
  llvm::Type *fp, *bits;
  Shape(Emitter &em, llvm::Value *like) : e(em), fp(like->getType()) {
    bits = e.b.getInt32Ty();
    if (auto *v = llvm::dyn_cast<llvm::FixedVectorType>(fp))
      bits = llvm::FixedVectorType::get(bits, v->getNumElements());
  }
  llvm::Value *f(double v) const { return llvm::ConstantFP::get(fp, v); }
  llvm::Value *i(uint32_t v) const { return llvm::ConstantInt::get(bits, v); }
  llvm::Value *fma(llvm::Value *a, llvm::Value *m, llvm::Value *c) const {
    return e.b.CreateCall(llvm::Intrinsic::getDeclaration(&e.module, llvm::Intrinsic::fma, {fp}),
                          {a, m, c});
  }
  // Σ coefficients[k] x^k by Horner's rule, in multiply-adds.
  llvm::Value *poly(llvm::Value *x, std::initializer_list<double> coefficients) const {
    const double *c = coefficients.end();
    llvm::Value *p = f(*--c);
    while (c != coefficients.begin())
      p = fma(p, x, f(*--c));
    return p;
  }
  // log((1 + t) / (1 - t)) = 2 atanh(t) = 2t + 2t^3/3 + ... + 2t^9/9 for
  // |t| <= 0.172 (the first term left out is below 3e-9 of the sum), as
  // 2t + t t^2 q(t^2), the small terms first.
  llvm::Value *logRatio(llvm::Value *t) const {
    llvm::Value *t2 = e.b.CreateFMul(t, t);
    llvm::Value *q = poly(t2, {2.0 / 3, 2.0 / 5, 2.0 / 7, 2.0 / 9});
    return fma(e.b.CreateFMul(t, t2), q, e.b.CreateFAdd(t, t));
  }
  // 2^n for integers n in [-126, 127], from their exponent bits.
  llvm::Value *pow2(llvm::Value *n) const {
    return e.b.CreateBitCast(e.b.CreateShl(e.b.CreateAdd(n, i(127)), i(23)), fp);
  }
};

constexpr double kInf = std::numeric_limits<double>::infinity();

} // namespace

llvm::Value *Emitter::exp(llvm::Value *x) {
  // exp(x) = 2^n e^r, n = x log2(e) rounded to an integer, r = x - n ln 2 in
  // [-ln2/2, ln2/2] (ln 2 in two parts: n times the first, 9 bits long, is
  // exact), e^r its Taylor polynomial of degree 7 (the first term left out
  // is below 6e-9 of the result). x is held in [-104, 89] first, past which
  // exp rounds to 0 and overflows to inf alike; a NaN passes every compare
  // as false and comes out NaN. The rounding adds 1.5 2^23, so n is in the
  // low bits of the sum (integer bits: no conversion of a NaN). 2^n is
  // applied in two halves, each a normal float, so n = 128 (x up to 88.72)
  // and results below 2^-126 come out right too.
  Shape s(*this, x);
  x = b.CreateSelect(b.CreateFCmpOGT(x, s.f(89.0)), s.f(89.0), x);
  x = b.CreateSelect(b.CreateFCmpOLT(x, s.f(-104.0)), s.f(-104.0), x);
  const double shifter = 12582912.0; // 1.5 2^23
  llvm::Value *shifted = s.fma(x, s.f(1.4426950408889634), s.f(shifter));
  llvm::Value *n = b.CreateFSub(shifted, s.f(shifter));
  llvm::Value *ni =
      b.CreateSub(b.CreateBitCast(shifted, s.bits), b.CreateBitCast(s.f(shifter), s.bits));
  llvm::Value *r = s.fma(n, s.f(-0.693359375), x);
  r = s.fma(n, s.f(2.12194440054690583e-4), r);
  llvm::Value *p =
      s.poly(r, {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040});
  llvm::Value *half = b.CreateAShr(ni, s.i(1));
  return b.CreateFMul(b.CreateFMul(p, s.pow2(half)), s.pow2(b.CreateSub(ni, half)));
}

llvm::Value *Emitter::log(llvm::Value *x) {
  // x = m 2^k with m in [sqrt(1/2), sqrt(2)); log x = k ln 2 + log m, and
  // log m = logRatio(t) with t = (m-1)/(m+1), |t| <= 0.172. A number below
  // 2^-126 is scaled by 2^23 first (unless the CPU reads it as 0). 0 gives
  // -inf, +inf itself, a negative number or NaN a NaN.
  Shape s(*this, x);
  llvm::Value *tiny = b.CreateFCmpOLT(x, s.f(0x1p-126));
  llvm::Value *scaled = b.CreateSelect(tiny, b.CreateFMul(x, s.f(0x1p23)), x);
  llvm::Value *bits = b.CreateBitCast(scaled, s.bits);
  // The mantissa's bits with the exponent of [1, 2), or of [1/2, 1) where
  // the mantissa is at least sqrt(2) (0x3504f3 its bits), k moved up by one.
  llvm::Value *mantissa = b.CreateAnd(bits, s.i(0x7fffff));
  llvm::Value *high = b.CreateICmpUGE(mantissa, s.i(0x3504f3));
  llvm::Value *m = b.CreateBitCast(
      b.CreateOr(mantissa, b.CreateSelect(high, s.i(0x3f000000), s.i(0x3f800000))), s.fp);
  llvm::Value *k = b.CreateSub(b.CreateLShr(bits, s.i(23)), s.i(127));
  k = b.CreateAdd(k, b.CreateSelect(high, s.i(1), s.i(0)));
  k = b.CreateSub(k, b.CreateSelect(tiny, s.i(23), s.i(0)));
  llvm::Value *kf = b.CreateSIToFP(k, s.fp);
  llvm::Value *logm = s.logRatio(b.CreateFDiv(b.CreateFSub(m, s.f(1)), b.CreateFAdd(m, s.f(1))));
  // k ln 2 in two parts (the first, 9 bits long, times k is exact).
  llvm::Value *result = s.fma(kf, s.f(0.693359375), s.fma(kf, s.f(-2.12194440054690583e-4), logm));
  llvm::Value *special =
      b.CreateSelect(b.CreateFCmpOEQ(x, s.f(0)), s.f(-kInf),
                     b.CreateSelect(b.CreateFCmpOEQ(x, s.f(kInf)), x, s.f(std::nan(""))));
  llvm::Value *regular = b.CreateAnd(b.CreateFCmpOGT(x, s.f(0)), b.CreateFCmpOLT(x, s.f(kInf)));
  return b.CreateSelect(regular, result, special);
}

llvm::Value *Emitter::log1p(llvm::Value *x) {
  // Where 1 + x is in (sqrt(1/2), sqrt(2)), logRatio(x / (2 + x)): x itself
  // is the numerator, so none of its low bits is lost to 1 + x rounding.
  // Elsewhere log(u) for u = 1 + x, plus (x - (u - 1)) / u, the first-order
  // correction for u's rounding (where u is finite and positive).
  Shape s(*this, x);
  llvm::Value *near = b.CreateAnd(b.CreateFCmpOGT(x, s.f(-0.29289321881345254)),
                                  b.CreateFCmpOLT(x, s.f(0.41421356237309515)));
  llvm::Value *series = s.logRatio(b.CreateFDiv(x, b.CreateFAdd(x, s.f(2))));
  llvm::Value *u = b.CreateFAdd(x, s.f(1));
  llvm::Value *logu = log(u);
  llvm::Value *correction = b.CreateFDiv(b.CreateFSub(x, b.CreateFSub(u, s.f(1))), u);
  llvm::Value *finite = b.CreateAnd(b.CreateFCmpOGT(u, s.f(0)), b.CreateFCmpOLT(u, s.f(kInf)));
  return b.CreateSelect(near, series, b.CreateSelect(finite, b.CreateFAdd(logu, correction), logu));
}

llvm::Value *Emitter::callElementary(const std::string &name, llvm::Value *x) {
  llvm::Type *type = x->getType();
  std::string suffix = "f32";
  if (auto *v = llvm::dyn_cast<llvm::FixedVectorType>(type))
    suffix = "v" + std::to_string(v->getNumElements()) + suffix;
  const std::string symbol = "mtl." + name + "." + suffix;
  llvm::Function *fn = module.getFunction(symbol);
  if (!fn) {
    fn = llvm::Function::Create(llvm::FunctionType::get(type, {type}, false),
                                llvm::GlobalValue::InternalLinkage, symbol, module);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    fn->addFnAttr(llvm::Attribute::WillReturn);
    fn->setDoesNotAccessMemory();
    llvm::IRBuilderBase::InsertPoint saved = b.saveIP();
    b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", fn));
    llvm::Value *arg = fn->getArg(0);
    if (name != "exp" && name != "log" && name != "log1p")
      llvm_unreachable("callElementary: exp, log or log1p");
    b.CreateRet(name == "exp" ? exp(arg) : name == "log" ? log(arg) : log1p(arg));
    b.restoreIP(saved);
  }
  return b.CreateCall(fn, {x});
}

// q = x y, then the remainder x - q c (exact, with one fused multiply-add)
// corrects it: q + (x - q c) y. By Markstein's theorem this is x / c rounded
// to nearest when q is within an ulp of x / c and |1 - c y| < 2^-24. With
// y = 1 / c rounded to nearest, |1 - c y| <= 2^-24 - 2^-47 for every
// float's significand (tests/codegen/divide_test.cpp checks all 2^23), and
// q = x y is then within an ulp. The divider, which a division of 16 floats
// keeps busy for about 10 cycles (and a square root for 12), is left alone.
llvm::Value *Emitter::divideByScalar(llvm::Value *x, llvm::Value *c, llvm::Value *y) {
  llvm::Function *fma =
      llvm::Intrinsic::getDeclaration(&module, llvm::Intrinsic::fma, {x->getType()});
  llvm::Value *q = b.CreateFMul(x, y);
  llvm::Value *remainder = b.CreateCall(fma, {b.CreateFNeg(q), c, x});
  return b.CreateCall(fma, {remainder, y, q});
}

} // namespace mtl::codegen
