// Model.cpp: small queries on the checked model (sizes, names, shapes).
#include "sema/Model.h"

#include <fmt/format.h>

namespace mtl::sema {

int64_t elementCount(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string formatShape(const Shape &shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

const char *layerName(LayerKind kind) {
  switch (kind) {
  case LayerKind::Dense:
    return "dense";
  case LayerKind::Relu:
    return "relu";
  case LayerKind::LeakyRelu:
    return "leaky_relu";
  case LayerKind::Gelu:
    return "gelu";
  case LayerKind::Tanh:
    return "tanh";
  case LayerKind::Sigmoid:
    return "sigmoid";
  case LayerKind::Softmax:
    return "softmax";
  case LayerKind::Dropout:
    return "dropout";
  case LayerKind::LayerNorm:
    return "layer_norm";
  case LayerKind::BatchNorm:
    return "batch_norm";
  case LayerKind::Embedding:
    return "embedding";
  case LayerKind::Conv2d:
    return "conv2d";
  case LayerKind::MaxPool:
    return "max_pool";
  case LayerKind::AvgPool:
    return "avg_pool";
  case LayerKind::Flatten:
    return "flatten";
  case LayerKind::Gru:
    return "gru";
  case LayerKind::Learned:
    return "learned";
  case LayerKind::Attention:
    return "attend";
  }
  return "?";
}

const char *taskKindName(TaskKind kind) {
  switch (kind) {
  case TaskKind::Regress:
    return "regress";
  case TaskKind::Binary:
    return "binary";
  case TaskKind::Classify:
    return "classify";
  case TaskKind::Multilabel:
    return "multilabel";
  }
  return "?";
}

std::string taskKindText(const Task &t) {
  switch (t.kind) {
  case TaskKind::Regress:
    return fmt::format("regress({})", t.width);
  case TaskKind::Classify:
    return fmt::format("classify({})", t.classes);
  case TaskKind::Multilabel:
    return fmt::format("multilabel({})", t.width);
  case TaskKind::Binary:
    break;
  }
  return "binary";
}

const char *lossName(Loss loss) {
  switch (loss) {
  case Loss::Mse:
    return "mse";
  case Loss::Mae:
    return "mae";
  case Loss::Huber:
    return "huber";
  case Loss::Bce:
    return "bce";
  case Loss::CrossEntropy:
    return "cross_entropy";
  }
  return "?";
}

bool higherIsBetter(std::string_view monitored) {
  return monitored != "loss" && monitored != metricName(Metric::Mse) &&
         monitored != metricName(Metric::Mae);
}

const char *metricName(Metric metric) {
  switch (metric) {
  case Metric::Accuracy:
    return "accuracy";
  case Metric::Precision:
    return "precision";
  case Metric::Recall:
    return "recall";
  case Metric::F1:
    return "f1";
  case Metric::MacroF1:
    return "macro_f1";
  case Metric::Auc:
    return "auc";
  case Metric::Mse:
    return "mse";
  case Metric::Mae:
    return "mae";
  case Metric::R2:
    return "r2";
  }
  return "?";
}

int64_t Layer::paramCount() const {
  switch (kind) {
  case LayerKind::Dense:
    return units * elementCount(inShape) + (bias ? units : 0);
  case LayerKind::LayerNorm:
    return inShape.empty() ? 0 : 2 * inShape.back();
  case LayerKind::BatchNorm: // weight and bias per channel (the running statistics are not trained)
    return inShape.empty() ? 0 : 2 * inShape.front();
  case LayerKind::Embedding:
    return vocab * units;
  case LayerKind::Conv2d:
    return inShape.empty() ? 0 : units * inShape[0] * kernel * kernel + (bias ? units : 0);
  case LayerKind::Gru: // weight_ih [3H, F], weight_hh [3H, H], bias_ih and bias_hh [3H]
    return 3 * units * ((inShape.empty() ? 0 : inShape.back()) + units + 2);
  case LayerKind::Learned:
    return static_cast<int64_t>(values.size());
  case LayerKind::Attention: // query and output [E, E], key and value [E, n], biases 3E + E
    return 2 * units * units + 2 * units * (inShape.empty() ? 0 : inShape.back()) + 4 * units;
  default:
    return 0;
  }
}

int64_t Module::paramCount() const {
  int64_t n = 0;
  for (const Layer &l : layers)
    n += l.paramCount();
  return n;
}

int64_t Model::paramCount() const {
  int64_t n = 0;
  for (const Module &m : modules)
    n += m.paramCount();
  return n;
}

} // namespace mtl::sema
