// Penalties.cpp: the regularisation terms of the total loss: l1/l2 over module
// parameters and the soft-sharing pull of task copies towards their mean.
#include "lower/LowerContext.h"

#include <fmt/format.h>

#include <algorithm>

namespace mtl::lower {

using ir::OpKind;
using ir::ValueId;

ValueId lowerRegularizer(Lowering &l, const sema::Regularizer &reg) {
  ir::Builder &b = l.b;
  b.setLoc(reg.loc);
  std::vector<int> modules = reg.modules;
  if (modules.empty())
    for (size_t m = 0; m < l.model.modules.size(); ++m)
      modules.push_back(static_cast<int>(m));
  // A module listed twice, or two modules sharing parameters, count once.
  std::vector<ValueId> params;
  for (int m : modules) {
    if (m < 0 || static_cast<size_t>(m) >= l.moduleParams.size()) {
      l.error(reg.loc, fmt::format("internal: regularizer names missing module {}", m));
      return -1;
    }
    for (ValueId p : l.moduleParams[m])
      if (std::find(params.begin(), params.end(), p) == params.end())
        params.push_back(p);
  }
  ValueId sum = -1;
  OpKind kind = reg.kind == sema::Regularizer::L1 ? OpKind::Abs : OpKind::Square;
  for (ValueId p : params) {
    ValueId term = b.reduceSum(b.unary(kind, p));
    sum = sum < 0 ? term : b.add(sum, term);
  }
  return sum < 0 ? -1 : b.scale(sum, reg.lambda);
}

ValueId lowerSoftGroup(Lowering &l, const sema::SoftGroup &group) {
  ir::Builder &b = l.b;
  b.setLoc(group.loc);
  // Each task's copy is the group's modules of one name (a value that
  // combines others has several: `(x -> dense(3)) * 2 -> dense(2)`), made in
  // the same order for every task, so their parameters correspond by position.
  std::vector<std::string> names;
  std::vector<std::vector<ValueId>> params;
  for (int m : group.modules) {
    if (m < 0 || static_cast<size_t>(m) >= l.moduleParams.size()) {
      l.error(group.loc, fmt::format("internal: soft group names missing module {}", m));
      return -1;
    }
    const std::string &name = l.model.modules[size_t(m)].name;
    auto at = std::find(names.begin(), names.end(), name);
    if (at == names.end()) {
      names.push_back(name);
      params.emplace_back();
      at = names.end() - 1;
    }
    std::vector<ValueId> &copy = params[size_t(at - names.begin())];
    copy.insert(copy.end(), l.moduleParams[size_t(m)].begin(), l.moduleParams[size_t(m)].end());
  }
  std::vector<const std::vector<ValueId> *> copies;
  for (const std::vector<ValueId> &c : params)
    if (!c.empty())
      copies.push_back(&c);
  if (copies.size() < 2)
    return -1;
  const std::vector<ValueId> &first = *copies[0];
  for (const std::vector<ValueId> *c : copies) {
    bool same = c->size() == first.size();
    for (size_t k = 0; same && k < c->size(); ++k)
      same = l.out.graph.type((*c)[k]) == l.out.graph.type(first[k]);
    if (!same) {
      l.error(group.loc, fmt::format("internal: the copies of '{}' differ", group.block));
      return -1;
    }
  }
  ValueId total = -1;
  double inv = 1.0 / static_cast<double>(copies.size());
  for (size_t k = 0; k < first.size(); ++k) {
    ValueId sum = (*copies[0])[k];
    for (size_t t = 1; t < copies.size(); ++t)
      sum = b.add(sum, (*copies[t])[k]);
    ValueId mean = b.scale(sum, inv);
    for (const std::vector<ValueId> *c : copies) {
      ValueId term = b.reduceSum(b.unary(OpKind::Square, b.sub((*c)[k], mean)));
      total = total < 0 ? term : b.add(total, term);
    }
  }
  return b.scale(total, group.lambda);
}

} // namespace mtl::lower
