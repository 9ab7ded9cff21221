// Settings.h: model-wide settings: balance, regularize, optimizer and train.
#pragma once

#include "sema/Names.h"
#include "sema/SemaContext.h"

#include <optional>
#include <string>

namespace mtl::sema {

/// Reads `balance` (default `static`; a method with its argument in range),
/// every `regularize` term (l1/l2 with a finite, non-negative strength, over the modules of the
/// shared blocks and tasks named after `on`, or the whole model), and `optimizer` (sgd/adam/adamw,
/// arguments by position or name, each in its range; default adam(lr = 0.001)). Needs checkTasks()
/// and finishValues() (module ownership).
void checkSettings(Context &ctx, const ModelDecls &decls);

/// A balancing method as written in `balance` (a name with its argument in
/// range); reports what is wrong and returns nothing otherwise.
std::optional<Balance> readBalance(Context &ctx, const ast::Expr &method);
/// Reads `loss`, `TASK.loss` or `TASK.METRIC` (one of the task's metrics)
/// into `monitor`, and whether larger is better; reports otherwise, calling
/// the setting `what` ("monitor").
bool readMonitor(Context &ctx, const ast::Expr &e, const char *what, std::string &monitor,
                 bool &maximize);
/// Reads `experiment { baselines = single_task, seeds = N, folds = K, metric
/// = ..., search { weights = grid(...) | random(n, ...), balance = [...], lr
/// = [...] } }` into Model::experiment. Needs checkTrain().
void checkExperiment(Context &ctx, const ast::ExperimentDecl *decl);
/// Reads `train { ... }` (defaults for what is left out) and resolves the data
/// sets to train, validate and test on (by default the data set named `train`,
/// or the only one); checks that those bind every input and task, and that
/// early stopping has validation data and monitors `loss` or one of a task's
/// metrics. Needs checkData().
void checkTrain(Context &ctx, const ast::TrainDecl *decl, const ast::ModelDecl &model);

/// The train block's data settings, each null when not given.
struct DataSettings {
  const ast::Setting *data = nullptr, *validate = nullptr, *test = nullptr, *sampling = nullptr;
};

/// Part of checkTrain: resolves `data = NAME | [NAME, ...]` (default: the
/// data set named `train`, or the only one), `validate` and `test` (a
/// fraction held out of each training data set, or data sets) and
/// `sampling = round_robin | proportional | temperature(T)` into
/// Model::train. Returns false when `validate` had errors.
bool checkTrainData(Context &ctx, const DataSettings &given, const ast::TrainDecl *decl,
                    const ast::ModelDecl &model);

/// Part of checkTrain, after the data sets are resolved: a model that trains
/// on one data set binds every input and task there. One that trains on
/// several binds every task in at least one of them, each of them binds a
/// task, and at most one reads an input 'as category'. Every other data set
/// (and each of several training ones) binds each input that the heads of
/// the tasks it binds read.
void checkDataCoverage(Context &ctx);

/// The train block's transfer settings, each null when not given.
struct TransferSettings {
  const ast::Setting *init = nullptr, *initMap = nullptr, *freeze = nullptr,
                     *unfreezeAfter = nullptr, *lrScale = nullptr;
};

/// Part of checkTrain: reads `init = "ck.safetensors"` (a path, resolved
/// against the model file), `init_map = ["trunk.* <- encoder.*", ...]`,
/// `freeze = [trunk, "trunk.0.*"]`, `unfreeze_after = N` and `lr_scale =
/// [trunk(0.1), ...]` into Model::train. A parameter group is a shared value
/// or a task by name, or a quoted pattern whose first part names one.
void checkTransfer(Context &ctx, const TransferSettings &given);

/// The epochs a run trains (the command's --epochs, else the train block's
/// `epochs` or its default) and where they come from, for messages:
/// "--epochs 3" or "epochs = 3".
std::pair<int64_t, std::string> runEpochs(const Context &ctx);

/// Part of checkTrain: reads `schedule = constant | cosine(warmup = N) |
/// step(every = N, gamma = G) | plateau(patience = N, factor = F)` (plateau
/// needs `validation` data) and `clip_norm = X` into Model::train.
void checkSchedule(Context &ctx, const ast::Setting *schedule, const ast::Setting *clipNorm,
                   bool validation);

} // namespace mtl::sema
