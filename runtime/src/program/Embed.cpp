// Embed.cpp: the C interface of a model library (mtlrt/Embed.h) over the Trainer and the Predictor.
#include "mtlrt/Embed.h"

#include "mtlrt/Checkpoint.h"
#include "mtlrt/Csv.h"
#include "mtlrt/FloatMode.h"
#include "mtlrt/Predictor.h"
#include "mtlrt/RunConfig.h"
#include "mtlrt/ThreadPool.h"
#include "mtlrt/Trainer.h"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <vector>

namespace {

thread_local std::string lastError;

int failed(std::string message) {
  lastError = std::move(message);
  return -1;
}

/// The pool of `threads` threads that every session of that many shares
/// (their trainers and predictors alike): sessions that each started their
/// own would start threads by the dozen and have them contend for the cores.
/// Results do not depend on it: a loop issued while another session's runs
/// on the pool runs on its caller's thread alone (ThreadPool). The pool ends
/// with the last session that holds it.
std::shared_ptr<mtlrt::ThreadPool> sharedPool(int threads) {
  static std::mutex mutex;
  static auto *pools = new std::map<int, std::weak_ptr<mtlrt::ThreadPool>>; // never destroyed
  std::lock_guard<std::mutex> lock(mutex);
  std::shared_ptr<mtlrt::ThreadPool> pool = (*pools)[threads].lock();
  if (!pool) {
    pool = std::make_shared<mtlrt::ThreadPool>(threads);
    (*pools)[threads] = pool;
  }
  return pool;
}

/// The refusal of `caller` on a session whose last step overflowed (Trainer::broken).
int failedBroken(const char *caller) {
  return failed(fmt::format("{}: the session's last training step overflowed, leaving parameters "
                            "that are not finite; load a checkpoint with mtl_session_load first",
                            caller));
}

} // namespace

/// Training goes through the Trainer; predictions through a Predictor that
/// copies the Trainer's parameters when they have changed, so both run in
/// the batches `NAME predict` uses and give its numbers.
struct mtl_session {
  mtlrt::Trainer trainer;
  mtlrt::Predictor predictor;
  bool stale = true;             ///< the predictor's parameters lag the trainer's
  std::vector<float> taskLosses; ///< one per task, so a training step allocates nothing
  /// Per task: the model's `classes = [..]`, for a session with no checkpoint loaded.
  std::vector<std::vector<std::string>> declaredClasses;
  /// Per input and per task: the `scale(x)` the training data reads it with
  /// (slotScales), applied to the caller's rows as the data reader applies
  /// it, into `scaled` (one buffer per input, then one per task).
  std::vector<double> inputScales, targetScales;
  std::vector<std::vector<float>> scaled;
  std::vector<const float *> scaledPointers;

  int64_t maxBatch = 0; ///< mtl_session_create's max_batch

  /// `inputs` (and `targets`, when given) with their scales applied: the
  /// caller's arrays where a slot has none, else copies in `scaled`. False
  /// (after failed()) when there is no memory for the copies.
  bool applyScales(int64_t rows, const float *const *inputs, const float *const *targets) try {
    const mtl_model &m = trainer.model();
    scaled.resize(inputScales.size() + targetScales.size());
    scaledPointers.assign(scaled.size(), nullptr);
    auto one = [&](size_t k, const float *from, int64_t width, double scale) {
      scaledPointers[k] = from;
      if (scale == 1.0 || !from || rows <= 0)
        return;
      std::vector<float> &to = scaled[k];
      to.resize(size_t(rows * width));
      for (size_t i = 0; i < to.size(); ++i) // NaN (a missing label) stays NaN
        to[i] = static_cast<float>(from[i] * scale);
      scaledPointers[k] = to.data();
    };
    for (int32_t i = 0; i < m.num_inputs; ++i)
      one(size_t(i), inputs[i], m.inputs[i].elements, inputScales[size_t(i)]);
    for (int32_t t = 0; targets && t < m.num_tasks; ++t)
      if (m.tasks[t].kind == MTL_REGRESS)
        one(inputScales.size() + size_t(t), targets[t], m.tasks[t].width, targetScales[size_t(t)]);
      else
        scaledPointers[inputScales.size() + size_t(t)] = targets[t];
    return true;
  } catch (const std::bad_alloc &) {
    try { // no memory: no formatting, and nothing may escape a C call
      lastError = "out of memory for the scaled values of the rows";
    } catch (...) {
    }
    return false;
  }
};

extern "C" {

mtl_session *mtl_session_create(const mtl_model *model, int threads, int64_t max_batch) {
  if (!model) {
    failed("mtl_session_create: no model");
    return nullptr;
  }
  if (max_batch < 1) {
    failed(fmt::format("mtl_session_create: max_batch must be at least 1, got {}", max_batch));
    return nullptr;
  }
  if (threads < 1 || threads > mtlrt::kMaxThreads) {
    failed(fmt::format("mtl_session_create: threads is {}; it must be in [1, {}], the threads "
                       "each call may use, the calling thread included",
                       threads, mtlrt::kMaxThreads));
    return nullptr;
  }
  mtlrt::TrainOptions options;
  std::vector<std::vector<std::string>> declared(size_t(std::max(model->num_tasks, 0)));
  if (auto config = mtlrt::modelRunConfig(*model)) {
    options = config->train;
    for (size_t t = 0; t < config->tasks.size() && t < declared.size(); ++t)
      declared[t] = config->tasks[t].classes;
  }
  // The model's `train { init = .. }` is for `mtlc train`: a program loads
  // parameters itself (mtl_session_load), and a session reads no file.
  options.initFrom.clear();
  options.initMap.clear();
  options.batch = max_batch;
  options.threads = threads;
  options.quiet = true;
  options.earlyStop = {};
  std::shared_ptr<mtlrt::ThreadPool> pool;
  try {
    pool = sharedPool(threads);
  } catch (const std::exception &e) { // no memory, or the system has no threads left
    failed(fmt::format("mtl_session_create: cannot start a pool of {} threads: {}", threads,
                       e.what()));
    return nullptr;
  }
  auto trainer = mtlrt::Trainer::create(model, options, pool);
  if (!trainer) {
    failed(trainer.error());
    return nullptr;
  }
  auto predictor = mtlrt::Predictor::create(model, pool);
  if (!predictor) {
    failed(predictor.error());
    return nullptr;
  }
  auto *session = new (std::nothrow) mtl_session{std::move(*trainer),
                                                 std::move(*predictor),
                                                 true,
                                                 std::vector<float>(size_t(model->num_tasks)),
                                                 std::move(declared),
                                                 mtlrt::slotScales(*model, false),
                                                 mtlrt::slotScales(*model, true),
                                                 {},
                                                 {},
                                                 max_batch};
  if (!session)
    failed("mtl_session_create: out of memory");
  return session;
}

void mtl_session_destroy(mtl_session *session) { delete session; }

int mtl_session_load(mtl_session *session, const char *path) {
  if (!session || !path)
    return failed("mtl_session_load: no session or path");
  auto ck = mtlrt::readCheckpoint(path);
  if (!ck)
    return failed(ck.error());
  if (auto s = mtlrt::applyCheckpoint(*ck, session->trainer, mtlrt::Restore::Trained); !s)
    return failed(s.error());
  // The optimizer state an overflowed step left is not finite either.
  if (session->trainer.broken())
    session->trainer.restartOptimizer();
  session->stale = true;
  return 0;
}

int mtl_session_save(mtl_session *session, const char *path) {
  if (!session || !path)
    return failed("mtl_session_save: no session or path");
  if (session->trainer.broken())
    return failedBroken("mtl_session_save");
  auto ck = mtlrt::captureCheckpoint(session->trainer);
  if (!ck)
    return failed(ck.error());
  if (auto s = mtlrt::writeCheckpoint(path, *ck); !s)
    return failed(s.error());
  return 0;
}

int mtl_session_predict(mtl_session *session, int64_t rows, const float *const *inputs,
                        float *const *outputs) {
  if (!session || !inputs || !outputs)
    return failed("mtl_session_predict: no session, inputs or outputs");
  if (session->trainer.broken())
    return failedBroken("mtl_session_predict");
  const mtl_model &m = session->trainer.model();
  if (session->stale) {
    if (auto s = session->predictor.copyFrom(session->trainer); !s)
      return failed(s.error());
    session->stale = false;
  }
  // The caller's floating-point mode plays no part: scaling and the
  // probabilities after the model run in the model's mode too.
  mtlrt::ScopedFloatMode mode(session->trainer.options().flushDenormals);
  if (!session->applyScales(rows, inputs, nullptr))
    return -1;
  auto s = session->predictor.predict(rows, {session->scaledPointers.data(), size_t(m.num_inputs)},
                                      {outputs, size_t(m.num_tasks)});
  return s ? 0 : failed(s.error());
}

int mtl_session_train_batch(mtl_session *session, int64_t rows, const float *const *inputs,
                            const float *const *targets, float *total_loss, float *task_losses) {
  if (!session || !inputs || !targets)
    return failed("mtl_session_train_batch: no session, inputs or targets");
  if (session->trainer.broken())
    return failedBroken("mtl_session_train_batch");
  const mtl_model &m = session->trainer.model();
  std::vector<float> &losses = session->taskLosses;
  mtlrt::ScopedFloatMode mode(session->trainer.options().flushDenormals);
  // Rows out of range are the trainer's to refuse, before anything is copied.
  if (!session->applyScales(std::clamp<int64_t>(rows, 0, session->maxBatch), inputs, targets))
    return -1;
  const float *const *scaled = session->scaledPointers.data();
  auto total = session->trainer.trainBatch(rows, {scaled, size_t(m.num_inputs)},
                                           {scaled + m.num_inputs, size_t(m.num_tasks)}, losses);
  if (!total && session->trainer.broken())
    return failed(fmt::format(
        "mtl_session_train_batch: step {} overflowed: its update left parameters or optimizer "
        "state that are not finite, so the session refuses to predict, save or train until "
        "mtl_session_load loads parameters again (its optimizer then starts afresh); a lower "
        "learning rate may help",
        session->trainer.step()));
  if (!total)
    return failed(total.error());
  session->stale = true;
  if (total_loss)
    *total_loss = *total;
  if (task_losses)
    std::copy(losses.begin(), losses.end(), task_losses);
  return 0;
}

/// The class names of `task` (the checkpoint's, else the model's), or null after failed().
static const std::vector<std::string> *classNamesOf(const mtl_session *session, int32_t task,
                                                    const char *caller) {
  if (!session) {
    failed(fmt::format("{}: no session", caller));
    return nullptr;
  }
  const mtl_model &m = session->trainer.model();
  if (task < 0 || task >= m.num_tasks) {
    failed(
        fmt::format("{}: task {} is out of range (the model has {})", caller, task, m.num_tasks));
    return nullptr;
  }
  const std::vector<std::string> *names = nullptr;
  const auto &loaded = session->trainer.classNames();
  if (size_t(task) < loaded.size() && !loaded[size_t(task)].empty())
    names = &loaded[size_t(task)];
  else if (size_t(task) < session->declaredClasses.size() &&
           !session->declaredClasses[size_t(task)].empty())
    names = &session->declaredClasses[size_t(task)];
  if (!names)
    failed(fmt::format("{}: task '{}' has no named classes (load a checkpoint trained on "
                       "labelled data, or declare classes = [..] in the model)",
                       caller, m.tasks[task].name));
  return names;
}

const char *mtl_session_class_name(const mtl_session *session, int32_t task, int64_t id) {
  const std::vector<std::string> *names = classNamesOf(session, task, "mtl_session_class_name");
  if (!names)
    return nullptr;
  if (id < 0 || size_t(id) >= names->size()) {
    failed(fmt::format("mtl_session_class_name: task '{}' has classes 0..{}, not {}",
                       session->trainer.model().tasks[task].name, names->size() - 1, id));
    return nullptr;
  }
  return (*names)[size_t(id)].c_str();
}

int64_t mtl_session_class_id(const mtl_session *session, int32_t task, const char *name) {
  if (session && !name) {
    failed("mtl_session_class_id: no name");
    return -1;
  }
  const std::vector<std::string> *names = classNamesOf(session, task, "mtl_session_class_id");
  if (!names)
    return -1;
  // As the CSV reader reads labels: a name cut from a line keeps its blanks.
  const std::string_view wanted = mtlrt::trimCell(name);
  for (size_t i = 0; i < names->size(); ++i)
    if ((*names)[i] == wanted)
      return int64_t(i);
  failed(fmt::format("mtl_session_class_id: '{}' is not one of the {} classes of task '{}' ({})",
                     name, names->size(), session->trainer.model().tasks[task].name,
                     fmt::join(*names, ", ")));
  return -1;
}

int64_t mtl_session_category_id(const mtl_session *session, int32_t input, int64_t element,
                                const char *value) {
  if (!session || !value) {
    failed(fmt::format("mtl_session_category_id: no {}", session ? "value" : "session"));
    return -1;
  }
  const mtl_model &m = session->trainer.model();
  if (input < 0 || input >= m.num_inputs) {
    failed(fmt::format("mtl_session_category_id: input {} is out of range (the model has {})",
                       input, m.num_inputs));
    return -1;
  }
  const auto &all = session->trainer.categories();
  if (size_t(input) >= all.size() || all[size_t(input)].empty()) {
    failed(fmt::format("mtl_session_category_id: input '{}' has no category vocabulary (load a "
                       "checkpoint of a model that reads it 'as category')",
                       m.inputs[input].name));
    return -1;
  }
  const mtlrt::Categories &categories = all[size_t(input)];
  if (element < 0 || size_t(element) >= categories.size()) {
    failed(fmt::format("mtl_session_category_id: input '{}' has elements 0..{}, not {}",
                       m.inputs[input].name, categories.size() - 1, element));
    return -1;
  }
  int64_t offset = 0;
  for (int64_t j = 0; j < element; ++j)
    offset += int64_t(categories[size_t(j)].size());
  const std::vector<std::string> &names = categories[size_t(element)];
  const std::string_view wanted = mtlrt::trimCell(value); // as the CSV reader reads categories
  for (size_t i = 1; i < names.size(); ++i)
    if (names[i] == wanted)
      return offset + int64_t(i);
  return offset; // <unk>
}

const char *mtl_last_error(void) { return lastError.c_str(); }

} // extern "C"
