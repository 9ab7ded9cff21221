/* embed_scaled.c: the C library on a model that reads its data with scale(x).
 *
 * examples/digits_autoencoder.mtl reads 64 pixels (0..16) with scale(1 / 16)
 * as its input and as its regression target. The library takes rows as the
 * data holds them: this program passes the raw pixels of ROWS.csv (64 pixels
 * and a label per line, no header), prints the predictions as `NAME predict`
 * writes them (a header, then %.9g values on the data's scale), and then
 * takes one training step on the same raw rows and prints its loss on
 * stderr, which is in the model's units: the mean of ((prediction - pixel) / 16)^2.
 * It predicts the rows once more with the caller's rounding mode set upward:
 * the library rounds to nearest while it runs, so the results are the same
 * bits, and the caller's mode is as it was after the call.
 *
 * Usage: embed_scaled CHECKPOINT ROWS.csv
 */
#include "digits_autoencoder.h"

#include <fenv.h>
#include <stdio.h>
#include <string.h>

#define ROWS 32
#define PIXELS DIGITS_AUTOENCODER_INPUT_PIXELS_SIZE

int main(int argc, char **argv) {
  static float pixels[ROWS][PIXELS], out[ROWS][PIXELS], upward[ROWS][PIXELS];
  float label, total;
  const float *inputs[1], *targets[1];
  float *outputs[1];
  mtl_session *session;
  FILE *file;
  int r, c;
  if (argc != 3) {
    fprintf(stderr, "usage: %s CHECKPOINT ROWS.csv\n", argv[0]);
    return 2;
  }
  file = fopen(argv[2], "r");
  if (!file)
    return 2;
  for (r = 0; r < ROWS; ++r) {
    for (c = 0; c < PIXELS; ++c)
      if (fscanf(file, "%f,", &pixels[r][c]) != 1)
        return 2;
    if (fscanf(file, "%f", &label) != 1)
      return 2;
  }
  fclose(file);
  session = mtl_session_create(digits_autoencoder_model(), 1, ROWS);
  if (!session || mtl_session_load(session, argv[1]) != 0) {
    fprintf(stderr, "error: %s\n", mtl_last_error());
    return 1;
  }
  inputs[0] = pixels[0];
  targets[0] = pixels[0];
  outputs[0] = out[0];
  if (mtl_session_predict(session, ROWS, inputs, outputs) != 0) {
    fprintf(stderr, "error: %s\n", mtl_last_error());
    return 1;
  }
  outputs[0] = upward[0];
  fesetround(FE_UPWARD);
  if (mtl_session_predict(session, ROWS, inputs, outputs) != 0) {
    fprintf(stderr, "error: %s\n", mtl_last_error());
    return 1;
  }
  if (fegetround() != FE_UPWARD) {
    fprintf(stderr, "error: the library changed the caller's rounding mode\n");
    return 1;
  }
  fesetround(FE_TONEAREST);
  if (memcmp(out, upward, sizeof out) != 0) {
    fprintf(stderr, "error: the predictions depend on the caller's rounding mode\n");
    return 1;
  }
  if (mtl_session_train_batch(session, ROWS, inputs, targets, &total, NULL) != 0) {
    fprintf(stderr, "error: %s\n", mtl_last_error());
    return 1;
  }
  for (c = 0; c < PIXELS; ++c)
    printf("%sreconstruct.%d", c ? "," : "", c);
  printf("\n");
  for (r = 0; r < ROWS; ++r)
    for (c = 0; c < PIXELS; ++c)
      printf("%.9g%s", out[r][c], c + 1 < PIXELS ? "," : "\n");
  fprintf(stderr, "loss %.9g\n", total);
  mtl_session_destroy(session);
  return 0;
}
