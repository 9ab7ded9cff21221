// Kernels.cpp: reference loops for matrices, rows, embeddings, reductions and losses.
#include "ir/Kernels.h"

#include "ir/Math.h"

#include <fmt/format.h>

#include <cmath>

namespace mtl::ir::kernels {

void linear(const Buffer &x, const Buffer &w, const Buffer *b, int64_t in, int64_t outDim,
            Buffer &out) {
  int64_t rows = static_cast<int64_t>(x.size()) / in;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < outDim; ++o) {
      double s = b ? (*b)[o] : 0.0;
      for (int64_t i = 0; i < in; ++i)
        s += x[r * in + i] * w[o * in + i];
      out[r * outDim + o] = s;
    }
}

void matmul(const Buffer &a, const Buffer &b, int64_t k, int64_t n, Buffer &out) {
  int64_t rows = static_cast<int64_t>(a.size()) / k;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += a[r * k + p] * b[p * n + j];
      out[r * n + j] = s;
    }
}

void matmulTN(const Buffer &a, const Buffer &b, int64_t m, int64_t n, Buffer &out) {
  int64_t rows = static_cast<int64_t>(a.size()) / m;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t r = 0; r < rows; ++r)
        s += a[r * m + i] * b[r * n + j];
      out[i * n + j] = s;
    }
}

void matmulLeft(const Buffer &w, const Buffer &x, const Buffer *b, int64_t m, int64_t k, int64_t n,
                Buffer &out) {
  int64_t count = static_cast<int64_t>(x.size()) / (k * n);
  for (int64_t l = 0; l < count; ++l)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = b ? (*b)[i] : 0.0;
        for (int64_t p = 0; p < k; ++p)
          s += w[i * k + p] * x[(l * k + p) * n + j];
        out[(l * m + i) * n + j] = s;
      }
}

void matmulSumNT(const Buffer &a, const Buffer &b, int64_t m, int64_t k, int64_t n, Buffer &out) {
  int64_t count = static_cast<int64_t>(a.size()) / (m * k);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t l = 0; l < count; ++l)
        for (int64_t p = 0; p < k; ++p)
          s += a[(l * m + i) * k + p] * b[(l * n + j) * k + p];
      out[i * n + j] = s;
    }
}

void rowwise(OpKind kind, const Attrs &attrs, const Buffer &x, const Buffer *second, int64_t last,
             Buffer &out) {
  int64_t rows = static_cast<int64_t>(x.size()) / last;
  for (int64_t r = 0; r < rows; ++r) {
    const double *xr = &x[r * last];
    const double *gr = second ? &(*second)[r * last] : nullptr;
    double *yr = &out[r * last];
    if (kind == OpKind::Softmax || kind == OpKind::LogSoftmax) {
      // Subtracting the row maximum keeps exp() finite for large logits.
      double mx = xr[0];
      for (int64_t j = 1; j < last; ++j)
        mx = std::fmax(mx, xr[j]);
      double s = 0;
      for (int64_t j = 0; j < last; ++j)
        s += std::exp(xr[j] - mx);
      for (int64_t j = 0; j < last; ++j)
        yr[j] = kind == OpKind::Softmax ? std::exp(xr[j] - mx) / s : xr[j] - mx - std::log(s);
    } else if (kind == OpKind::SoftmaxGrad) { // x is y = softmax
      double s = 0;
      for (int64_t j = 0; j < last; ++j)
        s += gr[j] * xr[j];
      for (int64_t j = 0; j < last; ++j)
        yr[j] = xr[j] * (gr[j] - s);
    } else if (kind == OpKind::LogSoftmaxGrad) { // x is y = log_softmax
      double s = 0;
      for (int64_t j = 0; j < last; ++j)
        s += gr[j];
      for (int64_t j = 0; j < last; ++j)
        yr[j] = gr[j] - std::exp(xr[j]) * s;
    } else { // LayerNorm, LayerNormGrad: biased variance, as PyTorch
      double mean = 0, var = 0;
      for (int64_t j = 0; j < last; ++j)
        mean += xr[j];
      mean /= static_cast<double>(last);
      for (int64_t j = 0; j < last; ++j)
        var += (xr[j] - mean) * (xr[j] - mean);
      var /= static_cast<double>(last);
      double inv = 1 / std::sqrt(var + attrs.eps);
      if (kind == OpKind::LayerNorm) {
        for (int64_t j = 0; j < last; ++j)
          yr[j] = (xr[j] - mean) * inv;
        continue;
      }
      // dx = inv * (g - mean(g) - xhat * mean(g * xhat))
      double mg = 0, mgx = 0;
      for (int64_t j = 0; j < last; ++j) {
        mg += gr[j];
        mgx += gr[j] * (xr[j] - mean) * inv;
      }
      mg /= static_cast<double>(last);
      mgx /= static_cast<double>(last);
      for (int64_t j = 0; j < last; ++j)
        yr[j] = inv * (gr[j] - mg - (xr[j] - mean) * inv * mgx);
    }
  }
}

namespace {
/// The integer in `v` if it is one in [0, limit).
bool validId(double v, int64_t limit) {
  return v >= 0 && v < static_cast<double>(limit) && v == std::floor(v);
}
} // namespace

std::string gather(const Buffer &table, int64_t vocab, const Buffer &ids, int64_t dim,
                   Buffer &out) {
  for (size_t p = 0; p < ids.size(); ++p) {
    if (!validId(ids[p], vocab))
      return fmt::format("id {} at position {} is outside [0, {})", ids[p], p, vocab);
    auto row = static_cast<int64_t>(ids[p]);
    for (int64_t j = 0; j < dim; ++j)
      out[p * dim + j] = table[row * dim + j];
  }
  return {};
}

std::string gatherGrad(const Buffer &g, const Buffer &ids, int64_t vocab, int64_t dim,
                       Buffer &out) {
  for (size_t p = 0; p < ids.size(); ++p) {
    if (!validId(ids[p], vocab))
      return fmt::format("id {} at position {} is outside [0, {})", ids[p], p, vocab);
    auto row = static_cast<int64_t>(ids[p]);
    for (int64_t j = 0; j < dim; ++j)
      out[row * dim + j] += g[p * dim + j];
  }
  return {};
}

void reduce(const Buffer &x, ReduceAxis axis, int64_t last, bool mean, Buffer &out) {
  size_t n = x.size();
  for (size_t i = 0; i < n; ++i) {
    size_t o = axis == ReduceAxis::All    ? 0
               : axis == ReduceAxis::Last ? i / static_cast<size_t>(last)
                                          : i % static_cast<size_t>(last);
    out[o] += x[i];
  }
  if (mean && n > 0) {
    double per = static_cast<double>(n) / static_cast<double>(out.size());
    for (double &v : out)
      v /= per;
  }
}

std::string loss(const Attrs &a, const Buffer &pred, const Buffer &target, int64_t last,
                 const Buffer *g, Buffer &out) {
  // Rows (cross-entropy) or elements (the others) whose target is NaN are
  // masked out; the mean is over the rest, and 0 when nothing is labelled.
  double sum = 0;
  size_t labelled = 0;
  bool ce = a.loss == LossKind::CrossEntropy;
  for (size_t i = 0; i < target.size(); ++i) {
    double t = target[i];
    if (std::isnan(t))
      continue;
    ++labelled;
    if (ce) {
      if (!validId(t, last))
        return fmt::format("class id {} in row {} is outside [0, {})", t, i, last);
      const double *p = &pred[i * last];
      double mx = p[0], s = 0;
      for (int64_t j = 1; j < last; ++j)
        mx = std::fmax(mx, p[j]);
      for (int64_t j = 0; j < last; ++j)
        s += std::exp(p[j] - mx);
      double lse = mx + std::log(s);
      auto cls = static_cast<int64_t>(t);
      sum += lse - p[cls];
      if (g)
        for (int64_t j = 0; j < last; ++j)
          out[i * last + j] = std::exp(p[j] - lse) - (j == cls ? 1.0 : 0.0);
      continue;
    }
    double p = pred[i], d = p - t;
    switch (a.loss) {
    case LossKind::Mse:
      sum += d * d;
      if (g)
        out[i] = 2 * d;
      break;
    case LossKind::Mae:
      sum += std::fabs(d);
      if (g)
        out[i] = math::sign(d);
      break;
    case LossKind::Huber:
      sum += math::huber(d, a.delta);
      if (g)
        out[i] = math::huberDeriv(d, a.delta);
      break;
    case LossKind::BceLogits:
      sum += math::bceLogits(p, t);
      if (g)
        out[i] = math::bceLogitsDeriv(p, t);
      break;
    case LossKind::CrossEntropy:
      unexpectedLoss(a.loss, "the element-wise loss kernel"); // handled per row above
    }
  }
  if (!g) {
    out[0] = labelled ? sum / static_cast<double>(labelled) : 0.0;
    return {};
  }
  double scale = labelled ? (*g)[0] / static_cast<double>(labelled) : 0.0;
  for (double &v : out)
    v *= scale;
  return {};
}

} // namespace mtl::ir::kernels
