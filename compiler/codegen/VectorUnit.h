// VectorUnit.h: the vector registers code generation fits its tiles to.
#pragma once

namespace mtl::codegen {

/// What the target's vector registers hold (backend::vectorUnit reads it off
/// the target machine). Products keep a tile of accumulators in registers
/// (MicroKernel.cpp): its width and height follow these, so AVX2's sixteen
/// 8-float registers are not asked to hold AVX-512's 16 of 16 floats. The
/// shape of a tile never changes results: each element is one chain of
/// multiply-adds in a fixed order in any tile.
struct VectorUnit {
  int floats = 4;      ///< floats in one register: 16 (AVX-512), 8 (AVX), 4 (SSE)
  int registers = 16;  ///< vector registers: 32 with AVX-512, else 16
  bool masked = false; ///< see Emitter::vectors
  /// Fused multiply-add in hardware (FMA3, AVX-512): llvm.fma is one
  /// instruction, not a call into libm (Update.cpp divides by a scalar with it).
  bool fma = false;
};

} // namespace mtl::codegen
