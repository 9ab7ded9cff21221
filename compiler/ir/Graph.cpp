// Graph.cpp: op storage, named leaves and named results.
#include "ir/Graph.h"

namespace mtl::ir {

ValueId Graph::append(Op op) {
  ops_.push_back(std::move(op));
  return static_cast<ValueId>(ops_.size() - 1);
}

std::optional<ValueId> Graph::findNamed(OpKind kind, std::string_view name) const {
  for (size_t i = 0; i < ops_.size(); ++i)
    if (ops_[i].kind == kind && ops_[i].name == name)
      return static_cast<ValueId>(i);
  return std::nullopt;
}

std::optional<ValueId> Graph::findInput(std::string_view name) const {
  return findNamed(OpKind::Input, name);
}

std::optional<ValueId> Graph::findParam(std::string_view name) const {
  return findNamed(OpKind::Param, name);
}

std::optional<ValueId> Graph::findBuffer(std::string_view name) const {
  return findNamed(OpKind::Buffer, name);
}

std::vector<ValueId> Graph::ofKind(OpKind kind) const {
  std::vector<ValueId> ids;
  for (size_t i = 0; i < ops_.size(); ++i)
    if (ops_[i].kind == kind)
      ids.push_back(static_cast<ValueId>(i));
  return ids;
}

std::vector<ValueId> Graph::params() const { return ofKind(OpKind::Param); }

std::vector<ValueId> Graph::buffers() const { return ofKind(OpKind::Buffer); }

std::vector<ValueId> Graph::inputs() const { return ofKind(OpKind::Input); }

void Graph::setResult(std::string name, ValueId id) {
  for (auto &[n, v] : results_)
    if (n == name) {
      v = id;
      return;
    }
  results_.emplace_back(std::move(name), id);
}

std::optional<ValueId> Graph::result(std::string_view name) const {
  for (const auto &[n, v] : results_)
    if (n == name)
      return v;
  return std::nullopt;
}

} // namespace mtl::ir
