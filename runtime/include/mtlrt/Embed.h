/* Embed.h: the C interface of a model library built by `mtlc build --lib`.
 *
 * `mtlc build --lib FILE -o DIR` copies this declaration block into the
 * generated header DIR/NAME.h, after which come the model's own constants
 * and its descriptor getter. Plain C: a C or C++ program uses it alike.
 *
 * A session holds one model's parameters, optimizer state and
 * standardisation statistics. Functions that can fail return 0 on success
 * and -1 (or NULL) on failure; mtl_last_error() then says why. Rows are row-major
 * float arrays, one per input and one per task, in the order of the
 * header's constants.
 */
#ifndef MTLRT_EMBED_H
#define MTLRT_EMBED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtl_model;
typedef struct mtl_session mtl_session;

/** A session for `model` with freshly initialised parameters (from the
 * model's seed; the model's `train { init = .. }` is not read: load
 * parameters with mtl_session_load) and room for training batches of up to
 * `max_batch` rows. `threads`, in [1, 1024], is how many threads each call
 * may use, the caller's included; sessions of the same `threads` share one
 * pool of them. Results do not depend on it. NULL on failure. */
mtl_session *mtl_session_create(const struct mtl_model *model, int threads, int64_t max_batch);

/** Frees the session; NULL is ignored. */
void mtl_session_destroy(mtl_session *session);

/** Loads a checkpoint's parameters and standardisation statistics (the
 * session's optimizer state and step are kept, except after a step that
 * overflowed: the optimizer then starts afresh). A checkpoint of another
 * model fails, listing the differences, and changes nothing. */
int mtl_session_load(mtl_session *session, const char *checkpoint_path);

/** Writes the session as a checkpoint (atomically, see docs/checkpoints.md). */
int mtl_session_save(mtl_session *session, const char *checkpoint_path);

/** Predicts `rows` rows: inputs[i] holds rows x (elements of input i) raw
 * values, standardised here as in training (ids of integer inputs as
 * floats); outputs[t] receives rows x (width of task t) values: class
 * probabilities (classify), the probability of 1 (binary), per-label
 * probabilities (multilabel) or values on the data's scale (regress). The
 * numbers equal those of `NAME predict` for the same rows. */
int mtl_session_predict(mtl_session *session, int64_t rows, const float *const *inputs,
                        float *const *outputs);

/** One optimizer step on 1 to max_batch rows, at the model's learning rate
 * (constant: the model's schedule counts epochs, which a session has not):
 * inputs as for predict,
 * targets[t] rows x (target width of task t) labels (a class id for
 * classify, 0/1 for binary, NaN for no label). Writes the total loss and,
 * when task_losses is not NULL, each task's mean loss. A step whose update
 * overflows (parameters no longer finite) fails, and the session then
 * refuses predict, save and train_batch until a load. */
int mtl_session_train_batch(mtl_session *session, int64_t rows, const float *const *inputs,
                            const float *const *targets, float *total_loss, float *task_losses);

/** The name of class `id` of task `task` (tasks counted from 0): the
 * training data's label, from the loaded checkpoint (or the model's
 * `classes = [..]`), so that ids read the same in every program. NULL (and
 * mtl_last_error says why) for a task without named classes or an id out of
 * range. The string lives as long as the session or its next load. */
const char *mtl_session_class_name(const mtl_session *session, int32_t task, int64_t id);

/** The id of the class named `name` of task `task`: what train_batch takes as
 * that class's label. Blanks, tabs and carriage returns around the name are
 * ignored, as the CSV reader ignores them around a label. -1 for a name the
 * task does not know (mtl_last_error lists the names it knows), and for an
 * empty one: a row without a label takes NaN as its target, not a class id. */
int64_t mtl_session_class_id(const mtl_session *session, int32_t task, const char *name);

/** The id of category `value` in element `element` (its position in the
 * row, from 0) of integer input `input`, read 'as category': what predict
 * and train_batch take for it, by the vocabulary of the loaded checkpoint.
 * A value that training never saw gets the id of that element's <unk>;
 * blanks around the value are ignored, as for class_id. -1
 * (mtl_last_error says why) for an input without a vocabulary (no
 * checkpoint loaded, or the input is not read 'as category') or an element
 * out of range. */
int64_t mtl_session_category_id(const mtl_session *session, int32_t input, int64_t element,
                                const char *value);

/** Why the last failing call on this thread failed ("" if none did): one
 * sentence naming the function, what is wrong and what would be right. The
 * string is the library's and stays valid until this thread's next call of
 * a function of this header; a call that succeeds does not clear it. */
const char *mtl_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* MTLRT_EMBED_H */
