/* wine_predict.c: a C program that embeds the wine model through the library
 * `mtlc build --lib examples/wine.mtl -o DIR` writes (libwine.a and wine.h).
 *
 *   wine_predict CHECKPOINT DATA.csv
 *       Loads a checkpoint written by `mtlc train` or `wine train`, predicts
 *       every row of the UCI wine file (examples/data/wine_data.csv: a first
 *       line to skip, then alcohol, 12 measurements and the class id per row)
 *       and prints one CSV line per row: the class, its three probabilities
 *       and the alcohol content, under the column names `wine predict` uses.
 *   wine_predict CHECKPOINT DATA.csv --fine-tune STEPS OUT.safetensors
 *       Also drives a training loop of its own first: STEPS optimizer steps on
 *       batches of 16 rows (the rows' own labels), printing the loss of the
 *       first and last step to stderr, then saves the result to OUT.
 *
 * Build (README of this folder):
 *   cc wine_predict.c -I DIR DIR/libwine.a -lstdc++ -lz -lm -lpthread -o wine_predict
 */
#include "wine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 1024
#define COLUMNS 14 /* alcohol, 12 measurements, class */

static float x[MAX_ROWS][WINE_INPUT_X_SIZE];
static float cls[MAX_ROWS], alcohol[MAX_ROWS];

/* Reads up to MAX_ROWS rows; returns how many, or -1 on a malformed file. */
static int read_rows(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    return -1;
  }
  char line[4096];
  int rows = 0;
  if (!fgets(line, sizeof line, f)) { /* the counts line */
    fclose(f);
    return 0;
  }
  while (rows < MAX_ROWS && fgets(line, sizeof line, f)) {
    float v[COLUMNS];
    char *p = line;
    for (int c = 0; c < COLUMNS; ++c) {
      char *end;
      v[c] = strtof(p, &end);
      if (end == p) {
        fprintf(stderr, "%s: row %d: expected %d numbers\n", path, rows + 1, COLUMNS);
        fclose(f);
        return -1;
      }
      p = *end == ',' ? end + 1 : end;
    }
    alcohol[rows] = v[0];
    memcpy(x[rows], v + 1, sizeof x[rows]);
    cls[rows] = v[13];
    ++rows;
  }
  fclose(f);
  return rows;
}

/* Fine-tunes on consecutive batches of 16 rows, cycling through the file. */
static int fine_tune(mtl_session *s, int rows, int steps) {
  for (int step = 0; step < steps; ++step) {
    int first = (step * 16) % rows, n = rows - first < 16 ? rows - first : 16;
    const float *inputs[WINE_NUM_INPUTS] = {x[first]};
    const float *targets[WINE_NUM_TASKS];
    targets[WINE_TASK_CLASS] = &cls[first];
    targets[WINE_TASK_ALCOHOL] = &alcohol[first];
    float total, losses[WINE_NUM_TASKS];
    if (mtl_session_train_batch(s, n, inputs, targets, &total, losses) != 0)
      return -1;
    if (step == 0 || step == steps - 1)
      fprintf(stderr, "step %d: loss %.6f (class %.6f, alcohol %.6f)\n", step + 1, total,
              losses[WINE_TASK_CLASS], losses[WINE_TASK_ALCOHOL]);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3 && !(argc == 6 && strcmp(argv[3], "--fine-tune") == 0)) {
    fprintf(stderr, "usage: %s CHECKPOINT DATA.csv [--fine-tune STEPS OUT.safetensors]\n",
            argv[0]);
    return 2;
  }
  int rows = read_rows(argv[2]);
  if (rows <= 0)
    return 1;
  mtl_session *s = mtl_session_create(wine_model(), 2, 16);
  if (!s || mtl_session_load(s, argv[1]) != 0) {
    fprintf(stderr, "error: %s\n", mtl_last_error());
    mtl_session_destroy(s);
    return 1;
  }
  if (argc == 6 && (fine_tune(s, rows, atoi(argv[4])) != 0 || mtl_session_save(s, argv[5]) != 0)) {
    fprintf(stderr, "error: %s\n", mtl_last_error());
    mtl_session_destroy(s);
    return 1;
  }

  static float probs[MAX_ROWS][WINE_TASK_CLASS_SIZE], value[MAX_ROWS];
  const float *inputs[WINE_NUM_INPUTS] = {x[0]};
  float *outputs[WINE_NUM_TASKS];
  outputs[WINE_TASK_CLASS] = probs[0];
  outputs[WINE_TASK_ALCOHOL] = value;
  if (mtl_session_predict(s, rows, inputs, outputs) != 0) {
    fprintf(stderr, "error: %s\n", mtl_last_error());
    mtl_session_destroy(s);
    return 1;
  }
  printf("class.class,class.prob.0,class.prob.1,class.prob.2,alcohol\n");
  for (int r = 0; r < rows; ++r) {
    int best = 0;
    for (int k = 1; k < WINE_TASK_CLASS_SIZE; ++k)
      if (probs[r][k] > probs[r][best])
        best = k;
    /* %.9g prints every float exactly enough to read it back bit for bit. */
    printf("%d,%.9g,%.9g,%.9g,%.9g\n", best, probs[r][0], probs[r][1], probs[r][2], value[r]);
  }
  mtl_session_destroy(s);
  return 0;
}
