#!/usr/bin/env bash
# data_corpus_lib.sh: malformed arrays handed to a model library (`mtlc build --lib`) are
# refused with -1 and a message naming the slot, row and column, never a crash.
#
# Usage: data_corpus_lib.sh MTLC LOG_CHECK
# Builds corpus/corpus.mtl as a library and corpus/bad_arrays.c against it
# (C99, warnings as errors), then runs one bad_arrays case per call: each
# `ok_*` case must succeed, every other one must fail with exit status 1
# and the library's message (see bad_arrays.c).
source "$(dirname "$0")/common.sh"
source "$here/corpus_helpers.sh"
cc=${CC:-cc}

"$mtlc" build --lib -O 0 "$here/corpus/corpus.mtl" -o "$work/lib" >"$work/build.txt" 2>&1 ||
  { fail "mtlc build --lib corpus.mtl failed: $(cat "$work/build.txt")"; finish; }
"$cc" -std=c99 -Wall -Wextra -Werror "$here/corpus/bad_arrays.c" -I "$work/lib" \
  "$work/lib/libcorpus.a" -lstdc++ -lz -lm -lpthread -o "$work/bad_arrays" ||
  { fail "bad_arrays.c does not build"; finish; }

for name in ok_predict ok_train ok_missing_label ok_more_rows_than_batch_predict; do
  ((cases++))
  out=$(timeout 60 "$work/bad_arrays" "$name" 2>&1)
  [[ $? -eq 0 && $out == ok ]] || fail "$name: $out"
done

# bad CASE PATTERN: the case fails with a message matching PATTERN.
bad() {
  expect_fail "$1" "^error: .*$2" "$work/bad_arrays" "$1"
}
# Non-finite inputs: the input, the row and the column (counted from 0).
bad predict_nan_input "input 'x'.*row 1, column 2 \(from 0\)"
bad predict_inf_input "input 'x'.*row 1, column 2 \(from 0\)"
bad predict_neg_inf_input "input 'x'.*row 1, column 2 \(from 0\)"
bad train_nan_input "input 'x'.*row 1, column 2 \(from 0\)"
bad train_inf_input "input 'x'.*row 1, column 2 \(from 0\)"
# Labels a task cannot take.
bad train_class_out_of_range "task 'kind', row 1, column 0 \(from 0\): label 3"
bad train_class_negative "task 'level', row 1, column 0 \(from 0\): label -1"
bad train_class_not_integer "task 'level', row 1, column 0 \(from 0\): label 1\.5"
bad train_class_inf "task 'kind', row 1, column 0 \(from 0\): label inf"
bad train_binary_out_of_range "task 'flag', row 1, column 0 \(from 0\): label 2"
bad train_regress_inf "task 'size', row 1, column 0 \(from 0\): label -inf"
# Row counts.
bad train_rows_over_max_batch "1 to 4 rows.*got 5"
bad train_zero_rows "1 to 4 rows.*got 0"
bad predict_negative_rows "-1 rows"
# Missing pointers and arguments.
bad predict_null_session "no session"
bad predict_null_inputs "no session, inputs or outputs"
bad predict_null_input_slot "input 'x': no values"
bad predict_null_outputs "no session, inputs or outputs"
bad predict_null_output_slot "task 'size'"
bad train_null_targets "no session, inputs or targets"
bad train_null_target_slot "task 'flag': no targets"
bad train_null_input_slot "input 'x': no values"
bad load_null_path "no session or path"
bad save_null_path "no session or path"
bad create_null_model "no model"
bad create_zero_batch "mtl_session_create: max_batch must be at least 1, got 0"
bad class_id_null_name "mtl_session_class_id: no name"
bad category_id_null_value "mtl_session_category_id: no value"
echo "$cases cases"
finish
