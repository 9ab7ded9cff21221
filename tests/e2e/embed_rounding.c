/* embed_rounding.c: the C library's results do not depend on the caller's
 * rounding mode, and the caller's mode is left as it was.
 *
 * Two sessions load the same wine checkpoint. One runs with the default
 * rounding (to nearest), the other with the caller's mode set upward: a
 * prediction of 64 rows (class probabilities from a softmax, the alcohol
 * content from the standardised output), one training step on them, and
 * the prediction again must be the same bits in both.
 *
 * Usage: embed_rounding CHECKPOINT
 */
#include "wine.h"

#include <fenv.h>
#include <stdio.h>
#include <string.h>

#define ROWS 64

static float x[ROWS][WINE_INPUT_X_SIZE], label[ROWS], alcohol[ROWS];

/* Predict, train one step, predict again; the outputs of both predictions. */
static int run(const char *checkpoint, int mode, float out[2][ROWS][4]) {
  const float *inputs[1] = {x[0]}, *targets[2] = {label, alcohol};
  float *outputs[2];
  int pass;
  mtl_session *session = mtl_session_create(wine_model(), 1, ROWS);
  if (!session || mtl_session_load(session, checkpoint) != 0)
    return 1;
  fesetround(mode);
  for (pass = 0; pass < 2; ++pass) {
    static float probs[ROWS][3], value[ROWS];
    int r;
    outputs[0] = probs[0];
    outputs[1] = value;
    if (mtl_session_predict(session, ROWS, inputs, outputs) != 0)
      return 1;
    for (r = 0; r < ROWS; ++r) {
      memcpy(out[pass][r], probs[r], sizeof probs[r]);
      out[pass][r][3] = value[r];
    }
    if (pass == 0 && mtl_session_train_batch(session, ROWS, inputs, targets, NULL, NULL) != 0)
      return 1;
  }
  if (fegetround() != mode) {
    fprintf(stderr, "error: the library changed the caller's rounding mode\n");
    return 1;
  }
  fesetround(FE_TONEAREST);
  mtl_session_destroy(session);
  return 0;
}

int main(int argc, char **argv) {
  static float nearest[2][ROWS][4], upward[2][ROWS][4];
  unsigned state = 12345;
  int r, c;
  if (argc != 2) {
    fprintf(stderr, "usage: %s CHECKPOINT\n", argv[0]);
    return 2;
  }
  for (r = 0; r < ROWS; ++r) {
    for (c = 0; c < WINE_INPUT_X_SIZE; ++c) {
      state = state * 1103515245u + 12345u;
      x[r][c] = (float)(state >> 8) / 16777216.0f * 10.0f + 0.1f * (float)c;
    }
    label[r] = (float)(r % 3);
    alcohol[r] = 11.0f + (float)(r % 7) / 3.0f;
  }
  if (run(argv[1], FE_TONEAREST, nearest) != 0 || run(argv[1], FE_UPWARD, upward) != 0) {
    fprintf(stderr, "error: %s\n", mtl_last_error());
    return 1;
  }
  if (memcmp(nearest, upward, sizeof nearest) != 0) {
    fprintf(stderr, "error: the results depend on the caller's rounding mode\n");
    return 1;
  }
  printf("the same bits with the caller rounding to nearest and upward\n");
  return 0;
}
