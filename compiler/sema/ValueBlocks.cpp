// ValueBlocks.cpp: what makes a sharing architecture one call: blocks whose
// bodies combine values (built where a chain is, reading their input `in`),
// and each_task(chain), layers of which every task that reads them has a copy.
#include "frontend/ExprText.h"
#include "sema/Blocks.h"
#include "sema/Combining.h"

#include <fmt/format.h>

namespace mtl::sema {

Val expandCombiningBlock(Context &ctx, const BlockInfo &info, const ast::Expr &call,
                         const Owner &owner, Val in) {
  std::optional<Env> env = enterBlock(ctx, info, call, owner.env);
  if (!env)
    return {};
  Owner inner = owner; // shares the owner's positions
  inner.env = &*env;
  inner.in = in;
  const std::vector<ast::Expr> &steps = info.decl->body.steps;
  const ast::Expr &first = steps.front();
  // The body starts from `in` or a combination, or is applied to `in`.
  const bool starts =
      isBlockInput(first) || isCombination(first) || first.kind == ast::ExprKind::Chain;
  Val out = starts ? continueChain(ctx, steps, 1, startChain(ctx, first, inner, "a block"), inner,
                                   nullptr)
                   : continueChain(ctx, steps, 0, in, inner, nullptr);
  ctx.expansions.pop_back();
  return out;
}

Val eachTask(Context &ctx, const ast::Expr &call, const Owner &owner, const char *role) {
  const bool one =
      call.args.size() == 1 && call.args[0].name.text.empty() && !call.args[0].rangeEnd;
  const ast::Expr *body = one ? &call.args[0].value : nullptr;
  if (!body || (body->kind != ast::ExprKind::Chain && !isCombination(*body))) {
    ctx.error(body ? body->loc : call.loc,
              fmt::format("each_task takes one chain, whose layers each task that reads it gets "
                          "a copy of, as in 'each_task(x -> dense(4) -> softmax)'{}",
                          body ? fmt::format("; {} has no layers", describe(*body)) : ""));
    return {};
  }
  if (owner.softGroup >= 0) {
    ctx.error(call.loc, fmt::format("each_task makes layers for each task that reads it, and {} "
                                    "is soft-shared, which gives every task a copy of all its "
                                    "layers already; write the chain without each_task, or share "
                                    "it hard",
                                    owner.what));
    return {};
  }
  Owner mine = nestedOwner(owner);
  mine.prefix += fmt::format(".{}", owner.reader >= 0 ? ctx.model->tasks[size_t(owner.reader)].name
                                                      : std::string("task"));
  const size_t modules = ctx.model->modules.size();
  Val out;
  if (body->kind != ast::ExprKind::Chain) {
    mine.startRepeat = body; // each_task(repeat(..)): the copies are the task's whole part
    out = startChain(ctx, *body, mine, role);
  } else {
    out = continueChain(ctx, body->operands, 1, startChain(ctx, body->operands.front(), mine, role),
                        mine, nullptr);
  }
  if (out.ok() && ctx.model->modules.size() == modules) { // `in * 2`: nothing per task
    ctx.error(body->loc, fmt::format("each_task copies layers for each task, and '{}' makes none; "
                                     "write it without each_task",
                                     exprText(*body)));
    return {};
  }
  if (out.ok())
    ctx.model->values[size_t(out.value)].perReader = true;
  return out;
}

} // namespace mtl::sema
