// Kernels.h: the interpreter's multi-element kernels, as plain loops.
//
// Buffers are flat row-major; "rows" are all elements but the last dimension.
// Kernels that can meet bad data return an error message (empty on success).
#pragma once

#include "ir/Op.h"
#include "ir/Window.h"

#include <string>
#include <vector>

namespace mtl::ir::kernels {

using Buffer = std::vector<double>;

/// out[r, o] = sum_i x[r, i] w[o, i] + b[o].
void linear(const Buffer &x, const Buffer &w, const Buffer *b, int64_t in, int64_t outDim,
            Buffer &out);
/// out[r, j] = sum_p a[r, p] b[p, j], b is [k, n].
void matmul(const Buffer &a, const Buffer &b, int64_t k, int64_t n, Buffer &out);
/// out[i, j] = sum_r a[r, i] b[r, j].
void matmulTN(const Buffer &a, const Buffer &b, int64_t m, int64_t n, Buffer &out);
/// out[l, i, j] = sum_p w[i, p] x[l, p, j] + b[i]; w is [m, k], each x[l] [k, n].
void matmulLeft(const Buffer &w, const Buffer &x, const Buffer *b, int64_t m, int64_t k, int64_t n,
                Buffer &out);
/// out[i, j] = sum_l sum_p a[l, i, p] b[l, j, p]; each a[l] is [m, k], b[l] [n, k].
void matmulSumNT(const Buffer &a, const Buffer &b, int64_t m, int64_t k, int64_t n, Buffer &out);
/// Softmax, LogSoftmax, LayerNorm and their Grad kinds, row by row; `second`
/// is the second operand of the Grad kinds.
void rowwise(OpKind kind, const Attrs &attrs, const Buffer &x, const Buffer *second, int64_t last,
             Buffer &out);
/// out[p, :] = table[ids[p], :]; fails on ids outside [0, vocab) or non-integer.
std::string gather(const Buffer &table, int64_t vocab, const Buffer &ids, int64_t dim, Buffer &out);
/// out[ids[p], :] += g[p, :] into a zeroed [vocab, dim] buffer.
std::string gatherGrad(const Buffer &g, const Buffer &ids, int64_t vocab, int64_t dim, Buffer &out);
/// A Window kind (Ops.def) over `images` images of `w`: `first` is x for the
/// forward kinds, g for the gradient kinds, whose `second` is x. `out` starts
/// zeroed.
void windows(OpKind kind, const WindowShape &w, int64_t images, const Buffer &first,
             const Buffer *second, Buffer &out);
/// Sum (or mean) over `axis`; `last` is the input's last dimension.
void reduce(const Buffer &x, ReduceAxis axis, int64_t last, bool mean, Buffer &out);
/// The masked mean loss (g == nullptr) or g times its gradient w.r.t. pred.
/// `last` is pred's last dimension (the class count, for cross-entropy).
std::string loss(const Attrs &attrs, const Buffer &pred, const Buffer &target, int64_t last,
                 const Buffer *g, Buffer &out);

} // namespace mtl::ir::kernels
