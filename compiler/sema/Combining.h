// Combining.h: what the files that build combinations share (Combine.cpp,
// Experts.cpp): new values, operands, and the values a call's arguments give.
#pragma once

#include "sema/Values.h"

#include <optional>
#include <string>
#include <vector>

namespace mtl::sema {

/// Appends `v` to the model's values; its index.
int addValue(Context &ctx, Value v);

/// A value of `kind` over `parts`, of shape `shape`: the one made before
/// for the same computation, except a mix (each is a gate telemetry
/// watches, unless `sameMix`: ple's, made again for each reading task) and
/// a select (set afterwards).
Val combined(Context &ctx, const ast::Expr &e, Value::Kind kind, const std::vector<Val> &parts,
             Shape shape, double factor = 1, bool sameMix = false);

/// A combination's operand as a value: f32 (ids must be embedded first);
/// `what` names the combination in messages ("'mix'").
Val operand(Context &ctx, const ast::Expr &e, const Owner &owner, const char *role,
            const char *what);

/// What gate telemetry calls an argument: a name as written, a chain by the
/// prefix its layers will get (so: call it just before the chain is built),
/// anything else as written.
std::string argName(const ast::Expr &e, const Owner &owner);

/// The positional arguments of a call as values, from argument `from` on,
/// each named into `names` (when given) just before it is built; at least
/// `least` arguments in all. nullopt after an error.
std::optional<std::vector<Val>> valueArgs(Context &ctx, const ast::Expr &call, const Owner &owner,
                                          const char *role, size_t least, size_t from = 0,
                                          std::vector<std::string> *names = nullptr);

/// each_task(chain): a copy of the chain's layers for each task that reads
/// it (for the task whose head is being built, owner.reader), named under
/// one position of the owner and then the task ("<prefix>.<p>.<task>.<k>").
Val eachTask(Context &ctx, const ast::Expr &call, const Owner &owner, const char *role);

/// mix(gate, e1, ..., ek), the gate a value or learned(w1, ..., wk).
Val mix(Context &ctx, const ast::Expr &call, const Owner &owner, const char *role);

/// attend(query, e1, ..., ek, heads = H): multi-head attention of a query
/// over experts, as torch.nn.MultiheadAttention with one query.
Val attend(Context &ctx, const ast::Expr &call, const Owner &owner, const char *role);

} // namespace mtl::sema
