#!/usr/bin/env bash
# embed_names.sh: the names of a model library's header (docs/embedding.md).
# `mtlc build --lib` names its files and the descriptor getter after the model
# as written (libMixed.a, Mixed.h, Mixed_model) and its constants in upper
# case (MIXED_INPUT_X). Two names of one model that would become the same
# constant (inputs `x` and `X`; a task `t` beside a task `t_size` or
# `t_target`) are refused with an error at the later declaration and a note
# at the earlier one, and no library is written, as is a model whose name
# begins with an underscore (names C reserves); names that only look alike
# (an input `num` beside NUM_INPUTS) build, and the header compiles. The
# library defines no C names but those of its interface.
#
# Usage: embed_names.sh MTLC LOG_CHECK
source "$(dirname "$0")/common.sh"
cc=${CC:-cc}

# model_text NAME INPUTS TASKS: a model with one f32[2] input per name in
# INPUTS and one regression head per name in TASKS, on the first input.
model_text() {
  local name=$1 inputs=$2 tasks=$3 first
  first=${inputs%% *}
  echo "model $name {"
  for i in $inputs; do echo "  input $i : f32[2]"; done
  echo "  shared trunk = $first -> dense(4) -> relu"
  for t in $tasks; do
    echo "  task $t : regress {"
    echo "    head = trunk -> dense(1)"
    echo "  }"
  done
  echo "  optimizer sgd(lr = 0.1)"
  echo "  train { epochs = 1, batch = 4, seed = 1 }"
  echo "}"
}

# refused FILE PATTERN...: build --lib FILE fails, writes no library, and its
# messages match every PATTERN (extended regular expressions).
refused() {
  local file=$1 out=$work/$(basename "$1" .mtl).txt
  shift
  if "$mtlc" build --lib "$file" -o "$work/refused" >"$out" 2>&1; then
    fail "$file: build --lib succeeded: $(cat "$out")"
  fi
  for pattern in "$@"; do
    grep -Eq -- "$pattern" "$out" || fail "$file: no line matches '$pattern' in: $(cat "$out")"
  done
  [[ ! -e $work/refused ]] || fail "$file: a refused build wrote $(ls "$work/refused")"
  rm -rf "$work/refused"
}

# Names that differ only in case: inputs x and X (both M_INPUT_X, M_INPUT_X_SIZE).
model_text m "x X" "y" >"$work/case.mtl"
refused "$work/case.mtl" \
  "/case\.mtl:3:[0-9]+: error: input 'X' and input 'x' both become the C constant M_INPUT_X in the library's header m\.h, whose constants are names in upper case; rename one of them$" \
  "/case\.mtl:2:[0-9]+: note: input 'x' is declared here$"
[[ $(grep -c 'error:' "$work/case.txt") -eq 1 ]] || fail "one error per pair of names: $(cat "$work/case.txt")"

# A task t and a task t_size: t's outputs per row (M_TASK_T_SIZE) is t_size's slot.
model_text m "x" "t t_size" >"$work/size.mtl"
refused "$work/size.mtl" \
  "/size\.mtl:[0-9]+:[0-9]+: error: task 't_size' and task 't' both become the C constant M_TASK_T_SIZE \(the slot of task 't_size', and the outputs per row of task 't'\) in the library's header m\.h" \
  "note: task 't' is declared here$"

# A task t_target declared before a task t: t's labels per row is t_target's outputs per row.
model_text m "x" "t_target t" >"$work/target.mtl"
refused "$work/target.mtl" \
  "error: task 't' and task 't_target' both become the C constant M_TASK_T_TARGET_SIZE \(the labels per row of task 't', and the outputs per row of task 't_target'\)" \
  "note: task 't_target' is declared here$"

# A model whose name begins with an underscore: its header's names
# (_m_model, _M_NUM_TASKS) would be names C reserves.
model_text _m "x" "y" >"$work/underscore.mtl"
refused "$work/underscore.mtl" \
  "/underscore\.mtl:1:[0-9]+: error: model '_m' would give its library's header C names that begin with an underscore \(_m_model, _M_NUM_TASKS\), which C reserves; rename the model to begin with a letter"
"$mtlc" build "$work/underscore.mtl" -o "$work/underscore" >"$work/underscore-program.txt" 2>&1 ||
  fail "a program of model '_m' does not build: $(cat "$work/underscore-program.txt")"

# Every collision of a model is reported in one run.
model_text m "a A" "t t_size" >"$work/both.mtl"
refused "$work/both.mtl" "input 'A' and input 'a'" "task 't_size' and task 't'"

# Names that look like the header's own constants but are not the same
# identifier build, and the header compiles as C with every warning an error.
model_text Mixed "num num_inputs" "num_tasks tasks" >"$work/mixed.mtl"
"$mtlc" build --lib "$work/mixed.mtl" -o "$work/lib" >"$work/mixed.txt" 2>&1 ||
  { fail "build --lib mixed.mtl: $(cat "$work/mixed.txt")"; finish; }
[[ -f $work/lib/libMixed.a && -f $work/lib/Mixed.h ]] ||
  fail "the library of model 'Mixed' is not libMixed.a and Mixed.h: $(ls "$work/lib")"
cat >"$work/use.c" <<'EOF'
#include "Mixed.h"
#include <stdio.h>
int main(void) {
  const float num[MIXED_INPUT_NUM_SIZE] = {0.5f, -1}, other[MIXED_INPUT_NUM_INPUTS_SIZE] = {1, 2};
  const float *inputs[MIXED_NUM_INPUTS] = {num, other};
  float a[MIXED_TASK_NUM_TASKS_SIZE], b[MIXED_TASK_TASKS_SIZE];
  float *outputs[MIXED_NUM_TASKS] = {a, b};
  mtl_session *s = mtl_session_create(Mixed_model(), 1, 4);
  if (!s || mtl_session_predict(s, 1, inputs, outputs) != 0) {
    printf("error: %s\n", mtl_last_error());
    return 1;
  }
  mtl_session_destroy(s);
  printf("%d %d %d %d\n", MIXED_INPUT_NUM, MIXED_INPUT_NUM_INPUTS, MIXED_TASK_NUM_TASKS,
         MIXED_TASK_TASKS);
  return 0;
}
EOF
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic "$work/use.c" -I "$work/lib" "$work/lib/libMixed.a" \
  -lstdc++ -lz -lm -lpthread -o "$work/use" || fail "Mixed.h does not compile, or the program does not link"
[[ $("$work/use") == "0 1 0 1" ]] || fail "the slots of model 'Mixed': $("$work/use")"

# The library defines no C name but its interface's and its getter's: a
# program's own functions cannot clash with the runtime's, whose names are
# C++ names in its namespaces (and names with a '.' are the compiler's).
api="Mixed_model mtl_last_error mtl_session_category_id mtl_session_class_id \
mtl_session_class_name mtl_session_create mtl_session_destroy mtl_session_load \
mtl_session_predict mtl_session_save mtl_session_train_batch"
defined=$(nm -g --defined-only "$work/lib/libMixed.a" 2>/dev/null |
  awk 'NF == 3 && $3 !~ /^_Z/ && $3 !~ /\./ { print $3 }' | sort -u | tr '\n' ' ')
[[ $defined == "$api " ]] || fail "libMixed.a defines other C names than its interface's: $(comm -13 \
  <(tr ' ' '\n' <<<"$api" | sort) <(tr ' ' '\n' <<<"$defined" | sort) | grep -v '^$' | tr '\n' ' ')"
finish
