// Args.h: matching call arguments (positional and named) to the parameters of a callee.
#pragma once

#include "sema/SemaContext.h"

#include <string>
#include <vector>

namespace mtl::sema {

/// A parameter of a layer, block, optimizer, source...: arguments bind to
/// parameters in this order when positional, by name otherwise.
struct ParamSpec {
  std::string name;
  bool required = false;
};

/// `args[i]` is the argument given for parameter i (null if left out);
/// `ok` is false if anything was reported.
struct BoundArgs {
  std::vector<const ast::Arg *> args;
  bool ok = true;
  const ast::Expr *value(size_t i) const { return args[i] ? &args[i]->value : nullptr; }
};

/// The elements of `[a, b]`, or the one value given without brackets.
std::vector<const ast::Expr *> listElements(const ast::Expr &e);

/// Binds the arguments of `call` (a Call, or a Name: no arguments) to
/// `params`. `callee` names it in messages ("dense", "block 'mlp'"). Reports
/// too many arguments ("dense expects 1 to 2 arguments (units, bias), got 3"),
/// unknown and repeated names, missing required ones, positional after named
/// ones, and ranges (`a..b`) unless `allowRanges`.
BoundArgs bindArgs(Context &ctx, const ast::Expr &call, const std::string &callee,
                   const std::vector<ParamSpec> &params, bool allowRanges = false);

/// The first setting of each of `keys` in `settings` (null when absent);
/// reports unknown keys (naming the block, `where`) and repeated ones.
std::vector<const ast::Setting *> settingSlots(Context &ctx,
                                               const std::vector<ast::Setting> &settings,
                                               const std::vector<std::string> &keys,
                                               const char *where);

} // namespace mtl::sema
