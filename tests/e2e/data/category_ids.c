/* category_ids.c: prints what mtl_session_category_id gives for ELEMENT VALUE pairs, then
 * what mtl_session_predict says of a row whose element 1 holds element 0's id of u0 (an id of
 * another column's range).
 * Usage: category_ids CHECKPOINT ELEMENT VALUE [ELEMENT VALUE ...] */
#include "ctr.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  mtl_session *session = mtl_session_create(ctr_model(), 1, 16);
  if (!session || mtl_session_load(session, argv[1]) != 0) {
    fprintf(stderr, "error: %s\n", mtl_last_error());
    return 1;
  }
  for (int i = 2; i + 1 < argc; i += 2) {
    int64_t id = mtl_session_category_id(session, 0, atoi(argv[i]), argv[i + 1]);
    printf("%s %s %lld%s%s\n", argv[i], argv[i + 1], (long long)id, id < 0 ? " " : "",
           id < 0 ? mtl_last_error() : "");
  }
  int64_t u0 = mtl_session_category_id(session, 0, 0, "u0");
  float fields[4] = {(float)u0, (float)u0, 0, 0}, numeric[3] = {0, 0, 0}, click, conversion;
  const float *inputs[2] = {fields, numeric};
  float *outputs[2] = {&click, &conversion};
  if (mtl_session_predict(session, 1, inputs, outputs) != 0)
    printf("predict: %s\n", mtl_last_error());
  else
    printf("predict: accepted\n");
  mtl_session_destroy(session);
  return 0;
}
