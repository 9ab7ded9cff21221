// SingleTask.h: a checked model cut down to one of its tasks (an experiment's single-task
// baseline).
#pragma once

#include "sema/Model.h"

namespace mtl::sema {

/// `model` with task `task` alone, as if written without the others: the
/// values, modules and parameters its head does not read are gone (the
/// rest keep their order, so their parameters and initial values are those
/// of a hand-written single-task model), with them the other tasks'
/// bindings, the data sets that no longer bind a task, regularizer targets,
/// soft-sharing copies, freeze, lr_scale and init_map entries; the task's weight is
/// 1, the balancing `static`, the experiment block gone, and early stopping
/// on another task's metric monitors `loss` instead.
Model singleTaskModel(const Model &model, int task);

} // namespace mtl::sema
