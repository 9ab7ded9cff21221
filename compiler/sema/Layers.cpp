// Layers.cpp: arguments, dtype and shape rules of each built-in layer (docs/language.md, "Layers").
#include "sema/Layers.h"

#include "sema/Args.h"
#include "sema/ConstEval.h"

#include <fmt/format.h>

#include <algorithm>

namespace mtl::sema {
namespace {

/// Most steps a gru may have: lowering unrolls them (about 50 ops each with
/// the gradient), and compiling grows faster than the graph: about a minute
/// at 200 steps (docs/language.md).
constexpr int64_t kMaxGruSteps = 200;

struct LayerSpec {
  LayerKind kind;
  std::string name;
  std::vector<ParamSpec> params;
};

const std::vector<LayerSpec> &specs() {
  static const std::vector<LayerSpec> table = {
      {LayerKind::Dense, "dense", {{"units", true}, {"bias", false}}},
      {LayerKind::Relu, "relu", {}},
      {LayerKind::Gelu, "gelu", {}},
      {LayerKind::Tanh, "tanh", {}},
      {LayerKind::Sigmoid, "sigmoid", {}},
      {LayerKind::LeakyRelu, "leaky_relu", {{"alpha", false}}},
      {LayerKind::Softmax, "softmax", {}},
      {LayerKind::Dropout, "dropout", {{"rate", true}}},
      {LayerKind::LayerNorm, "layer_norm", {{"eps", false}}},
      {LayerKind::BatchNorm, "batch_norm", {{"momentum", false}, {"eps", false}}},
      {LayerKind::Embedding, "embedding", {{"vocab", true}, {"dim", true}}},
      {LayerKind::Flatten, "flatten", {}},
      {LayerKind::Conv2d,
       "conv2d",
       {{"out", true}, {"kernel", true}, {"stride", false}, {"padding", false}, {"bias", false}}},
      {LayerKind::MaxPool, "max_pool", {{"kernel", true}, {"stride", false}}},
      {LayerKind::AvgPool, "avg_pool", {{"kernel", true}, {"stride", false}}},
      {LayerKind::Gru, "gru", {{"hidden", true}}},
  };
  return table;
}

const LayerSpec &specOf(LayerKind kind) {
  for (const LayerSpec &s : specs())
    if (s.kind == kind)
      return s;
  return specs().front();
}

// Evaluates the layer's arguments into `layer`; false if any is missing or bad.
bool readArgs(Context &ctx, const ast::Expr &step, const Env *env, Layer &layer) {
  const LayerSpec &spec = specOf(layer.kind);
  BoundArgs b = bindArgs(ctx, step, spec.name, spec.params);
  bool ok = b.ok;
  auto number = [&](size_t i, double &dst) {
    if (const ast::Expr *e = b.value(i)) {
      if (auto v = evalFloat(ctx, *e, env))
        dst = *v;
      else
        ok = false;
    }
  };
  auto integer = [&](size_t i, int64_t &dst, const char *what, int64_t least = 1) {
    if (const ast::Expr *e = b.value(i)) {
      if (auto v = evalInt(ctx, *e, env, what, least, kMaxDim))
        dst = *v;
      else
        ok = false;
    }
  };
  switch (layer.kind) {
  case LayerKind::Dense:
    integer(0, layer.units, "units");
    if (const ast::Expr *e = b.value(1)) {
      if (auto v = evalBool(ctx, *e))
        layer.bias = *v;
      else
        ok = false;
    }
    break;
  case LayerKind::LeakyRelu:
    number(0, layer.alpha);
    break;
  case LayerKind::Dropout:
    number(0, layer.rate);
    if (ok && b.value(0) && !(layer.rate >= 0 && layer.rate < 1)) {
      ctx.error(b.value(0)->loc,
                fmt::format("dropout rate must be in [0, 1), got {}", formatNumber(layer.rate)));
      ok = false;
    }
    break;
  case LayerKind::LayerNorm:
    number(0, layer.eps);
    if (ok && b.value(0) && !isPositiveFloat(layer.eps)) {
      ctx.error(b.value(0)->loc, fmt::format("layer_norm eps must be {}, got {}",
                                             positiveFloatText(), formatNumber(layer.eps)));
      ok = false;
    }
    break;
  case LayerKind::BatchNorm:
    number(0, layer.momentum);
    if (ok && b.value(0) && !(layer.momentum > 0 && layer.momentum <= 1)) {
      ctx.error(b.value(0)->loc, fmt::format("batch_norm momentum must be in (0, 1], got {}",
                                             formatNumber(layer.momentum)));
      ok = false;
    }
    number(1, layer.eps);
    if (ok && b.value(1) && !isPositiveFloat(layer.eps)) {
      ctx.error(b.value(1)->loc, fmt::format("batch_norm eps must be {}, got {}",
                                             positiveFloatText(), formatNumber(layer.eps)));
      ok = false;
    }
    break;
  case LayerKind::Embedding:
    integer(0, layer.vocab, "vocab");
    integer(1, layer.units, "dim");
    break;
  case LayerKind::Conv2d:
    integer(0, layer.units, "out");
    integer(1, layer.kernel, "kernel");
    integer(2, layer.stride, "stride");
    integer(3, layer.padding, "padding", 0);
    if (const ast::Expr *e = b.value(4)) {
      if (auto v = evalBool(ctx, *e))
        layer.bias = *v;
      else
        ok = false;
    }
    if (ok && 2 * layer.padding > layer.kernel) {
      ctx.error(b.value(3)->loc,
                fmt::format("conv2d padding {} is more than half the kernel {} (at most {})",
                            layer.padding, layer.kernel, layer.kernel / 2));
      ok = false;
    }
    break;
  case LayerKind::MaxPool:
  case LayerKind::AvgPool:
    integer(0, layer.kernel, "kernel");
    layer.stride = layer.kernel; // PyTorch's default: windows side by side
    integer(1, layer.stride, "stride");
    break;
  case LayerKind::Gru:
    integer(0, layer.units, "hidden");
    break;
  default:
    break;
  }
  return ok;
}

std::string typed(const Flow &f) {
  return fmt::format("{} {}", f.dtype == DType::I32 ? "i32 ids of shape" : "f32 values of shape",
                     formatShape(f.shape));
}

// conv2d and the pools: an image [C, H, W] in, windows that fit it.
bool windowShape(Context &ctx, SourceLoc at, const std::string &name, const Flow &in,
                 const Layer &layer, bool argsOk, Flow &out) {
  if (in.shape.size() != 3) {
    ctx.error(at, fmt::format("{} expects an image of shape [channels, height, width], got {}{}",
                              name, formatShape(in.shape),
                              in.shape.size() == 2 ? fmt::format("; declare it as f32[1, {}, {}]",
                                                                 in.shape[0], in.shape[1])
                                                   : ""));
    return false;
  }
  if (!argsOk)
    return false;
  const int64_t height = in.shape[1] + 2 * layer.padding, width = in.shape[2] + 2 * layer.padding;
  if (layer.kernel > height || layer.kernel > width) {
    ctx.error(at, fmt::format("{} window {} x {} is larger than its input {} x {}{}; the "
                              "kernel can be at most {}",
                              name, layer.kernel, layer.kernel, in.shape[1], in.shape[2],
                              layer.padding ? fmt::format(" with padding {}", layer.padding) : "",
                              std::min(height, width)));
    return false;
  }
  const int64_t channels = layer.kind == LayerKind::Conv2d ? layer.units : in.shape[0];
  out = Flow::of(DType::F32, {channels, (height - layer.kernel) / layer.stride + 1,
                              (width - layer.kernel) / layer.stride + 1});
  return true;
}

// gru: [steps, features] -> [hidden], unrolled over the steps when lowered.
bool inferGru(Context &ctx, SourceLoc at, const Flow &in, const Layer &layer, bool argsOk,
              Flow &out) {
  if (in.shape.size() != 2) {
    std::string hint =
        in.shape.size() == 1
            ? fmt::format("; {} steps of one feature would be [{}, 1]", in.shape[0], in.shape[0])
            : "";
    ctx.error(at, fmt::format("gru expects a sequence of shape [steps, features], got {}{}",
                              formatShape(in.shape), hint));
    return false;
  }
  if (in.shape[0] > kMaxGruSteps) {
    ctx.error(at, fmt::format("gru unrolls its steps into the compiled graph: at most {} steps, "
                              "got {}",
                              kMaxGruSteps, in.shape[0]));
    return false;
  }
  if (!argsOk)
    return false;
  const double h = static_cast<double>(layer.units);
  if (3 * h * (static_cast<double>(in.shape[1]) + h + 2) > static_cast<double>(kMaxElements)) {
    ctx.error(at, fmt::format("gru({}) on {} would have more than 2^40 parameters", layer.units,
                              formatShape(in.shape)));
    return false;
  }
  out = Flow::of(DType::F32, {layer.units});
  return true;
}

// Shape and dtype rules; sets the output shape or reports why there is none.
bool inferShape(Context &ctx, const ast::Expr &step, const Flow &in, Layer &layer, bool argsOk,
                Flow &out) {
  const std::string &name = specOf(layer.kind).name;
  SourceLoc at = nameLoc(step);
  if (layer.kind == LayerKind::Embedding) {
    if (in.dtype != DType::I32) {
      ctx.error(at, fmt::format("embedding expects i32 ids, got {}", typed(in)));
      return false;
    }
    if (in.shape.size() != 1) {
      ctx.error(at, fmt::format("embedding expects ids of shape [n], got {}; insert "
                                "'flatten' before it",
                                formatShape(in.shape)));
      return false;
    }
    if (!argsOk)
      return false;
    if (static_cast<double>(in.shape[0]) * static_cast<double>(layer.units) >
        static_cast<double>(kMaxElements)) {
      ctx.error(at, "embedding output has more than 2^40 elements per row");
      return false;
    }
    out = Flow::of(DType::F32, {in.shape[0], layer.units});
    return true;
  }
  if (layer.kind != LayerKind::Flatten && in.dtype == DType::I32) {
    ctx.error(at, fmt::format("{} expects f32 input, got {}; pass ids through "
                              "'embedding' first",
                              name, typed(in)));
    return false;
  }
  switch (layer.kind) {
  case LayerKind::Dense:
    if (in.shape.size() != 1) {
      ctx.error(at, fmt::format("dense expects a flat input of shape [n], got {}; insert "
                                "'flatten' before it",
                                formatShape(in.shape)));
      return false;
    }
    if (!argsOk)
      return false;
    if (static_cast<double>(in.shape[0]) * static_cast<double>(layer.units) >
        static_cast<double>(kMaxElements)) {
      ctx.error(at, fmt::format("dense({}) on [{}] would have more than 2^40 parameters",
                                layer.units, in.shape[0]));
      return false;
    }
    out = Flow::of(DType::F32, {layer.units});
    return true;
  case LayerKind::Flatten:
    out = Flow::of(in.dtype, {elementCount(in.shape)});
    return argsOk;
  case LayerKind::Conv2d:
  case LayerKind::MaxPool:
  case LayerKind::AvgPool:
    return windowShape(ctx, at, name, in, layer, argsOk, out);
  case LayerKind::Gru:
    return inferGru(ctx, at, in, layer, argsOk, out);
  case LayerKind::BatchNorm:
    if (in.shape.size() != 1 && in.shape.size() != 3) {
      ctx.error(
          at,
          fmt::format("batch_norm normalises each channel of features [channels] or of "
                      "an image [channels, height, width], got {}{}",
                      formatShape(in.shape),
                      in.shape.size() == 2 ? "; over a sequence's features, use layer_norm" : ""));
      return false;
    }
    out = in;
    return argsOk;
  default:
    out = in;
    return argsOk;
  }
}

} // namespace

std::optional<LayerKind> layerByName(const std::string &name) {
  for (const LayerSpec &s : specs())
    if (s.name == name)
      return s.kind;
  return std::nullopt;
}

const std::vector<std::string> &layerNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const LayerSpec &s : specs())
      v.push_back(s.name);
    return v;
  }();
  return names;
}

Flow applyLayer(Context &ctx, LayerKind kind, const ast::Expr &step, const Env *env, const Flow &in,
                SourceLoc useLoc, std::vector<Layer> &out) {
  Layer layer;
  layer.kind = kind;
  layer.loc = step.loc;
  layer.useLoc = useLoc;
  bool argsOk = readArgs(ctx, step, env, layer);
  if (!in.known)
    return {};
  Flow result;
  if (!inferShape(ctx, step, in, layer, argsOk, result))
    return {};
  layer.inShape = in.shape;
  layer.outShape = result.shape;
  out.push_back(std::move(layer));
  return result;
}

} // namespace mtl::sema
