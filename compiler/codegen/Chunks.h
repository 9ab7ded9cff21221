// Chunks.h: the name of codegen's chunks of op calls, which the function cache compiles cheaply.
#pragma once

namespace mtl::codegen {

/// The name (before LLVM numbers it) of a `noinline` chunk of op calls
/// (Outline.cpp, Emitter::kChunkOps). A chunk only computes pointers and
/// passes them on, so the function cache makes its machine code at -O0
/// (backend/FunctionCache.h, Pending::calls).
inline constexpr const char *kCallChunk = "mtl.ops";

} // namespace mtl::codegen
