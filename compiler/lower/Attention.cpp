// Attention.cpp: attend(query, e1, ..., ek, heads = H) as
// torch.nn.MultiheadAttention(E, H, kdim = n, vdim = n) with one query:
//   q = query Wq^T + bq,  k_j = e_j Wk^T + bk,  v_j = e_j Wv^T + bv   ([E] each)
//   per head h (width d = E / H): a_h = softmax_j(q_h · k_j,h / sqrt(d)),
//   o_h = Σ_j a_h,j v_j,h;  out = concat_h(o_h) Wo^T + bo.
// Parameters as torch names them: in_proj_weight [3E, E] (q, k, v stacked)
// when the experts are E wide, else q_proj_weight [E, E], k_proj_weight and
// v_proj_weight [E, n]; in_proj_bias [3E]; out_proj.weight [E, E] and
// out_proj.bias [E]. Each head's weights a_h are a gate probe (telemetry).
#include "lower/LowerContext.h"

#include <cmath>
#include <fmt/format.h>

namespace mtl::lower {

using ir::ValueId;

ValueId lowerAttend(Lowering &l, const sema::Value &value, const std::vector<ValueId> &args) {
  ir::Builder &b = l.b;
  const int m = value.module;
  const sema::Layer &layer = l.model.modules[size_t(m)].layers.front();
  const int64_t E = layer.units, n = layer.inShape.back(), H = layer.heads, d = E / H;
  const std::string &p = layer.paramPrefix;
  ValueId wq, wk, wv;
  if (n == E) {
    ValueId packed = b.reshape(l.param(m, p + ".in_proj_weight", {3 * E, E}), {3 * E * E});
    auto part = [&](int64_t i) { return b.reshape(b.slice(packed, i * E * E, E * E), {E, E}); };
    wq = part(0), wk = part(1), wv = part(2);
  } else {
    wq = l.param(m, p + ".q_proj_weight", {E, E});
    wk = l.param(m, p + ".k_proj_weight", {E, n});
    wv = l.param(m, p + ".v_proj_weight", {E, n});
  }
  ValueId bias = l.param(m, p + ".in_proj_bias", {3 * E});
  ValueId q = b.linear(args[0], wq, b.slice(bias, 0, E));
  std::vector<ValueId> keys, values;
  for (ValueId e : expertValues(l, value, args, 1)) {
    keys.push_back(b.linear(e, wk, b.slice(bias, E, E)));
    values.push_back(b.linear(e, wv, b.slice(bias, 2 * E, E)));
  }
  auto head = [&](ValueId x, int64_t h) { return H == 1 ? x : b.slice(x, h * d, d); };
  std::vector<ValueId> heads, weights;
  for (int64_t h = 0; h < H; ++h) {
    std::vector<ValueId> scores; // q_h · k_j,h per row, as [1] to line up in a row
    for (ValueId k : keys)
      scores.push_back(
          b.reshape(b.reduceSum(b.mul(head(q, h), head(k, h)), ir::ReduceAxis::Last), {1}));
    ValueId a = b.softmax(b.scale(b.concat(scores), 1 / std::sqrt(double(d))));
    ValueId o = -1;
    for (size_t j = 0; j < values.size(); ++j) {
      ValueId w = b.reduceSum(b.slice(a, int64_t(j), 1), ir::ReduceAxis::Last);
      ValueId term = b.mul(b.expandLast(w, d), head(values[j], h));
      o = o < 0 ? term : b.add(o, term);
    }
    heads.push_back(o);
    weights.push_back(a);
  }
  ValueId out =
      b.linear(H == 1 ? heads[0] : b.concat(heads), l.param(m, p + ".out_proj.weight", {E, E}),
               l.param(m, p + ".out_proj.bias", {E}));
  // Telemetry: lowerModel settles each probe's task and a unique name.
  const std::string &name = value.argTexts.front();
  for (int64_t h = 0; h < H; ++h) {
    ir::GateProbe probe{weights[size_t(h)],
                        -1,
                        H == 1 ? name : fmt::format("{}.head{}", name, h),
                        {value.argTexts.begin() + 1, value.argTexts.end()}};
    l.out.signature.gates.push_back(std::move(probe));
    l.mixes.push_back(out);
  }
  return out;
}

} // namespace mtl::lower
