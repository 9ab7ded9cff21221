// Autodiff.cpp: the reverse sweep. It marks the ops between the wanted
// parameters and the loss, then walks the op list backwards, summing each
// value's gradient terms and asking the per-kind rules (Adjoints.cpp) for the
// terms of its operands.
#include "autodiff/Autodiff.h"

#include "autodiff/Adjoints.h"
#include "ir/Builder.h"
#include "ir/Verifier.h"

#include <fmt/format.h>

namespace mtl::autodiff {

using ir::OpKind;
using ir::ValueId;

std::optional<ValueId> Gradients::of(ValueId param) const {
  for (const auto &[p, g] : params)
    if (p == param)
      return g;
  return std::nullopt;
}

namespace {

Diagnostic makeError(SourceLoc loc, std::string message) {
  Diagnostic d;
  d.loc = loc;
  d.message = std::move(message);
  return d;
}

/// needed[v]: v depends on a wanted parameter and the loss depends on v.
std::vector<bool> markNeeded(const ir::Graph &g, ValueId loss, const std::vector<ValueId> &wrt) {
  size_t n = static_cast<size_t>(loss) + 1;
  std::vector<bool> fromParam(n, false), toLoss(n, false), needed(n, false);
  for (ValueId p : wrt)
    if (p < static_cast<ValueId>(n))
      fromParam[p] = true;
  for (size_t v = 0; v < n; ++v)
    for (ValueId o : g.ops()[v].operands)
      if (fromParam[o] && g.type(static_cast<ValueId>(v)).dtype == ir::DType::F32)
        fromParam[v] = true;
  toLoss[loss] = true;
  for (size_t v = n; v-- > 0;)
    if (toLoss[v])
      for (ValueId o : g.ops()[v].operands)
        toLoss[o] = true;
  for (size_t v = 0; v < n; ++v)
    needed[v] = fromParam[v] && toLoss[v];
  return needed;
}

} // namespace

namespace {

/// Checks that `loss` is an f32 scalar of a valid graph; the errors otherwise.
std::vector<Diagnostic> checkLoss(const ir::Graph &graph, ValueId loss) {
  std::vector<Diagnostic> errors = ir::verify(graph);
  if (errors.empty() && (!graph.contains(loss) || !graph.type(loss).isScalar() ||
                         graph.type(loss).dtype != ir::DType::F32))
    errors.push_back(makeError({}, fmt::format("the loss %{} is not an f32 scalar", loss)));
  return errors;
}

/// The reverse sweep from `loss`: (v, d loss / d v) for each v of `wrt` that
/// the loss depends on, in the order the sweep reaches them.
std::vector<std::pair<ValueId, ValueId>> sweep(ir::Graph &graph, ValueId loss,
                                               const std::vector<ValueId> &wrt,
                                               std::vector<Diagnostic> &errors) {
  std::vector<bool> needed = markNeeded(graph, loss, wrt);
  std::vector<bool> isWrt(static_cast<size_t>(loss) + 1, false);
  for (ValueId v : wrt)
    if (v <= loss)
      isWrt[v] = true;
  std::vector<std::vector<ValueId>> terms(static_cast<size_t>(loss) + 1);
  ir::Builder b(graph);
  b.setLoc(graph.op(loss).loc);
  terms[loss].push_back(b.constant(1.0));
  std::vector<std::pair<ValueId, ValueId>> found;

  for (ValueId v = loss; v >= 0; --v) {
    if (!needed[v] || terms[v].empty())
      continue;
    // The backward ops of an op point at the same source as the op.
    b.setLoc(graph.op(v).loc);
    ValueId grad = terms[v][0];
    for (size_t k = 1; k < terms[v].size(); ++k)
      grad = b.add(grad, terms[v][k]);
    if (isWrt[v])
      found.emplace_back(v, grad);
    const std::vector<ValueId> operands = graph.op(v).operands;
    std::vector<bool> wanted(operands.size());
    bool any = false;
    for (size_t k = 0; k < operands.size(); ++k) {
      wanted[k] = needed[operands[k]];
      any = any || wanted[k];
    }
    if (!any) // a wanted value that no other wanted value lies below
      continue;
    AdjointTerms adj = adjoint(b, v, grad, wanted);
    if (!adj.error.empty()) {
      errors.push_back(makeError(graph.op(v).loc, adj.error));
      continue;
    }
    for (auto [k, term] : adj.terms)
      terms[operands[k]].push_back(term);
  }
  return found;
}

} // namespace

Gradients differentiate(ir::Graph &graph, ValueId loss, std::vector<ValueId> wrt,
                        const std::string &prefix) {
  Gradients result;
  result.errors = checkLoss(graph, loss);
  if (!result.ok())
    return result;
  if (wrt.empty())
    wrt = graph.params();
  for (ValueId p : wrt)
    if (!graph.contains(p) || graph.op(p).kind != OpKind::Param) {
      result.errors.push_back(makeError({}, fmt::format("%{} is not a parameter", p)));
      return result;
    }
  std::vector<std::pair<ValueId, ValueId>> found = sweep(graph, loss, wrt, result.errors);
  if (!result.ok())
    return result;
  // Report in parameter definition order, whatever the order of `wrt`.
  for (ValueId p : graph.params())
    for (auto [param, grad] : found)
      if (param == p) {
        result.params.emplace_back(p, grad);
        graph.setResult(prefix + graph.op(p).name, grad);
      }
  return result;
}

std::vector<std::optional<ValueId>> differentiateValues(ir::Graph &graph, ValueId loss,
                                                        const std::vector<ValueId> &values,
                                                        std::vector<Diagnostic> &errors) {
  errors = checkLoss(graph, loss);
  for (ValueId v : values)
    if (errors.empty() && (!graph.contains(v) || graph.type(v).dtype != ir::DType::F32))
      errors.push_back(makeError({}, fmt::format("%{} is not an f32 value", v)));
  if (!errors.empty())
    return {};
  std::vector<std::pair<ValueId, ValueId>> found = sweep(graph, loss, values, errors);
  std::vector<std::optional<ValueId>> out;
  for (ValueId v : values) {
    out.emplace_back();
    for (auto [value, grad] : found)
      if (value == v)
        out.back() = grad;
  }
  return out;
}

} // namespace mtl::autodiff
