// Experts.cpp: the values that weigh experts: mix(gate, e1, ..., ek) with a
// gate that is a value or learned(w1, ..., wk), and attend(query, e1, ...,
// heads = H), multi-head attention of a query over the experts.
#include "sema/Combining.h"

#include "frontend/ExprText.h"
#include "sema/ConstEval.h"
#include "support/Suggest.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mtl::sema {
namespace {

bool isLearned(const ast::Expr &e) { return e.isCall() && e.text == "learned"; }

/// `learned(0.9, 0.1)`: a gate of weights learned as parameters, the same for
/// every row, starting at the numbers given (a cross-stitch unit's
/// coefficients). Its layer takes one position of the owner: "<prefix>.<p>".
Val learned(Context &ctx, const ast::Expr &call, const Owner &owner) {
  Layer layer;
  layer.kind = LayerKind::Learned;
  layer.loc = layer.useLoc = call.loc;
  bool ok = !call.args.empty();
  if (!ok)
    ctx.error(call.loc, "learned takes the gate's starting weights, one number per expert, as "
                        "in 'learned(0.9, 0.1)'");
  for (const ast::Arg &a : call.args) {
    std::optional<double> v;
    if (a.name.text.empty() && !a.rangeEnd)
      v = evalFloat(ctx, a.value, owner.env);
    else
      ctx.error(a.loc, "learned takes numbers by position, as in 'learned(0.9, 0.1)'");
    ok = ok && v;
    layer.values.push_back(v.value_or(0));
  }
  if (!ok)
    return {};
  layer.outShape = {int64_t(layer.values.size())};
  layer.paramPrefix = owner.take();
  Shape shape = layer.outShape;
  Value v;
  v.kind = Value::Learned;
  v.loc = call.loc;
  v.module = addModule(ctx, owner, {std::move(layer)});
  v.shape = shape;
  return Val{addValue(ctx, std::move(v)), Flow::of(DType::F32, std::move(shape))};
}

/// The experts among `parts[first..]` (the values of the call's positional
/// arguments from `first` on, named `names`, written at `locs`): vectors of one width n, or stacks
/// [k, n] of k of them. Their shape [n] and each expert's name (a stack's
/// as NAME[j]); nullopt after an error.
std::optional<std::pair<Shape, std::vector<std::string>>>
expertList(Context &ctx, const ast::Expr &call, const std::vector<Val> &parts,
           const std::vector<std::string> &names, const std::vector<SourceLoc> &locs,
           size_t first) {
  Shape expert;
  std::vector<std::string> expertNames;
  for (size_t k = first; k < parts.size(); ++k) {
    const Shape &s = parts[k].flow.shape;
    const Shape vec = s.size() == 2 ? Shape{s[1]} : s;
    if (expert.empty())
      expert = vec;
    if (s.empty() || s.size() > 2 || vec != expert) {
      ctx.error(locs[k], fmt::format("{}'s experts must be vectors of one width, or stacks of them "
                                     "([k, n], from stack or repeat); argument {} is {}{}",
                                     call.text, k + 1, formatShape(s),
                                     s.size() > 2 ? " (flatten each expert first)"
                                                  : fmt::format(" and the experts before it are {}",
                                                                formatShape(expert))));
      return std::nullopt;
    }
    const int64_t count = s.size() == 2 ? s[0] : 1;
    for (int64_t j = 0; j < count; ++j)
      expertNames.push_back(count == 1 ? names[k] : fmt::format("{}[{}]", names[k], j));
  }
  return std::pair{expert, expertNames};
}

/// `base`, or `base2`, `base3`, ... when an earlier mix or attend of the
/// model already has that name (two gates written as chains in one head).
/// The layers a gate's weights come from (an attention's module, a mix's
/// gate's module), else the gate's value: a shared value built again for
/// another task makes the same gate again, and it keeps its name.
std::pair<bool, int> gateSource(const Context &ctx, const Value &v) {
  if (v.kind == Value::Attend)
    return {true, v.module};
  const Value &gate = ctx.model->values[size_t(v.args[0])];
  return gate.module >= 0 ? std::pair{true, gate.module} : std::pair{false, v.args[0]};
}

std::string gateName(const Context &ctx, const std::string &base, const Value &gate) {
  auto taken = [&](const std::string &name) {
    for (const Value &v : ctx.model->values)
      if ((v.kind == Value::Mix || v.kind == Value::Attend) && !v.argTexts.empty() &&
          v.argTexts.front() == name && gateSource(ctx, v) != gateSource(ctx, gate))
        return true;
    return false;
  };
  std::string name = base;
  for (int k = 2; taken(name); ++k)
    name = base + std::to_string(k);
  return name;
}

} // namespace

Val attend(Context &ctx, const ast::Expr &call, const Owner &owner, const char *role) {
  constexpr int64_t kMaxHeads = 64;
  // Positional arguments are the query and the experts; `heads` is named.
  Layer layer;
  layer.kind = LayerKind::Attention;
  layer.loc = layer.useLoc = call.loc;
  layer.heads = 1;
  std::vector<Val> parts;
  std::vector<std::string> names;
  std::vector<SourceLoc> locs;
  bool ok = true;
  for (const ast::Arg &a : call.args) {
    if (a.name.text == "heads" && !a.rangeEnd) {
      auto h = evalInt(ctx, a.value, owner.env, "attend's heads", 1, kMaxHeads);
      ok = ok && h;
      layer.heads = h.value_or(1);
    } else if (!a.name.text.empty() || a.rangeEnd) {
      std::string hint = a.name.text.empty() ? "" : didYouMean(a.name.text, {"heads"});
      ctx.error(a.loc, fmt::format("attend takes a query and experts by position, and 'heads "
                                   "= H' by name; '{}' is none of them{}",
                                   a.name.text.empty() ? exprText(a.value) : a.name.text, hint));
      ok = false;
    } else {
      names.push_back(argName(a.value, owner));
      locs.push_back(a.loc);
      parts.push_back(operand(ctx, a.value, owner, role, "'attend'"));
      ok = ok && parts.back().ok();
    }
  }
  if (ok && parts.size() < 2) {
    ctx.error(call.loc, "attend takes a query and the experts it attends over, as in "
                        "'attend(x -> dense(16), experts, heads = 2)'");
    ok = false;
  }
  if (!ok)
    return {};
  auto list = expertList(ctx, call, parts, names, locs, 1);
  if (!list)
    return {};
  const auto &[expert, expertNames] = *list;
  if (expertNames.size() < 2) {
    ctx.error(locs[1], "attend needs at least two experts to weigh: a stack of them "
                       "([k, n], from stack or repeat) or two values or more");
    return {};
  }
  const Shape &query = parts[0].flow.shape;
  if (query.size() != 1 || query[0] % layer.heads != 0) {
    ctx.error(locs[0],
              fmt::format("attend's query is a vector whose width the {} heads divide; got {}",
                          layer.heads, formatShape(query)));
    return {};
  }
  // The query's width is the attention's (nn.MultiheadAttention's embed_dim).
  layer.units = query[0];
  layer.inShape = expert;
  layer.outShape = query;
  layer.paramPrefix = owner.take();
  Value v;
  v.kind = Value::Attend;
  v.loc = call.loc;
  for (const Val &p : parts)
    v.args.push_back(p.value);
  v.module = addModule(ctx, owner, {std::move(layer)});
  v.shape = query;
  v.argTexts.push_back(gateName(ctx, owner.name + ".attention", v));
  v.argTexts.insert(v.argTexts.end(), expertNames.begin(), expertNames.end());
  return Val{addValue(ctx, std::move(v)), Flow::of(DType::F32, query)};
}

Val mix(Context &ctx, const ast::Expr &call, const Owner &owner, const char *role) {
  // The gate: a value, or weights learned for every row alike; then the
  // experts, each named (as telemetry reports it) just before it is built.
  const ast::Expr *gateArg = call.args.empty() ? nullptr : &call.args[0].value;
  // A gate per task is named by its layers' prefix (each task's gate then
  // by the task too, as lowering names the gates of several tasks).
  const bool perTask = gateArg && gateArg->isCall() && gateArg->text == "each_task";
  const std::string gateText = perTask ? argName(*gateArg, owner) : "";
  Val weights = !gateArg              ? Val{}
                : isLearned(*gateArg) ? learned(ctx, *gateArg, owner)
                                      : operand(ctx, *gateArg, owner, role, "'mix'");
  std::vector<std::string> names{""};
  auto parts = valueArgs(ctx, call, owner, role, 2, 1, &names);
  if (!parts || !weights.ok())
    return {};
  parts->insert(parts->begin(), weights);
  std::vector<SourceLoc> locs;
  for (const ast::Arg &a : call.args)
    locs.push_back(a.loc);
  auto list = expertList(ctx, call, *parts, names, locs, 1);
  if (!list)
    return {};
  const auto &[expert, expertNames] = *list;
  const auto experts = static_cast<int64_t>(expertNames.size());
  if (call.args.size() == 2 && experts == 1) {
    ctx.error(call.args[1].loc, "mix needs at least two experts: a stack of them ([k, n], from "
                                "stack or repeat) or two values or more");
    return {};
  }
  const Shape &gate = (*parts)[0].flow.shape;
  if (gate != Shape{experts}) {
    std::vector<std::string> even(size_t(experts), formatNumber(1.0 / double(experts)));
    ctx.error(call.args[0].loc,
              fmt::format("mix's gate gives one weight per expert: {} experts need a gate of "
                          "shape [{}] (e.g. '{}'), got {}",
                          experts, experts,
                          isLearned(*gateArg) ? fmt::format("learned({})", fmt::join(even, ", "))
                                              : fmt::format("x -> dense({}) -> softmax", experts),
                          formatShape(gate)));
    return {};
  }
  Val out = combined(ctx, call, Value::Mix, *parts, expert);
  std::vector<std::string> &texts = ctx.model->values[size_t(out.value)].argTexts;
  texts.push_back(perTask ? gateText
                  : gateArg->kind == ast::ExprKind::Name
                      ? gateArg->text
                      : gateName(ctx, owner.name + ".gate", ctx.model->values[size_t(out.value)]));
  texts.insert(texts.end(), expertNames.begin(), expertNames.end());
  return out;
}

} // namespace mtl::sema
