// CmdShapes.cpp: `mtlc shapes FILE`: every block, head and task with shapes and sizes.
#include "driver/Commands.h"
#include "driver/Shapes.h"
#include "driver/Terminal.h"

#include <fmt/format.h>

#include <set>

namespace mtl::driver {
namespace {

std::string layerCall(const sema::Layer &l) {
  using K = sema::LayerKind;
  switch (l.kind) {
  case K::Dense:
    return l.bias ? fmt::format("dense({})", l.units)
                  : fmt::format("dense({}, bias = false)", l.units);
  case K::LeakyRelu:
    return fmt::format("leaky_relu({:g})", l.alpha);
  case K::Dropout:
    return fmt::format("dropout({:g})", l.rate);
  case K::Embedding:
    return fmt::format("embedding({}, {})", l.vocab, l.units);
  case K::Conv2d: // the arguments that differ from their defaults
    return fmt::format("conv2d({}, {}{}{}{})", l.units, l.kernel,
                       l.stride != 1 ? fmt::format(", stride = {}", l.stride) : "",
                       l.padding ? fmt::format(", padding = {}", l.padding) : "",
                       l.bias ? "" : ", bias = false");
  case K::MaxPool:
  case K::AvgPool:
    return fmt::format("{}({}{})", sema::layerName(l.kind), l.kernel,
                       l.stride != l.kernel ? fmt::format(", stride = {}", l.stride) : "");
  case K::Gru:
    return fmt::format("gru({})", l.units);
  case K::Learned:
    return fmt::format("learned({:g})", fmt::join(l.values, ", "));
  case K::Attention:
    return l.heads == 1 ? "attend" : fmt::format("attend(heads = {})", l.heads);
  default:
    return sema::layerName(l.kind);
  }
}

void printModule(const sema::Module &m) {
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const sema::Layer &l = m.layers[i];
    std::string params = l.paramCount() ? fmt::format("{}", l.paramCount()) : "";
    fmt::print("    {:<20} {:<28} {:>14} -> {:<14} {:>10}\n",
               l.paramPrefix.empty() ? fmt::format("{}.{}", m.name, i) : l.paramPrefix,
               layerCall(l), sema::formatShape(l.inShape), sema::formatShape(l.outShape), params);
  }
}

// Whether a path names `v` by its shared value: a combination that is one.
bool isNamedCombination(const sema::Value &v) {
  return !v.sharedName.empty() && v.kind != sema::Value::InputRef && v.kind != sema::Value::Apply;
}

// About how many characters of a task's path `mtlc shapes` prints.
constexpr size_t kPathBudget = 300;

// A module as a path names it: by its owner, or by the position its layers
// are nested under when it was built inside a combination ("experts.0").
std::string moduleLabel(const sema::Module &m) {
  if (m.layers.empty())
    return m.name;
  const std::string &prefix = m.layers.front().paramPrefix;
  std::string label = prefix.substr(0, prefix.rfind('.'));
  return label.size() > m.name.size() ? label : m.name;
}

// The modules a value passes through, from its inputs to the value itself,
// with the values it combines written as in .mtl and a shared value that
// combines others by its name (but `value` itself when `expand`); about
// `budget` characters at most, the rest "..." (the values of a deep DAG,
// PLE's, would repeat exponentially).
std::string path(const sema::Model &model, int value, size_t budget, bool expand = false) {
  const sema::Value &v = model.values[value];
  if (budget == 0)
    return "...";
  if (!expand && isNamedCombination(v))
    return v.sharedName;
  // Operands of an operator that hold a chain are put in parentheses.
  const bool op = v.kind != sema::Value::Concat && v.kind != sema::Value::Mix &&
                  v.kind != sema::Value::Stack && v.kind != sema::Value::Attend &&
                  v.kind != sema::Value::Select;
  auto args = [&](const char *sep) {
    std::string joined;
    for (size_t k = 0; k < v.args.size(); ++k) {
      if (k)
        joined += sep;
      if (joined.size() >= budget) {
        joined += "...";
        break;
      }
      std::string p = path(model, v.args[k], budget - joined.size());
      joined += op && p.find(" -> ") != std::string::npos ? "(" + p + ")" : p;
    }
    return joined;
  };
  switch (v.kind) {
  case sema::Value::InputRef:
    return model.inputs[v.input].name;
  case sema::Value::Apply: {
    const std::string label = moduleLabel(model.modules[v.module]);
    return path(model, v.arg, budget > label.size() ? budget - label.size() : 0) + " -> " + label;
  }
  case sema::Value::Add:
    return "(" + args(" + ") + ")";
  case sema::Value::Sub:
    return "(" + args(" - ") + ")";
  case sema::Value::Mul:
    return "(" + args(" * ") + ")";
  case sema::Value::Scale:
    return fmt::format("{:g} * {}", v.factor, args(""));
  case sema::Value::Concat:
    return "concat(" + args(", ") + ")";
  case sema::Value::Mix:
    return "mix(" + args(", ") + ")";
  case sema::Value::Stack:
    return "stack(" + args(", ") + ")";
  case sema::Value::Select:
    return fmt::format("select({}, {})", args(""), v.index);
  case sema::Value::Learned:
    return layerCall(model.modules[size_t(v.module)].layers.front());
  case sema::Value::Attend:
    return "attend(" + args(", ") + ")";
  }
  return "?";
}

} // namespace

void printModelShapes(const sema::Model &m) {
  fmt::print("model {}\n", m.name);
  fmt::print("  inputs\n");
  for (const sema::Input &in : m.inputs)
    fmt::print("    {:<20} {}{}\n", in.name, in.dtype == sema::DType::F32 ? "f32" : "i32",
               sema::formatShape(in.shape));
  // A shared value that combines others: what it computes (one line per
  // reading task when it is built per task).
  auto values = [&](const std::string &name) {
    for (size_t v = 0; v < m.values.size(); ++v)
      if (isNamedCombination(m.values[v]) && m.values[v].sharedName == name)
        fmt::print("    value: {}\n", path(m, int(v), kPathBudget, true));
  };
  // A shared block's modules (its copies in a repeat, its parts around a
  // combination) under one heading, in the order they were first made.
  std::set<std::string> headed;
  std::vector<bool> printed(m.modules.size(), false);
  for (size_t i = 0; i < m.modules.size(); ++i) {
    const sema::Module &mod = m.modules[i];
    if (!mod.shared || printed[i])
      continue;
    auto same = [&](const sema::Module &o) { return o.shared && o.name == mod.name; };
    int64_t params = 0;
    for (const sema::Module &o : m.modules)
      params += same(o) ? o.paramCount() : 0;
    fmt::print("  shared {}{}  ({} parameters)\n", mod.name,
               mod.softGroup >= 0 ? " (soft copy)" : "", params);
    headed.insert(mod.name);
    values(mod.name);
    for (size_t k = i; k < m.modules.size(); ++k)
      if (same(m.modules[k])) {
        printModule(m.modules[k]);
        printed[k] = true;
      }
  }
  // Shared values that only combine others (`concat(a, b)`), with no layers.
  for (const sema::Value &v : m.values)
    if (isNamedCombination(v) && headed.insert(v.sharedName).second) {
      fmt::print("  shared {}  (0 parameters)\n", v.sharedName);
      values(v.sharedName);
    }
  for (const sema::Task &t : m.tasks) {
    std::vector<std::string> metrics;
    for (sema::Metric x : t.metrics)
      metrics.push_back(sema::metricName(x));
    fmt::print("  task {} : {}{}  loss {}  weight {:g}  metrics {}\n", t.name,
               sema::taskKindText(t), t.auxiliary ? " auxiliary" : "", sema::lossName(t.loss),
               t.weight, fmt::join(metrics, ", "));
    fmt::print("    path: {}  output {}\n", path(m, t.head, kPathBudget),
               sema::formatShape(m.values[t.head].shape));
    for (const sema::Module &mod : m.modules)
      if (!mod.shared && mod.name == t.name)
        printModule(mod);
  }
  fmt::print("  total parameters: {}\n", m.paramCount());
}

void addShapesCommand(CLI::App &app, const GlobalOptions &global, int &status) {
  auto file = std::make_shared<std::string>();
  CLI::App *cmd = app.add_subcommand(
      "shapes", "Print every block, head and task with tensor shapes and parameter counts");
  cmd->add_option("file", *file, ".mtl file")->required();
  cmd->callback([file, &global, &status] {
    Checked c;
    PipelineOptions options;
    options.verbose = global.verbose;
    bool ok = runFront(*file, Stage::Check, c, options);
    c.diags.flush(stderr, useColor(global.color, stderr));
    if (!ok) {
      status = 1;
      return;
    }
    for (const sema::Model &m : c.models)
      printModelShapes(m);
  });
}

} // namespace mtl::driver
