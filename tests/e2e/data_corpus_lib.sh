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
# whole CASE MESSAGE: the case fails with exactly MESSAGE (a regular
# expression, anchored): every message of the library is a sentence that
# names the function, what is wrong and what would be right.
whole() {
  expect_fail "$1" "^error: $2\$" "$work/bad_arrays" "$1"
}
# Non-finite inputs: the input, the row and the column (counted from 0).
whole predict_nan_input "mtl_session_predict: input 'x', row 1, column 2 \(from 0\): nan is not a finite number"
bad predict_inf_input "input 'x'.*row 1, column 2 \(from 0\)"
bad predict_neg_inf_input "input 'x'.*row 1, column 2 \(from 0\)"
whole train_nan_input "mtl_session_train_batch: input 'x', row 1, column 2 \(from 0\): nan is not a finite number"
bad train_inf_input "input 'x'.*row 1, column 2 \(from 0\)"
# Labels a task cannot take.
whole train_class_out_of_range "mtl_session_train_batch: task 'kind', row 1, column 0 \(from 0\): label 3 is not a class id in \[0, 3\)"
bad train_class_negative "task 'level', row 1, column 0 \(from 0\): label -1"
bad train_class_not_integer "task 'level', row 1, column 0 \(from 0\): label 1\.5"
bad train_class_inf "task 'kind', row 1, column 0 \(from 0\): label inf"
bad train_binary_out_of_range "task 'flag', row 1, column 0 \(from 0\): label 2"
bad train_regress_inf "task 'size', row 1, column 0 \(from 0\): label -inf"
# Row counts.
whole train_rows_over_max_batch "mtl_session_train_batch: rows is 5; it must be in \[1, 4\], 4 being the session's max_batch"
whole train_zero_rows "mtl_session_train_batch: rows is 0; it must be in \[1, 4\], 4 being the session's max_batch"
whole predict_negative_rows "mtl_session_predict: rows is -1; it must be 0 or more"
# Missing pointers and arguments.
session_null="is NULL; pass a session that mtl_session_create made"
whole predict_null_session "mtl_session_predict: session $session_null"
whole train_null_session "mtl_session_train_batch: session $session_null"
whole load_null_session "mtl_session_load: session $session_null"
whole save_null_session "mtl_session_save: session $session_null"
whole class_name_null_session "mtl_session_class_name: session $session_null"
whole category_id_null_session "mtl_session_category_id: session $session_null"
whole predict_null_inputs "mtl_session_predict: inputs is NULL; pass an array with a pointer for each input of model 'corpus' \(it has 1\)"
whole predict_null_input_slot "mtl_session_predict: inputs\[0\] \(input 'x'\) is NULL; it must point to 3 rows x 3 values"
whole predict_null_outputs "mtl_session_predict: outputs is NULL; pass an array with a pointer for each task of model 'corpus' \(it has 4\)"
whole predict_null_output_slot "mtl_session_predict: outputs\[2\] \(task 'size'\) is NULL; it must point to room for 3 rows x 1 values"
whole train_null_targets "mtl_session_train_batch: targets is NULL; pass an array with a pointer for each task of model 'corpus' \(it has 4\)"
whole train_null_target_slot "mtl_session_train_batch: targets\[3\] \(task 'flag'\) is NULL; it must point to 3 rows x 1 labels \(NaN where a row has none\)"
whole train_null_input_slot "mtl_session_train_batch: inputs\[0\] \(input 'x'\) is NULL; it must point to 3 rows x 3 values"
whole load_null_path "mtl_session_load: checkpoint_path is NULL; pass the path of a checkpoint file"
whole save_null_path "mtl_session_save: checkpoint_path is NULL; pass the path of the file to write"
whole create_null_model "mtl_session_create: model is NULL; pass the descriptor that the library's header declares, NAME_model\(\)"
whole create_zero_batch "mtl_session_create: max_batch is 0; it must be at least 1, the most rows one mtl_session_train_batch call takes"
whole create_threads_over "mtl_session_create: threads is 1025; it must be in \[1, 1024\], the threads each call may use, the calling thread included"
whole class_id_null_name "mtl_session_class_id: name is NULL; pass the name of a class, as mtl_session_class_name gives it"
whole category_id_null_value "mtl_session_category_id: value is NULL; pass a category as the data writes it"
# Slots and ids out of range, and what a session without a checkpoint cannot know.
whole class_name_task_out_of_range "mtl_session_class_name: task 4 is out of range; it must be in \[0, 3\], the tasks of model 'corpus'"
whole class_name_no_names "mtl_session_class_name: task 'kind' has no named classes; load a checkpoint of a run on labelled data, or declare classes = \[\.\.\] in the model"
whole category_id_input_out_of_range "mtl_session_category_id: input -1 is out of range; it must be in \[0, 0\], the inputs of model 'corpus'"
whole category_id_no_vocabulary "mtl_session_category_id: input 'x' has no category vocabulary; load a checkpoint of a run of a model that reads it 'as category'"
# Files.
whole load_missing_file "mtl_session_load: no-such\.safetensors: cannot open checkpoint: No such file or directory; the session is unchanged"
whole save_into_missing_folder "mtl_session_save: .*no-such-folder/ck\.safetensors.*"
echo "$cases cases"
finish
