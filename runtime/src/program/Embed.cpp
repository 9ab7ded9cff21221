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

/// "CALLER: WHAT is NULL; RIGHT": every message says which function, what
/// is wrong and what would be right.
int failedNull(const char *caller, const char *what, std::string_view right) {
  return failed(fmt::format("{}: {} is NULL; {}", caller, what, right));
}

const char *const kPassSession = "pass a session that mtl_session_create made";

/// The refusal of a NULL `what`, the array of `model`'s input slots
/// (`inputs`) or task slots (outputs, targets).
int failedNullArray(const char *caller, const char *what, const mtl_model &model, bool inputs) {
  return failedNull(
      caller, what,
      fmt::format("pass an array with a pointer for each {} of model '{}' (it has {})",
                  inputs ? "input" : "task", model.name,
                  inputs ? model.num_inputs : model.num_tasks));
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

  enum class Arrays { Inputs, Outputs, Targets };

  /// False (after failed()) when `rows` > 0 and a slot of `arrays` is NULL.
  template <typename T>
  bool slotsGiven(const char *caller, int64_t rows, T *const *arrays, Arrays kind) const {
    const mtl_model &m = trainer.model();
    const bool inputs = kind == Arrays::Inputs;
    for (int32_t k = 0; rows > 0 && k < (inputs ? m.num_inputs : m.num_tasks); ++k) {
      if (arrays[k])
        continue;
      const int64_t width = inputs ? m.inputs[k].elements
                            : kind == Arrays::Targets && m.tasks[k].kind == MTL_CLASSIFY
                                ? 1
                                : m.tasks[k].width;
      failed(fmt::format("{}: {}[{}] ({} '{}') is NULL; it must point to {}{} rows x {} {}", caller,
                         inputs                    ? "inputs"
                         : kind == Arrays::Outputs ? "outputs"
                                                   : "targets",
                         k, inputs ? "input" : "task", inputs ? m.inputs[k].name : m.tasks[k].name,
                         kind == Arrays::Outputs ? "room for " : "", rows, width,
                         inputs                    ? "values"
                         : kind == Arrays::Outputs ? "values"
                                                   : "labels (NaN where a row has none)"));
      return false;
    }
    return true;
  }

  /// `inputs` (and `targets`, when given) with their scales applied: the
  /// caller's arrays where a slot has none, else copies in `scaled`. False
  /// (after failed()) when there is no memory for the copies.
  bool applyScales(const char *caller, int64_t rows, const float *const *inputs,
                   const float *const *targets) try {
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
      lastError = caller;
      lastError += ": out of memory for the scaled copies of the rows; pass fewer rows at a time";
    } catch (...) {
    }
    return false;
  }
};

extern "C" {

mtl_session *mtl_session_create(const mtl_model *model, int threads, int64_t max_batch) {
  if (!model) {
    failedNull("mtl_session_create", "model",
               "pass the descriptor that the library's header declares, NAME_model()");
    return nullptr;
  }
  if (max_batch < 1) {
    failed(fmt::format("mtl_session_create: max_batch is {}; it must be at least 1, the most "
                       "rows one mtl_session_train_batch call takes",
                       max_batch));
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
  const std::string cannot = fmt::format("mtl_session_create: cannot make a session of model '{}'",
                                         model->name ? model->name : "");
  std::shared_ptr<mtlrt::ThreadPool> pool;
  try {
    pool = sharedPool(threads);
  } catch (const std::exception &e) { // no memory, or the system has no threads left
    failed(fmt::format("{}: starting a pool of {} threads failed ({}); ask for fewer threads",
                       cannot, threads, e.what()));
    return nullptr;
  }
  auto trainer = mtlrt::Trainer::create(model, options, pool);
  if (!trainer) {
    failed(fmt::format("{}: {}", cannot, trainer.error()));
    return nullptr;
  }
  auto predictor = mtlrt::Predictor::create(model, pool);
  if (!predictor) {
    failed(fmt::format("{}: {}", cannot, predictor.error()));
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
    failed(cannot + ": out of memory");
  return session;
}

void mtl_session_destroy(mtl_session *session) { delete session; }

int mtl_session_load(mtl_session *session, const char *path) {
  if (!session)
    return failedNull("mtl_session_load", "session", kPassSession);
  if (!path)
    return failedNull("mtl_session_load", "checkpoint_path", "pass the path of a checkpoint file");
  auto ck = mtlrt::readCheckpoint(path);
  if (!ck)
    return failed(fmt::format("mtl_session_load: {}; the session is unchanged", ck.error()));
  if (auto s = mtlrt::applyCheckpoint(*ck, session->trainer, mtlrt::Restore::Trained); !s)
    return failed(fmt::format("mtl_session_load: {}; the session is unchanged", s.error()));
  // The optimizer state an overflowed step left is not finite either.
  if (session->trainer.broken())
    session->trainer.restartOptimizer();
  session->stale = true;
  return 0;
}

int mtl_session_save(mtl_session *session, const char *path) {
  if (!session)
    return failedNull("mtl_session_save", "session", kPassSession);
  if (!path)
    return failedNull("mtl_session_save", "checkpoint_path", "pass the path of the file to write");
  if (session->trainer.broken())
    return failedBroken("mtl_session_save");
  auto ck = mtlrt::captureCheckpoint(session->trainer);
  if (!ck)
    return failed(fmt::format("mtl_session_save: {}", ck.error()));
  if (auto s = mtlrt::writeCheckpoint(path, *ck); !s)
    return failed(fmt::format("mtl_session_save: {}", s.error()));
  return 0;
}

int mtl_session_predict(mtl_session *session, int64_t rows, const float *const *inputs,
                        float *const *outputs) {
  const char *const self = "mtl_session_predict";
  if (!session)
    return failedNull(self, "session", kPassSession);
  const mtl_model &m = session->trainer.model();
  if (!inputs)
    return failedNullArray(self, "inputs", m, true);
  if (!outputs)
    return failedNullArray(self, "outputs", m, false);
  if (rows < 0)
    return failed(fmt::format("{}: rows is {}; it must be 0 or more", self, rows));
  if (session->trainer.broken())
    return failedBroken(self);
  if (!session->slotsGiven(self, rows, inputs, mtl_session::Arrays::Inputs) ||
      !session->slotsGiven(self, rows, outputs, mtl_session::Arrays::Outputs))
    return -1;
  if (session->stale) {
    if (auto s = session->predictor.copyFrom(session->trainer); !s)
      return failed(fmt::format("{}: {}", self, s.error()));
    session->stale = false;
  }
  // The caller's floating-point mode plays no part: scaling and the
  // probabilities after the model run in the model's mode too.
  mtlrt::ScopedFloatMode mode(session->trainer.options().flushDenormals);
  if (!session->applyScales(self, rows, inputs, nullptr))
    return -1;
  auto s = session->predictor.predict(rows, {session->scaledPointers.data(), size_t(m.num_inputs)},
                                      {outputs, size_t(m.num_tasks)});
  return s ? 0 : failed(fmt::format("{}: {}", self, s.error()));
}

int mtl_session_train_batch(mtl_session *session, int64_t rows, const float *const *inputs,
                            const float *const *targets, float *total_loss, float *task_losses) {
  const char *const self = "mtl_session_train_batch";
  if (!session)
    return failedNull(self, "session", kPassSession);
  const mtl_model &m = session->trainer.model();
  if (!inputs)
    return failedNullArray(self, "inputs", m, true);
  if (!targets)
    return failedNullArray(self, "targets", m, false);
  if (rows < 1 || rows > session->maxBatch)
    return failed(fmt::format("{}: rows is {}; it must be in [1, {}], {} being the session's "
                              "max_batch",
                              self, rows, session->maxBatch, session->maxBatch));
  if (session->trainer.broken())
    return failedBroken(self);
  if (!session->slotsGiven(self, rows, inputs, mtl_session::Arrays::Inputs) ||
      !session->slotsGiven(self, rows, targets, mtl_session::Arrays::Targets))
    return -1;
  std::vector<float> &losses = session->taskLosses;
  mtlrt::ScopedFloatMode mode(session->trainer.options().flushDenormals);
  if (!session->applyScales(self, rows, inputs, targets))
    return -1;
  const float *const *scaled = session->scaledPointers.data();
  auto total = session->trainer.trainBatch(rows, {scaled, size_t(m.num_inputs)},
                                           {scaled + m.num_inputs, size_t(m.num_tasks)}, losses);
  if (!total && session->trainer.broken())
    return failed(fmt::format(
        "{}: step {} overflowed: its update left parameters or optimizer state that are not "
        "finite, so the session refuses to predict, save or train until mtl_session_load loads "
        "parameters again (its optimizer then starts afresh); a lower learning rate may help",
        self, session->trainer.step()));
  if (!total)
    return failed(fmt::format("{}: {}", self, total.error()));
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
    failedNull(caller, "session", kPassSession);
    return nullptr;
  }
  const mtl_model &m = session->trainer.model();
  if (task < 0 || task >= m.num_tasks) {
    failed(fmt::format("{}: task {} is out of range; it must be in [0, {}], the tasks of model "
                       "'{}'",
                       caller, task, m.num_tasks - 1, m.name));
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
    failed(fmt::format("{}: task '{}' has no named classes; load a checkpoint of a run on "
                       "labelled data, or declare classes = [..] in the model",
                       caller, m.tasks[task].name));
  return names;
}

const char *mtl_session_class_name(const mtl_session *session, int32_t task, int64_t id) {
  const std::vector<std::string> *names = classNamesOf(session, task, "mtl_session_class_name");
  if (!names)
    return nullptr;
  if (id < 0 || size_t(id) >= names->size()) {
    failed(fmt::format("mtl_session_class_name: id {} is out of range; it must be in [0, {}], "
                       "the classes of task '{}'",
                       id, names->size() - 1, session->trainer.model().tasks[task].name));
    return nullptr;
  }
  return (*names)[size_t(id)].c_str();
}

int64_t mtl_session_class_id(const mtl_session *session, int32_t task, const char *name) {
  if (session && !name) {
    failedNull("mtl_session_class_id", "name",
               "pass the name of a class, as mtl_session_class_name gives it");
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
  // A missing label (an empty cell, or the data's na marker such as "NA")
  // is no class: train_batch takes NaN for it.
  const std::string &taskName = session->trainer.model().tasks[task].name;
  if (wanted.empty())
    failed(fmt::format("mtl_session_class_id: an empty name is a missing label, as the CSV reader "
                       "reads it; a row without a label of task '{}' takes NaN as its target",
                       taskName));
  else
    failed(fmt::format("mtl_session_class_id: task '{}' has no class '{}'; its {} classes are {} "
                       "(a row without a label takes NaN as its target, not a class id)",
                       taskName, wanted, names->size(), fmt::join(*names, ", ")));
  return -1;
}

int64_t mtl_session_category_id(const mtl_session *session, int32_t input, int64_t element,
                                const char *value) {
  const char *const self = "mtl_session_category_id";
  if (!session) {
    failedNull(self, "session", kPassSession);
    return -1;
  }
  if (!value) {
    failedNull(self, "value", "pass a category as the data writes it");
    return -1;
  }
  const mtl_model &m = session->trainer.model();
  if (input < 0 || input >= m.num_inputs) {
    failed(fmt::format("{}: input {} is out of range; it must be in [0, {}], the inputs of model "
                       "'{}'",
                       self, input, m.num_inputs - 1, m.name));
    return -1;
  }
  const auto &all = session->trainer.categories();
  if (size_t(input) >= all.size() || all[size_t(input)].empty()) {
    failed(fmt::format("{}: input '{}' has no category vocabulary; load a checkpoint of a run "
                       "of a model that reads it 'as category'",
                       self, m.inputs[input].name));
    return -1;
  }
  const mtlrt::Categories &categories = all[size_t(input)];
  if (element < 0 || size_t(element) >= categories.size()) {
    failed(fmt::format("{}: element {} is out of range; it must be in [0, {}], the elements of "
                       "input '{}'",
                       self, element, categories.size() - 1, m.inputs[input].name));
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
