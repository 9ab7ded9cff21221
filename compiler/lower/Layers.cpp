// Layers.cpp: model values and the layers of modules, as IR ops.
#include "lower/LowerContext.h"

#include "ir/Random.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace mtl::lower {

using ir::OpKind;
using ir::ValueId;

Lowering::Lowering(const sema::Model &m, LoweredStep &o)
    : model(m), out(o), b(o.graph), values(m.values.size(), -1), visiting(m.values.size()),
      moduleParams(m.modules.size()) {}

void Lowering::error(SourceLoc loc, std::string message) {
  Diagnostic d;
  d.loc = loc;
  d.message = std::move(message);
  out.errors.push_back(std::move(d));
}

ValueId Lowering::stepInput() {
  if (step < 0) {
    SourceLoc saved = b.loc();
    b.setLoc(model.train.loc);
    step = b.input("train.step", ir::TensorType::scalar());
    b.setLoc(saved);
  }
  return step;
}

ValueId Lowering::param(int module, const std::string &name, std::vector<int64_t> shape) {
  ValueId p = b.paramOnce(name, std::move(shape));
  std::vector<ValueId> &mine = moduleParams[static_cast<size_t>(module)];
  if (std::find(mine.begin(), mine.end(), p) == mine.end())
    mine.push_back(p);
  return p;
}

ValueId lowerLayer(Lowering &l, int module, const sema::Layer &layer, ValueId x) {
  ir::Builder &b = l.b;
  b.setLoc(layer.useLoc.valid() ? layer.useLoc : layer.loc);
  const std::string &prefix = layer.paramPrefix;
  int64_t last = layer.inShape.empty() ? 0 : layer.inShape.back();
  switch (layer.kind) {
  case sema::LayerKind::Dense: {
    ValueId w = l.param(module, prefix + ".weight", {layer.units, last});
    if (!layer.bias)
      return b.linear(x, w);
    return b.linear(x, w, l.param(module, prefix + ".bias", {layer.units}));
  }
  case sema::LayerKind::Relu:
    return b.unary(OpKind::Relu, x);
  case sema::LayerKind::LeakyRelu:
    return b.leakyRelu(x, layer.alpha);
  case sema::LayerKind::Gelu:
    return b.unary(OpKind::Gelu, x);
  case sema::LayerKind::Tanh:
    return b.unary(OpKind::Tanh, x);
  case sema::LayerKind::Sigmoid:
    return b.unary(OpKind::Sigmoid, x);
  case sema::LayerKind::Softmax:
    return b.softmax(x);
  case sema::LayerKind::Dropout: {
    if (layer.rate == 0)
      return x;
    // Each dropout layer has its own stream; the run's seed is mixed in at
    // run time (ir::dropoutSeed), so a new seed needs no recompilation.
    uint64_t seed = ir::mix64(l.dropouts++);
    return b.dropout(x, l.stepInput(), layer.rate, seed);
  }
  case sema::LayerKind::LayerNorm: {
    // Normalisation, then PyTorch's elementwise affine: weight (gain) and bias.
    ValueId n = b.layerNorm(x, layer.eps);
    ValueId gain = l.param(module, prefix + ".weight", {last});
    return b.add(b.mul(n, gain), l.param(module, prefix + ".bias", {last}));
  }
  case sema::LayerKind::BatchNorm:
    return lowerBatchNorm(l, module, layer, x);
  case sema::LayerKind::Embedding:
    return b.gather(l.param(module, prefix + ".weight", {layer.vocab, layer.units}), x);
  case sema::LayerKind::Flatten:
    return b.flatten(x);
  case sema::LayerKind::Conv2d: {
    // Each window of the image as a column (im2col: [C k k, OH OW]), then one
    // product with the weight viewed as [out, C k k] on the left, which is
    // the output channels first: [out, OH OW], viewed as [out, OH, OW].
    const int64_t channels = layer.inShape[0], k = layer.kernel;
    ValueId cols = b.window(OpKind::Im2Col, {x}, k, layer.stride, layer.padding);
    ValueId w = b.reshape(l.param(module, prefix + ".weight", {layer.units, channels, k, k}),
                          {layer.units, channels * k * k});
    ValueId y = layer.bias ? b.matmulLeft(w, cols, l.param(module, prefix + ".bias", {layer.units}))
                           : b.matmulLeft(w, cols);
    return b.reshape(y, layer.outShape);
  }
  case sema::LayerKind::MaxPool:
    return b.window(OpKind::MaxPool, {x}, layer.kernel, layer.stride);
  case sema::LayerKind::AvgPool:
    return b.window(OpKind::AvgPool, {x}, layer.kernel, layer.stride);
  case sema::LayerKind::Gru:
    return lowerGru(l, module, layer, x);
  case sema::LayerKind::Learned:   // a Value::Learned, lowered by lowerValue; never applied
  case sema::LayerKind::Attention: // a Value::Attend's, lowered by lowerAttend; never applied
    break;
  }
  l.error(layer.loc, "lowering does not know this layer");
  return -1;
}

std::vector<ValueId> expertValues(Lowering &l, const sema::Value &value,
                                  const std::vector<ValueId> &args, size_t first) {
  std::vector<ValueId> experts;
  for (size_t k = first; k < args.size(); ++k) {
    const sema::Shape &s = l.model.values[size_t(value.args[k])].shape;
    if (s.size() != 2) {
      experts.push_back(args[k]);
      continue;
    }
    ValueId flat = l.b.flatten(args[k]);
    for (int64_t j = 0; j < s[0]; ++j)
      experts.push_back(l.b.slice(flat, j * s[1], s[1]));
  }
  return experts;
}

namespace {

/// A value that combines others (sema::Value's combining kinds).
ValueId lowerCombination(Lowering &l, const sema::Value &value) {
  std::vector<ValueId> args;
  for (int a : value.args) {
    args.push_back(lowerValue(l, a));
    if (args.back() < 0)
      return -1;
  }
  ir::Builder &b = l.b;
  b.setLoc(value.loc);
  switch (value.kind) {
  case sema::Value::Add:
    return b.add(args[0], args[1]);
  case sema::Value::Sub:
    return b.sub(args[0], args[1]);
  case sema::Value::Mul:
    return b.mul(args[0], args[1]);
  case sema::Value::Scale:
    return b.scale(args[0], value.factor);
  case sema::Value::Concat:
    return b.concat(args);
  case sema::Value::Stack: { // the parts side by side, viewed as [count, part shape]
    std::vector<ValueId> flat;
    for (size_t k = 0; k < args.size(); ++k)
      flat.push_back(l.model.values[size_t(value.args[k])].shape.size() > 1 ? b.flatten(args[k])
                                                                            : args[k]);
    return b.reshape(flat.size() == 1 ? flat[0] : b.concat(flat), value.shape);
  }
  case sema::Value::Attend:
    return lowerAttend(l, value, args);
  case sema::Value::Select: { // row `index` of the stack, its elements a slice of the row
    const int64_t size = sema::elementCount(value.shape);
    ValueId row = b.slice(b.flatten(args[0]), value.index * size, size);
    return value.shape.size() > 1 ? b.reshape(row, value.shape) : row;
  }
  case sema::Value::Mix: { // Σ_j gate[:, j] * expert_j, the gate's column spread over a row
    const int64_t width = value.shape.empty() ? 1 : value.shape.back();
    std::vector<ValueId> experts = expertValues(l, value, args, 1);
    ValueId sum = -1;
    for (size_t j = 0; j < experts.size(); ++j) {
      ValueId weight = b.reduceSum(b.slice(args[0], int64_t(j), 1), ir::ReduceAxis::Last);
      ValueId term = b.mul(b.expandLast(weight, width), experts[j]);
      sum = sum < 0 ? term : b.add(sum, term);
    }
    // Telemetry: lowerModel settles the probe's task and a unique name.
    ir::GateProbe probe{args[0], -1, value.argTexts.empty() ? "gate" : value.argTexts[0], {}};
    for (size_t j = 0; j < experts.size(); ++j)
      probe.experts.push_back(j + 1 < value.argTexts.size() ? value.argTexts[j + 1]
                                                            : fmt::format("expert{}", j + 1));
    l.out.signature.gates.push_back(std::move(probe));
    l.mixes.push_back(sum);
    return sum;
  }
  case sema::Value::InputRef:
  case sema::Value::Apply:
  case sema::Value::Learned:
    break;
  }
  l.error(l.model.loc, "internal: lowerCombination takes combining values only");
  return -1;
}

/// Lowers value `v` itself; what it reads, lowerValue has lowered already (or
/// it fails, and `v` with it).
ValueId lowerOne(Lowering &l, int v) {
  const sema::Model &m = l.model;
  if (v < 0 || static_cast<size_t>(v) >= m.values.size()) {
    l.error(m.loc, fmt::format("internal: value {} does not exist", v));
    return -1;
  }
  if (l.values[v] >= 0)
    return l.values[v];
  if (l.visiting[v]) {
    l.error(m.loc, fmt::format("internal: value {} depends on itself", v));
    return -1;
  }
  const sema::Value &value = m.values[v];
  if (value.kind == sema::Value::InputRef) {
    if (value.input < 0 || static_cast<size_t>(value.input) >= m.inputs.size()) {
      l.error(m.loc, fmt::format("internal: value {} reads a missing input", v));
      return -1;
    }
    return l.values[v] = l.out.signature.inputs[value.input];
  }
  if (value.kind == sema::Value::Learned) { // its weight, [k] for every row alike
    const sema::Layer &layer = m.modules[size_t(value.module)].layers.front();
    return l.values[v] = l.param(value.module, layer.paramPrefix + ".weight", layer.outShape);
  }
  if (value.kind != sema::Value::Apply) {
    l.visiting[v] = true;
    ValueId x = lowerCombination(l, value);
    l.visiting[v] = false;
    return l.values[v] = x;
  }
  if (value.module < 0 || static_cast<size_t>(value.module) >= m.modules.size()) {
    l.error(m.loc, fmt::format("internal: value {} applies a missing module", v));
    return -1;
  }
  l.visiting[v] = true;
  ValueId x = lowerValue(l, value.arg);
  for (const sema::Layer &layer : m.modules[value.module].layers) {
    if (x < 0)
      break;
    x = lowerLayer(l, value.module, layer, x);
  }
  l.visiting[v] = false;
  return l.values[v] = x;
}

/// The i-th value `value` reads, in the order lowerOne reads them; none past the last.
std::optional<int> operand(const sema::Value &value, size_t i) {
  switch (value.kind) {
  case sema::Value::InputRef:
  case sema::Value::Learned:
    return std::nullopt;
  case sema::Value::Apply:
    return i == 0 ? std::optional<int>(value.arg) : std::nullopt;
  case sema::Value::Add:
  case sema::Value::Sub:
  case sema::Value::Mul:
  case sema::Value::Scale:
  case sema::Value::Concat:
  case sema::Value::Mix:
  case sema::Value::Stack:
  case sema::Value::Select:
  case sema::Value::Attend:
    break;
  }
  return i < value.args.size() ? std::optional<int>(value.args[i]) : std::nullopt;
}

} // namespace

ValueId lowerValue(Lowering &l, int v) {
  const std::vector<sema::Value> &values = l.model.values;
  const auto unlowered = [&](int u) {
    return u >= 0 && static_cast<size_t>(u) < values.size() && l.values[u] < 0;
  };
  // What `v` reads is lowered first, deepest first and in the order lowerOne reads
  // it (so the IR's ops come in the same order), in a loop: a chain of values
  // (shared s1 = s0 -> relu, s2 = s1 -> relu, ...) as long as a model may have
  // must not take one nested call per link. A cycle, which sema rules out, would
  // outgrow the stack's bound; lowerOne reports it.
  std::vector<std::pair<int, size_t>> stack; // a value and the next of its operands
  if (unlowered(v))
    stack.emplace_back(v, 0);
  while (!stack.empty() && stack.size() <= values.size()) {
    const int u = stack.back().first;
    if (std::optional<int> w = operand(values[u], stack.back().second++)) {
      if (unlowered(*w))
        stack.emplace_back(*w, 0);
      continue;
    }
    stack.pop_back();
    if (u != v && lowerOne(l, u) < 0)
      return -1;
  }
  return lowerOne(l, v);
}

} // namespace mtl::lower
