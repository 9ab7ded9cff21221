/* bad_arrays.c: feeds one malformed call to the corpus model's C library (data_corpus.sh).
 *
 *   bad_arrays CASE
 *
 * Builds against `mtlc build --lib corpus.mtl` (corpus.h, libcorpus.a) and
 * makes the one call CASE names, with three rows of good values except for
 * the flaw the case is about. When the call fails (returns -1 or NULL) it
 * prints "error: " and mtl_last_error() and exits 1; when it succeeds it
 * prints "ok" and exits 0. Any other ending (a signal, a hang) is a bug the
 * script reports. The cases named `ok_*` must succeed.
 */
#include "corpus.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define ROWS 3
#define MAX_BATCH 4

static float x[MAX_BATCH + 1][CORPUS_INPUT_X_SIZE] = {
    {-0.705f, -1.397f, 0.604f}, {-1.71f, 0.144f, -0.537f}, {-1.768f, 0.03f, -1.85f}};
static float kind[MAX_BATCH + 1] = {0, 0, 1}, level[MAX_BATCH + 1] = {0, 1, 1};
static float size[MAX_BATCH + 1] = {-1.514f, -2.383f, -1.186f}, flag[MAX_BATCH + 1] = {1, 0, 0};
static float probs[MAX_BATCH + 1][CORPUS_TASK_KIND_SIZE], levels[MAX_BATCH + 1][3];
static float sizes[MAX_BATCH + 1], flags[MAX_BATCH + 1];

static int predict(mtl_session *s, int64_t rows) {
  const float *inputs[CORPUS_NUM_INPUTS] = {x[0]};
  float *outputs[CORPUS_NUM_TASKS] = {probs[0], levels[0], sizes, flags};
  return mtl_session_predict(s, rows, inputs, outputs);
}

static int train(mtl_session *s, int64_t rows) {
  const float *inputs[CORPUS_NUM_INPUTS] = {x[0]};
  const float *targets[CORPUS_NUM_TASKS] = {kind, level, size, flag};
  float total, losses[CORPUS_NUM_TASKS];
  int status = mtl_session_train_batch(s, rows, inputs, targets, &total, losses);
  if (status == 0 && !isfinite(total)) {
    fprintf(stderr, "bad_arrays: the step succeeded with a total loss of %g\n", total);
    return -2;
  }
  return status;
}

/* Runs the case `name` on session `s`: the call's status, or 1 for an unknown name. */
static int run(const char *name, mtl_session *s) {
  const float *inputs[CORPUS_NUM_INPUTS] = {x[0]};
  const float *no_input[CORPUS_NUM_INPUTS] = {NULL};
  float *outputs[CORPUS_NUM_TASKS] = {probs[0], levels[0], sizes, flags};
  const float *targets[CORPUS_NUM_TASKS] = {kind, level, size, flag};
  float total;
  /* Flaws sit in row 1, column 2 (from 0) of the input where they can. */
  if (strcmp(name, "ok_predict") == 0)
    return predict(s, ROWS);
  if (strcmp(name, "ok_train") == 0)
    return train(s, ROWS);
  if (strcmp(name, "ok_missing_label") == 0)
    return size[1] = NAN, train(s, ROWS);
  if (strcmp(name, "ok_more_rows_than_batch_predict") == 0)
    return predict(s, MAX_BATCH + 1);
  if (strcmp(name, "predict_nan_input") == 0)
    return x[1][2] = NAN, predict(s, ROWS);
  if (strcmp(name, "predict_inf_input") == 0)
    return x[1][2] = INFINITY, predict(s, ROWS);
  if (strcmp(name, "predict_neg_inf_input") == 0)
    return x[1][2] = -INFINITY, predict(s, ROWS);
  if (strcmp(name, "train_nan_input") == 0)
    return x[1][2] = NAN, train(s, ROWS);
  if (strcmp(name, "train_inf_input") == 0)
    return x[1][2] = INFINITY, train(s, ROWS);
  if (strcmp(name, "train_class_out_of_range") == 0)
    return kind[1] = 3, train(s, ROWS);
  if (strcmp(name, "train_class_negative") == 0)
    return level[1] = -1, train(s, ROWS);
  if (strcmp(name, "train_class_not_integer") == 0)
    return level[1] = 1.5f, train(s, ROWS);
  if (strcmp(name, "train_class_inf") == 0)
    return kind[1] = INFINITY, train(s, ROWS);
  if (strcmp(name, "train_binary_out_of_range") == 0)
    return flag[1] = 2, train(s, ROWS);
  if (strcmp(name, "train_regress_inf") == 0)
    return size[1] = -INFINITY, train(s, ROWS);
  if (strcmp(name, "train_rows_over_max_batch") == 0)
    return train(s, MAX_BATCH + 1);
  if (strcmp(name, "train_zero_rows") == 0)
    return train(s, 0);
  if (strcmp(name, "predict_negative_rows") == 0)
    return predict(s, -1);
  if (strcmp(name, "predict_null_session") == 0)
    return predict(NULL, ROWS);
  if (strcmp(name, "train_null_session") == 0)
    return train(NULL, ROWS);
  if (strcmp(name, "load_null_session") == 0)
    return mtl_session_load(NULL, "ck.safetensors");
  if (strcmp(name, "save_null_session") == 0)
    return mtl_session_save(NULL, "ck.safetensors");
  if (strcmp(name, "class_name_null_session") == 0)
    return mtl_session_class_name(NULL, 0, 0) ? 0 : -1;
  if (strcmp(name, "category_id_null_session") == 0)
    return mtl_session_category_id(NULL, 0, 0, "a") < 0 ? -1 : 0;
  if (strcmp(name, "predict_null_inputs") == 0)
    return mtl_session_predict(s, ROWS, NULL, outputs);
  if (strcmp(name, "predict_null_input_slot") == 0)
    return mtl_session_predict(s, ROWS, no_input, outputs);
  if (strcmp(name, "predict_null_outputs") == 0)
    return mtl_session_predict(s, ROWS, inputs, NULL);
  if (strcmp(name, "predict_null_output_slot") == 0)
    return outputs[CORPUS_TASK_SIZE] = NULL, mtl_session_predict(s, ROWS, inputs, outputs);
  if (strcmp(name, "train_null_targets") == 0)
    return mtl_session_train_batch(s, ROWS, inputs, NULL, &total, NULL);
  if (strcmp(name, "train_null_target_slot") == 0)
    return targets[CORPUS_TASK_FLAG] = NULL,
           mtl_session_train_batch(s, ROWS, inputs, targets, &total, NULL);
  if (strcmp(name, "train_null_input_slot") == 0)
    return mtl_session_train_batch(s, ROWS, no_input, targets, &total, NULL);
  if (strcmp(name, "load_null_path") == 0)
    return mtl_session_load(s, NULL);
  if (strcmp(name, "save_null_path") == 0)
    return mtl_session_save(s, NULL);
  if (strcmp(name, "class_id_null_name") == 0)
    return mtl_session_class_id(s, CORPUS_TASK_KIND, NULL) < 0 ? -1 : 0;
  if (strcmp(name, "category_id_null_value") == 0)
    return mtl_session_category_id(s, 0, 0, NULL) < 0 ? -1 : 0;
  if (strcmp(name, "class_name_task_out_of_range") == 0)
    return mtl_session_class_name(s, CORPUS_NUM_TASKS, 0) ? 0 : -1;
  if (strcmp(name, "class_name_no_names") == 0)
    return mtl_session_class_name(s, CORPUS_TASK_KIND, 0) ? 0 : -1;
  if (strcmp(name, "category_id_input_out_of_range") == 0)
    return mtl_session_category_id(s, -1, 0, "a") < 0 ? -1 : 0;
  if (strcmp(name, "category_id_no_vocabulary") == 0)
    return mtl_session_category_id(s, CORPUS_INPUT_X, 0, "a") < 0 ? -1 : 0;
  if (strcmp(name, "load_missing_file") == 0)
    return mtl_session_load(s, "no-such.safetensors");
  if (strcmp(name, "save_into_missing_folder") == 0)
    return mtl_session_save(s, "no-such-folder/ck.safetensors");
  fprintf(stderr, "bad_arrays: unknown case '%s'\n", name);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CASE\n", argv[0]);
    return 2;
  }
  const char *name = argv[1];
  mtl_session *s = NULL;
  int status;
  if (strcmp(name, "create_null_model") == 0)
    status = (s = mtl_session_create(NULL, 1, MAX_BATCH)) ? 0 : -1;
  else if (strcmp(name, "create_zero_batch") == 0)
    status = (s = mtl_session_create(corpus_model(), 1, 0)) ? 0 : -1;
  else if (strcmp(name, "create_threads_over") == 0)
    status = (s = mtl_session_create(corpus_model(), 1025, MAX_BATCH)) ? 0 : -1;
  else if (!(s = mtl_session_create(corpus_model(), 1, MAX_BATCH)))
    status = -1;
  else
    status = run(name, s);
  mtl_session_destroy(s);
  if (status == 1 || status == -2)
    return 3; /* an unknown case, or a silent wrong result */
  if (status != 0) {
    printf("error: %s\n", mtl_last_error());
    return 1;
  }
  printf("ok\n");
  return 0;
}
