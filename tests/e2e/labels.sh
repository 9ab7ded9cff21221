#!/usr/bin/env bash
# labels.sh: a task's class vocabulary is fixed by its training data (or its
# `classes = [..]`), and every other file (validation, test, eval --data)
# numbers its labels by it: a file that lacks a class scores correctly, a
# label the vocabulary lacks is a located error, never a silent renumbering.
# Also: non-finite cells are errors, eval --data scores every row of the file,
# and a test file may label a subset of the tasks.
source "$(dirname "$0")/common.sh"

model=$fixtures/labels.mtl
penguins=$examples/data/penguins.csv
grep -v Chinstrap "$penguins" >"$work/no_chinstrap.csv"
sed '6s/Adelie/Emperor/' "$penguins" >"$work/emperor.csv"
sed '6s/female/unknown/' "$penguins" >"$work/sex_unknown.csv"
sed '4s/^Adelie,Torgersen,40.3,/Adelie,Torgersen,inf,/' "$penguins" >"$work/inf.csv"
sed '4s/^Adelie,Torgersen,40.3,/Adelie,Torgersen,NaN,/' "$penguins" >"$work/nan.csv"
grep -q ',inf,' "$work/inf.csv" || fail "fixture: no inf cell was written"
# Rows with every measurement (two penguins have none; those rows are dropped).
rows_no_chinstrap=$(($(grep -vc ',NA,NA,NA,NA,' "$work/no_chinstrap.csv") - 1))

# A validation file without Chinstrap: Gentoo keeps id 2, so accuracy stays high.
"$mtlc" build "$model" -o "$work/labels" >/dev/null 2>&1 || { fail "build failed"; finish; }
"$work/labels" train -q --run-dir "$work/run" --data "val=$work/no_chinstrap.csv" ||
  fail "training with a validation file that lacks a class failed"
acc=$("$log_check" value "$work/run/log.jsonl" last.val.tasks.species.accuracy | sed 's/.* = //')
"$log_check" at-least "$work/run/log.jsonl" last.val.tasks.species.accuracy 0.9 ||
  fail "a validation file without one class scores species accuracy $acc"
# The test file labels species only: sex is not scored there.
"$log_check" at-least "$work/run/log.jsonl" end.test.tasks.species.accuracy 0.9 ||
  fail "the species-only test file was not scored"
sex_test=$("$log_check" value "$work/run/log.jsonl" end.test.tasks.sex.labelled | sed 's/.* = //')
[[ $sex_test == 0 ]] || fail "the species-only test file scored sex on $sex_test rows"

# eval --data: every row of the file, numbered by the checkpoint's vocabulary.
"$work/labels" eval --checkpoint "$work/run/best.safetensors" --data "train=$work/no_chinstrap.csv" \
  >"$work/eval.txt" 2>&1 || fail "eval --data failed: $(cat "$work/eval.txt")"
cat "$work/eval.txt"
grep -q "^train ($rows_no_chinstrap rows)" "$work/eval.txt" ||
  fail "eval --data did not score all $rows_no_chinstrap complete rows of the file"
# The model's own training file, named: every row of it too (it once printed nothing).
rows_all=$(($(grep -vc ',NA,NA,NA,NA,' "$penguins") - 1))
"$work/labels" eval --checkpoint "$work/run/best.safetensors" --data "train=$penguins" \
  >"$work/eval.txt" 2>&1 || fail "eval --data with the training file failed: $(cat "$work/eval.txt")"
grep -q "^train ($rows_all rows)" "$work/eval.txt" ||
  fail "eval --data train=(its own file) did not score all $rows_all rows: $(cat "$work/eval.txt")"

# expect_error WHAT PATTERN CMD...: exit status 1 and a message matching PATTERN.
expect_error() {
  local what=$1 pattern=$2
  shift 2
  timeout 120 "$@" >"$work/out.txt" 2>&1
  local status=$?
  echo "--- $what (exit status $status):"
  head -n 4 "$work/out.txt"
  [[ $status -eq 1 ]] || fail "$what: exit status $status, expected 1"
  grep -Eq "$pattern" "$work/out.txt" || fail "$what: no message matching /$pattern/"
}
expect_error "unseen class in a validation file" \
  "emperor\.csv:6: column 'species': class 'Emperor' is not one of the task's 3 classes \(Adelie, Chinstrap, Gentoo\)" \
  "$work/labels" train -q --no-save --data "val=$work/emperor.csv"
expect_error "unseen binary class in a validation file" \
  "sex_unknown\.csv:6: column 'sex': class 'unknown' is not one of the task's 2 classes \(female, male\)" \
  "$work/labels" train -q --no-save --data "val=$work/sex_unknown.csv"
expect_error "unseen class in eval --data" "emperor\.csv:6: column 'species': class 'Emperor'" \
  "$work/labels" eval --checkpoint "$work/run/best.safetensors" --data "train=$work/emperor.csv"
expect_error "inf feature cell" "inf\.csv:4: column 'bill_length_mm': 'inf' is not a finite number" \
  "$work/labels" train -q --no-save --data "train=$work/inf.csv"
expect_error "NaN feature cell" "nan\.csv:4: column 'bill_length_mm': 'NaN' is not a finite number" \
  "$mtlc" train "$model" -q --no-save --data "val=$work/nan.csv"

# Training data with fewer classes than the task: a note says so, and the
# predictions keep the names known, the rest by id.
"$work/labels" train -q --epochs 1 --run-dir "$work/two" --data "train=$work/no_chinstrap.csv" \
  --data "val=$work/no_chinstrap.csv" --data "species_only=$work/no_chinstrap.csv" 2>"$work/two.txt" || fail "training on two of three classes failed: $(cat "$work/two.txt")"
grep -q "task 'species' is classify(3), and column 'species' names 2 of its classes (Adelie, \
Gentoo); the others have ids from 2 on, no name, and no rows to learn from" "$work/two.txt" ||
  fail "no note of the classes the training data lacks: $(cat "$work/two.txt")"
"$work/labels" predict --checkpoint "$work/two/last.safetensors" --input "$work/no_chinstrap.csv" \
  >"$work/two.csv" 2>/dev/null || fail "predict with two of three classes named failed"
head -1 "$work/two.csv" | grep -q "^row,species.class,species.label,species.prob.Adelie,\
species.prob.Gentoo,species.prob.2,sex.class,sex.label," ||
  fail "the predictions' header lost the class names: $(head -1 "$work/two.csv")"
finish
