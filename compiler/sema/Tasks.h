// Tasks.h: tasks: kind, head, loss, weight, metrics and the auxiliary flag.
#pragma once

#include "sema/SemaContext.h"

namespace mtl::sema {

/// Fills Model::tasks (one per task declaration, in order): reads each kind
/// (`regress(n)`, `binary`, `classify(k)`, `multilabel(k)`), its fields
/// (unknown and repeated fields are reported), elaborates its head (the
/// task's own layers become its modules, named after it), checks the head's
/// output against the kind's width, the loss and metrics against the kind
/// (filling in each kind's defaults), the weight (finite, >= 0) and warns
/// when a head ends in softmax/sigmoid before a loss that applies it itself.
/// Needs classifyShared() to have run.
void checkTasks(Context &ctx);

} // namespace mtl::sema
