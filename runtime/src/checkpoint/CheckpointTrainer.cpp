// CheckpointTrainer.cpp: what a checkpoint holds of a Trainer, and restoring it with every check.
//
// The per-epoch shuffle is a function of (seed, epoch) (shuffleRows), the
// validation split of (seed, validate), dropout of (seed, step): recording
// the seed, the epoch and the step is all the random state a resume needs.
#include "mtlrt/Checkpoint.h"
#include "mtlrt/RunConfig.h"
#include "mtlrt/Trainer.h"
#include "train/Schedule.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <set>

namespace mtlrt {

namespace {
constexpr const char *kStdPrefix = "__standardize__.";
constexpr const char *kClassesPrefix = "classes.";
constexpr const char *kCategoriesPrefix = "categories.";
constexpr const char *kCategoryColumnsPrefix = "category_columns.";

/// Whether two texts of a run setting say the same: a schedule or sampling
/// written with other spaces or number forms ("cosine(warmup=2)" and
/// "cosine(warmup = 2.0)") is the same setting.
bool sameSetting(const std::string &key, const std::string &a, const std::string &b) {
  if (key == "schedule") {
    Result<Schedule> x = Schedule::parse(a), y = Schedule::parse(b);
    return x && y && x->sameSettings(*y);
  }
  if (key == "sampling") {
    Result<std::string> x = canonicalSampling(a), y = canonicalSampling(b);
    return x && y && *x == *y;
  }
  return false;
}

std::vector<int64_t> shapeOf(const mtl_tensor_desc &d) {
  return std::vector<int64_t>(d.dims, d.dims + std::clamp(d.rank, 0, MTL_MAX_RANK));
}

/// What checkModel leaves to us: every name present, shapes that agree with sizes.
Status checkNames(const mtl_model &model) {
  auto tensors = [](const mtl_tensor_desc *descs, int32_t n) -> Status {
    for (int32_t i = 0; i < n; ++i) {
      const mtl_tensor_desc &d = descs[i];
      int64_t elements = 1;
      for (int64_t dim : shapeOf(d))
        if (dim < 0 || __builtin_mul_overflow(elements, dim, &elements))
          elements = -1;
      if (!d.name || d.rank < 0 || d.rank > MTL_MAX_RANK || elements != d.size)
        return fail(fmt::format("model: tensor '{}' has no name, or a shape that does not match "
                                "its size {}",
                                d.name ? d.name : "(unnamed)", d.size));
    }
    return Ok{};
  };
  for (int32_t i = 0; i < model.num_inputs; ++i)
    if (!model.inputs[i].name)
      return fail("model: an input has no name");
  for (int32_t t = 0; t < model.num_tasks; ++t)
    if (!model.tasks[t].name)
      return fail("model: a task has no name");
  if (Status s = tensors(model.params, model.num_params); !s)
    return s;
  return tensors(model.state, model.num_state);
}

/// The run settings an exact resume needs unchanged, as the metadata writes them
/// (the monitor too: the saved best value is a value of it).
std::map<std::string, std::string> runSettings(const Trainer &trainer) {
  const TrainOptions &o = trainer.options();
  const mtl_model &model = trainer.model();
  std::vector<std::string> weights, scales;
  for (int32_t t = 0; t < model.num_tasks; ++t)
    weights.push_back(fmt::format("{}={}", model.tasks[t].name, trainer.taskWeights()[size_t(t)]));
  for (const auto &[group, scale] : o.lrScales)
    scales.push_back(fmt::format("{}={}", group, scale));
  return {{"seed", std::to_string(o.seed)},
          {"batch", std::to_string(o.batch)},
          {"shuffle", o.shuffle ? "true" : "false"},
          {"validate", fmt::format("{}", o.validate)},
          {"test", fmt::format("{}", o.test)},
          {"lr", fmt::format("{}", o.lr)},
          {"task_weights", fmt::format("{}", fmt::join(weights, ","))},
          {"monitor", o.earlyStop.monitor.empty() ? "loss" : o.earlyStop.monitor},
          {"flush_denormals", o.flushDenormals ? "true" : "false"},
          {"balance", o.balance},
          {"freeze", fmt::format("{}", fmt::join(o.freeze, ","))},
          {"unfreeze_after", std::to_string(o.unfreezeAfter)},
          {"lr_scales", fmt::format("{}", fmt::join(scales, ","))},
          {"schedule", o.schedule},
          {"clip_norm", fmt::format("{}", o.clipNorm)},
          {"sampling", o.sampling}};
}

/// Standardisation tensor names of one slot: {mean, std}.
std::pair<std::string, std::string> stdNames(const char *kind, const char *name) {
  std::string base = fmt::format("{}{}.{}", kStdPrefix, kind, name);
  return {base + ".mean", base + ".std"};
}

void addStats(Checkpoint &ck, const char *kind, const char *name,
              const std::optional<Standardizer> &z) {
  if (!z)
    return;
  auto [mean, std] = stdNames(kind, name);
  ck.tensors.push_back(CheckpointTensor::f64(mean, {int64_t(z->mean.size())}, z->mean));
  ck.tensors.push_back(CheckpointTensor::f64(std, {int64_t(z->stddev.size())}, z->stddev));
}

const char *nameOf(const mtl_model &model) { return model.name ? model.name : ""; }
} // namespace

Result<Checkpoint> captureCheckpoint(const Trainer &trainer) {
  const mtl_model &model = trainer.model();
  if (Status s = checkNames(model); !s)
    return s.takeError();
  Checkpoint ck;
  std::vector<std::string> stateNames;
  // Trainer::create checked that every tensor lies inside its arena.
  auto add = [&](const mtl_tensor_desc &d, std::span<const float> arena) {
    ck.tensors.push_back(
        CheckpointTensor::f32(d.name, shapeOf(d), arena.subspan(size_t(d.offset), size_t(d.size))));
  };
  for (int32_t i = 0; i < model.num_params; ++i)
    add(model.params[i], trainer.params());
  for (int32_t i = 0; i < model.num_state; ++i) {
    add(model.state[i], trainer.state());
    stateNames.push_back(model.state[i].name);
  }
  for (int32_t i = 0; i < model.num_inputs; ++i)
    addStats(ck, "input", model.inputs[i].name, trainer.inputStandardizers()[size_t(i)]);
  for (int32_t t = 0; t < model.num_tasks; ++t)
    addStats(ck, "task", model.tasks[t].name, trainer.targetStandardizers()[size_t(t)]);

  const RunState &run = trainer.runState();
  ck.metadata = runSettings(trainer);
  // Class names (as JSON arrays), so predictions can name classes without the data.
  const auto &classes = trainer.classNames();
  for (int32_t t = 0; t < model.num_tasks && size_t(t) < classes.size(); ++t)
    if (!classes[size_t(t)].empty())
      ck.metadata[std::string(kClassesPrefix) + model.tasks[t].name] =
          nlohmann::json(classes[size_t(t)]).dump();
  const auto &categories = trainer.categories();
  Result<RunConfig> config = modelRunConfig(model); // none: a model without data settings
  for (int32_t i = 0; i < model.num_inputs && size_t(i) < categories.size(); ++i) {
    if (categories[size_t(i)].empty())
      continue;
    ck.metadata[std::string(kCategoriesPrefix) + model.inputs[i].name] =
        nlohmann::json(categories[size_t(i)]).dump();
    // The columns the vocabulary's lists (and the embedding's row ranges) are of.
    if (std::vector<std::string> columns =
            config ? categoryColumnNames(*config, size_t(i)) : std::vector<std::string>{};
        columns.size() == categories[size_t(i)].size())
      ck.metadata[std::string(kCategoryColumnsPrefix) + model.inputs[i].name] =
          nlohmann::json(columns).dump();
  }
  ck.metadata.insert({{"format", kCheckpointFormat},
                      {"model", nameOf(model)},
                      {"source_hash", model.source_hash ? model.source_hash : ""},
                      {"mtlc_version", model.mtlc_version ? model.mtlc_version : ""},
                      {"step", std::to_string(trainer.step())},
                      {"epoch", std::to_string(run.epoch)},
                      {"train_rows", std::to_string(run.trainRows)},
                      {"val_rows", std::to_string(run.valRows)},
                      {"data_values", fmt::format("{:016x}", run.dataValues)},
                      {"best_epoch", std::to_string(run.bestEpoch)},
                      {"best_value", fmt::format("{}", run.bestValue)},
                      {"since_best", std::to_string(run.sinceBest)},
                      {"stopped_early", run.stoppedEarly ? "true" : "false"},
                      {"state_tensors", fmt::format("{}", fmt::join(stateNames, ","))},
                      {"balance_state", nlohmann::json(trainer.balanceState()).dump()},
                      {"schedule_state", nlohmann::json(trainer.scheduleState()).dump()}});
  return ck;
}

Status applyCheckpoint(const Checkpoint &ck, Trainer &trainer, Restore what) {
  const mtl_model &model = trainer.model();
  const std::string where = ck.source.empty() ? std::string("checkpoint") : ck.source;
  if (Status s = checkNames(model); !s)
    return fail(fmt::format("{}: {}", where, s.error()));
  const std::string *format = ck.meta("format");
  if (!format || *format != kCheckpointFormat)
    return fail(fmt::format("{}: not an mtlc checkpoint: metadata \"format\" is {}, expected '{}'",
                            where, format ? "'" + *format + "'" : std::string("missing"),
                            kCheckpointFormat));
  const bool everything = what == Restore::Everything;
  const bool withStats = what != Restore::ParamsOnly;
  std::vector<std::string> diffs;
  std::set<std::string> known; // checkpoint tensors the model accounts for
  auto compare = [&](const mtl_tensor_desc &d) {
    known.insert(d.name);
    std::vector<int64_t> shape = shapeOf(d);
    const CheckpointTensor *t = ck.find(d.name);
    if (!t)
      diffs.push_back(fmt::format("missing in checkpoint: {} {}", d.name, shapeString(shape)));
    else if (t->shape != shape)
      diffs.push_back(fmt::format("shape differs: {}: checkpoint {}, model {}", d.name,
                                  shapeString(t->shape), shapeString(shape)));
    else if (t->dtype != Dtype::F32 || t->elements() != d.size)
      diffs.push_back(
          fmt::format("dtype differs: {}: checkpoint {}, model F32", d.name, dtypeName(t->dtype)));
    else if (std::string bad = t->nonFinite(); !bad.empty())
      diffs.push_back("not finite: " + bad);
    else if (std::string bad = t->negativeSecondMoment(); !bad.empty())
      diffs.push_back(bad);
  };
  for (int32_t i = 0; i < model.num_params; ++i)
    compare(model.params[i]);
  if (everything) {
    for (int32_t i = 0; i < model.num_state; ++i)
      compare(model.state[i]);
  } else if (const std::string *names = ck.meta("state_tensors")) {
    // Loading parameters only: the checkpoint's optimizer state is not unexpected.
    for (size_t begin = 0; begin <= names->size();) {
      size_t comma = std::min(names->find(',', begin), names->size());
      known.insert(names->substr(begin, comma - begin));
      begin = comma + 1;
    }
  }

  // Standardisation statistics: a pair of F64 vectors per standardised slot.
  std::vector<std::optional<Standardizer>> inputs(size_t(model.num_inputs)),
      targets(size_t(model.num_tasks));
  auto stats = [&](const char *kind, const char *name, int64_t width,
                   std::optional<Standardizer> &out) {
    auto [meanName, stdName] = stdNames(kind, name);
    known.insert(meanName);
    known.insert(stdName);
    const CheckpointTensor *mean = ck.find(meanName), *sd = ck.find(stdName);
    if (!withStats || (!mean && !sd))
      return;
    std::vector<int64_t> shape{width};
    for (const CheckpointTensor *t : {mean, sd})
      if (!t || t->dtype != Dtype::F64 || t->shape != shape) {
        diffs.push_back(fmt::format("standardisation of {} '{}': expected F64 {} and {}, both {}",
                                    kind, name, meanName, stdName, shapeString(shape)));
        return;
      }
    std::string bad = mean->nonFinite();
    for (double s : sd->doubles())
      if (bad.empty() && !(s > 0 && std::isfinite(s)))
        bad = fmt::format("{} holds {}", stdName, s);
    if (!bad.empty()) {
      diffs.push_back(fmt::format("standardisation of {} '{}': {} (a mean must be finite, a "
                                  "standard deviation finite and above 0)",
                                  kind, name, bad));
      return;
    }
    out = Standardizer{mean->doubles(), sd->doubles()};
  };
  for (int32_t i = 0; i < model.num_inputs; ++i)
    stats("input", model.inputs[i].name, model.inputs[i].elements, inputs[size_t(i)]);
  for (int32_t t = 0; t < model.num_tasks; ++t)
    stats("task", model.tasks[t].name,
          model.tasks[t].kind == MTL_CLASSIFY ? 1 : model.tasks[t].width, targets[size_t(t)]);
  std::vector<std::vector<std::string>> classes(size_t(model.num_tasks));
  for (int32_t t = 0; t < model.num_tasks && withStats; ++t) {
    std::string key = std::string(kClassesPrefix) + model.tasks[t].name;
    if (const std::string *text = ck.meta(key)) {
      nlohmann::json names = nlohmann::json::parse(*text, nullptr, false);
      const size_t most = model.tasks[t].kind == MTL_CLASSIFY ? size_t(model.tasks[t].width)
                          : model.tasks[t].kind == MTL_BINARY ? 2
                                                              : 0;
      if (names.is_array() && names.size() > most)
        diffs.push_back(fmt::format("metadata \"{}\" names {} class{}, and task '{}' has {}", key,
                                    names.size(), names.size() == 1 ? "" : "es",
                                    model.tasks[t].name, most));
      else if (names.is_array() &&
               std::all_of(names.begin(), names.end(), [](const auto &n) { return n.is_string(); }))
        classes[size_t(t)] = names.get<std::vector<std::string>>();
      else
        diffs.push_back(fmt::format("metadata \"{}\" is not a JSON array of strings", key));
    }
  }
  std::vector<Categories> categories(size_t(model.num_inputs));
  for (int32_t i = 0; i < model.num_inputs && withStats; ++i) {
    std::string key = std::string(kCategoriesPrefix) + model.inputs[i].name;
    if (const std::string *text = ck.meta(key)) {
      nlohmann::json names = nlohmann::json::parse(*text, nullptr, false);
      bool ok = names.is_array();
      for (const nlohmann::json &column : ok ? names : nlohmann::json::array())
        ok = ok && column.is_array() && !column.empty() &&
             std::all_of(column.begin(), column.end(), [](const auto &n) { return n.is_string(); });
      if (ok)
        categories[size_t(i)] = names.get<Categories>();
      else
        diffs.push_back(fmt::format("metadata \"{}\" is not a JSON array of non-empty arrays of "
                                    "strings",
                                    key));
    }
  }
  // A run balanced by `uncertainty` learns a log-variance per task, which
  // weighs its loss and plays no part in predictions: evaluating or predicting
  // with a model compiled without that balance leaves them out.
  if (!everything)
    for (int32_t t = 0; t < model.num_tasks; ++t)
      known.insert(std::string("uncertainty.") + model.tasks[t].name + ".log_var");
  for (const CheckpointTensor &t : ck.tensors)
    if (!known.count(t.name) && (withStats || t.name.rfind(kStdPrefix, 0) != 0))
      diffs.push_back(fmt::format("unexpected: {} {}", t.name, shapeString(t.shape)));
  // A resume with another balance than uncertainty's finds its log-variances
  // unexpected: the method is the difference to name first.
  const std::string *balance = everything ? ck.meta("balance") : nullptr;
  if (!diffs.empty() && balance && *balance != trainer.options().balance &&
      (*balance == "uncertainty" || trainer.options().balance == "uncertainty"))
    return fail(fmt::format("{}: cannot resume: the run's settings differ (use --init-from to "
                            "start a new run from its parameters): balance: checkpoint '{}', now "
                            "'{}' (uncertainty's log-variances are parameters of the model)",
                            where, *balance, trainer.options().balance));
  if (!diffs.empty())
    return fail(fmt::format("{}: checkpoint does not fit model '{}': {}", where, nameOf(model),
                            fmt::join(diffs, "; ")));

  RunState run;
  int64_t step = 0;
  if (everything) {
    // An exact resume continues the same model with the same settings.
    std::map<std::string, std::string> now = runSettings(trainer);
    now["model"] = nameOf(model);
    now["source_hash"] = model.source_hash ? model.source_hash : "";
    for (const auto &[key, value] : now) {
      const std::string *saved = ck.meta(key);
      // Checkpoints from before these settings existed ran without them.
      static const std::string kNoFlush = "false", kStatic = "static", kNone = "", kZero = "0";
      if (!saved && key == "flush_denormals")
        saved = &kNoFlush;
      if (!saved && key == "balance")
        saved = &kStatic;
      if (!saved && (key == "freeze" || key == "lr_scales"))
        saved = &kNone;
      static const std::string kConstant = "constant";
      if (!saved && (key == "unfreeze_after" || key == "clip_norm"))
        saved = &kZero;
      if (!saved && key == "schedule")
        saved = &kConstant;
      static const std::string kProportional = "proportional";
      if (!saved && key == "sampling")
        saved = &kProportional;
      if (!saved || (*saved != value && !sameSetting(key, *saved, value)))
        diffs.push_back(fmt::format("{}: checkpoint {}, now {}", key,
                                    saved ? "'" + *saved + "'" : std::string("missing"),
                                    "'" + value + "'"));
    }
    if (!diffs.empty())
      return fail(fmt::format("{}: cannot resume: the run's settings differ (use --init-from to "
                              "start a new run from its parameters): {}",
                              where, fmt::join(diffs, "; ")));
    std::string bad;
    auto number = [&](const char *key, auto &out) {
      if (!ck.metaNumber(key, out)) {
        const std::string *text = ck.meta(key);
        bad += fmt::format("{}{} ({})", bad.empty() ? "" : ", ", key,
                           text ? "'" + *text + "'" : std::string("missing"));
      }
    };
    number("step", step);
    number("epoch", run.epoch);
    number("train_rows", run.trainRows);
    number("val_rows", run.valRows);
    if (const std::string *text = ck.meta("data_values")) { // none: an older checkpoint
      auto [end, ec] =
          std::from_chars(text->data(), text->data() + text->size(), run.dataValues, 16);
      if (ec != std::errc() || end != text->data() + text->size() || text->size() != 16)
        bad += fmt::format("{}data_values ('{}')", bad.empty() ? "" : ", ", *text);
    }
    number("best_epoch", run.bestEpoch);
    number("best_value", run.bestValue);
    number("since_best", run.sinceBest);
    if (const std::string *text = ck.meta("balance_state")) {
      nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
      std::vector<double> state;
      bool numbers = j.is_array();
      for (const nlohmann::json &x : numbers ? j : nlohmann::json::array())
        numbers = numbers && x.is_number();
      if (numbers)
        state = j.get<std::vector<double>>();
      if (!numbers || !trainer.setBalanceState(state))
        bad += fmt::format("{}balance_state ('{}')", bad.empty() ? "" : ", ", *text);
    }
    if (const std::string *text = ck.meta("schedule_state")) {
      // NaN (no best value yet) is written as null.
      nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
      std::vector<double> state;
      bool numbers = j.is_array();
      for (const nlohmann::json &x : numbers ? j : nlohmann::json::array()) {
        numbers = numbers && (x.is_number() || x.is_null());
        state.push_back(x.is_number() ? x.get<double>() : NAN);
      }
      if (!numbers || !trainer.setScheduleState(state))
        bad += fmt::format("{}schedule_state ('{}')", bad.empty() ? "" : ", ", *text);
    }
    const std::string *stopped = ck.meta("stopped_early");
    run.stoppedEarly = stopped && *stopped == "true";
    if (bad.empty() && (step < 0 || run.epoch < 0 || run.bestEpoch > run.epoch))
      bad = "step, epoch or best_epoch out of range";
    if (!bad.empty())
      return fail(fmt::format("{}: cannot resume: bad run metadata: {}", where, bad));
  }

  // Everything is checked: from here on nothing fails.
  auto copy = [&](const mtl_tensor_desc &d, std::span<float> arena) {
    if (d.size > 0)
      std::memcpy(arena.data() + d.offset, ck.find(d.name)->data.data(), size_t(d.size) * 4);
  };
  for (int32_t i = 0; i < model.num_params; ++i)
    copy(model.params[i], trainer.params());
  if (what == Restore::Trained)
    if (Result<RunConfig> config = modelRunConfig(model)) {
      // Read as the parameters were trained: each column with its own
      // vocabulary, each output as the class the head was trained with.
      if (Result<std::vector<Categories>> same =
              checkpointCategories(ck, config->inputs, nullptr, &*config);
          !same)
        return fail(fmt::format("{}: {}", where, same.error()));
      if (Status s = sameDeclaredClasses(*config, classes, where); !s)
        return s;
    }
  if (withStats) {
    if (Status s = trainer.setStandardizers(std::move(inputs), std::move(targets)); !s)
      return fail(fmt::format("{}: {}", where, s.error()));
    trainer.setClassNames(std::move(classes));
    trainer.setCategories(std::move(categories));
  }
  if (!everything)
    return Ok{};
  for (int32_t i = 0; i < model.num_state; ++i)
    copy(model.state[i], trainer.state());
  trainer.setStep(step);
  trainer.resumeAt(run);
  return Ok{};
}

std::string otherModelNote(const Checkpoint &ck, const mtl_model &model, const std::string &path) {
  const std::string *name = ck.meta("model");
  if (!name || *name == nameOf(model))
    return "";
  return fmt::format("note: {} was written by model '{}', not '{}': its tensors fit by name and "
                     "shape, so they are used, but they were trained as the other model",
                     path, *name, nameOf(model));
}

} // namespace mtlrt
