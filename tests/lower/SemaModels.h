// SemaModels.h: hand-built sema::Model parts for the lowering tests, and
// gradient-check cases of their lowered steps.
#pragma once

#include "../autodiff/GradCheck.h"
#include "lower/Lower.h"

namespace mtl::test {

inline sema::Layer layer(sema::LayerKind kind, std::string prefix, sema::Shape in,
                         sema::Shape out) {
  sema::Layer l;
  l.kind = kind;
  l.paramPrefix = std::move(prefix);
  l.inShape = std::move(in);
  l.outShape = std::move(out);
  l.loc = {0, 5, 3, 4};
  return l;
}

inline sema::Layer dense(std::string prefix, int64_t in, int64_t units) {
  sema::Layer l = layer(sema::LayerKind::Dense, std::move(prefix), {in}, {units});
  l.units = units;
  return l;
}

inline sema::Value apply(int module, int arg, sema::Shape shape) {
  sema::Value v;
  v.kind = sema::Value::Apply;
  v.module = module;
  v.arg = arg;
  v.shape = std::move(shape);
  return v;
}

inline sema::Value inputRef(int input, sema::Shape shape) {
  sema::Value v;
  v.input = input;
  v.shape = std::move(shape);
  return v;
}

inline sema::Task task(std::string name, sema::TaskKind kind, int64_t width, int head,
                       sema::Loss loss, double weight) {
  sema::Task t;
  t.name = std::move(name);
  t.kind = kind;
  t.width = width;
  t.classes = kind == sema::TaskKind::Classify ? width : 0;
  t.head = head;
  t.loss = loss;
  t.weight = weight;
  return t;
}

/// Feeds for a lowered step: random inputs and parameters, given targets,
/// the model's static weights and a step number.
inline gradcheck::Case caseFor(const sema::Model &m, lower::LoweredStep &step, int64_t batch) {
  gradcheck::Case c;
  c.batch = batch;
  c.graph = step.graph;
  c.loss = step.signature.loss;
  for (const sema::Task &t : m.tasks)
    c.feeds["weight." + t.name] = {t.weight};
  if (step.signature.step >= 0)
    c.feeds["train.step"] = {3};
  return c;
}

} // namespace mtl::test
