// Settings.h: model-wide settings: balance, regularize, optimizer and train.
#pragma once

#include "sema/Names.h"
#include "sema/SemaContext.h"

namespace mtl::sema {

/// Reads `balance` (default `static`; a method with its argument in range),
/// every `regularize` term (l1/l2 with a finite, non-negative strength, over the modules of the
/// shared blocks and tasks named after `on`, or the whole model), and `optimizer` (sgd/adam/adamw,
/// arguments by position or name, each in its range; default adam(lr = 0.001)). Needs checkTasks()
/// and finishValues() (module ownership).
void checkSettings(Context &ctx, const ModelDecls &decls);

/// Reads `train { ... }` (defaults for what is left out) and resolves the data
/// sets to train, validate and test on (by default the data set named `train`,
/// or the only one); checks that those bind every input and task, and that
/// early stopping has validation data and monitors `loss` or one of a task's
/// metrics. Needs checkData().
void checkTrain(Context &ctx, const ast::TrainDecl *decl, const ast::ModelDecl &model);

} // namespace mtl::sema
