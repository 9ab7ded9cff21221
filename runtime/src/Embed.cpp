// Embed.cpp: the C interface of a model library (mtlrt/Embed.h) over the Trainer and the Predictor.
#include "mtlrt/Embed.h"

#include "mtlrt/Checkpoint.h"
#include "mtlrt/Predictor.h"
#include "mtlrt/RunConfig.h"
#include "mtlrt/Trainer.h"

#include <algorithm>
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

} // namespace

/// Training goes through the Trainer; predictions through a Predictor that
/// copies the Trainer's parameters when they have changed, so both run in
/// the batches `NAME predict` uses and give its numbers.
struct mtl_session {
  mtlrt::Trainer trainer;
  mtlrt::Predictor predictor;
  bool stale = true;             ///< the predictor's parameters lag the trainer's
  std::vector<float> taskLosses; ///< one per task, so a training step allocates nothing
};

extern "C" {

mtl_session *mtl_session_create(const mtl_model *model, int threads, int64_t max_batch) {
  if (!model) {
    failed("mtl_session_create: no model");
    return nullptr;
  }
  mtlrt::TrainOptions options;
  if (auto config = mtlrt::modelRunConfig(*model))
    options = config->train;
  options.batch = max_batch;
  options.threads = threads;
  options.quiet = true;
  options.earlyStop = {};
  auto trainer = mtlrt::Trainer::create(model, options);
  if (!trainer) {
    failed(trainer.error());
    return nullptr;
  }
  auto predictor = mtlrt::Predictor::create(model, threads);
  if (!predictor) {
    failed(predictor.error());
    return nullptr;
  }
  auto *session = new (std::nothrow) mtl_session{std::move(*trainer), std::move(*predictor), true,
                                                 std::vector<float>(size_t(model->num_tasks))};
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
  session->stale = true;
  return 0;
}

int mtl_session_save(mtl_session *session, const char *path) {
  if (!session || !path)
    return failed("mtl_session_save: no session or path");
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
  const mtl_model &m = session->trainer.model();
  if (session->stale) {
    if (auto s = session->predictor.copyFrom(session->trainer); !s)
      return failed(s.error());
    session->stale = false;
  }
  auto s = session->predictor.predict(rows, {inputs, size_t(m.num_inputs)},
                                      {outputs, size_t(m.num_tasks)});
  return s ? 0 : failed(s.error());
}

int mtl_session_train_batch(mtl_session *session, int64_t rows, const float *const *inputs,
                            const float *const *targets, float *total_loss, float *task_losses) {
  if (!session || !inputs || !targets)
    return failed("mtl_session_train_batch: no session, inputs or targets");
  const mtl_model &m = session->trainer.model();
  std::vector<float> &losses = session->taskLosses;
  auto total = session->trainer.trainBatch(rows, {inputs, size_t(m.num_inputs)},
                                           {targets, size_t(m.num_tasks)}, losses);
  if (!total)
    return failed(total.error());
  session->stale = true;
  if (total_loss)
    *total_loss = *total;
  if (task_losses)
    std::copy(losses.begin(), losses.end(), task_losses);
  return 0;
}

const char *mtl_last_error(void) { return lastError.c_str(); }

} // extern "C"
