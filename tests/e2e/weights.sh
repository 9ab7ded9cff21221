#!/usr/bin/env bash
# weights.sh: --weight TASK=W overrides a task's loss weight for one run of
# the same compiled model (`mtlc train` and a built program): the log and the
# run's settings show it, resume refuses another weight, and a task the model
# lacks or a bad weight is an error that says what is wrong.
source "$(dirname "$0")/common.sh"

model=$examples/penguins.mtl
"$mtlc" train "$model" --epochs 2 --weight sex=0 --weight body_mass=2 --run-dir "$work/run" \
  --log "$work/log.jsonl" -q || fail "training with --weight failed"
grep '"type":"epoch"' "$work/log.jsonl" | grep -c '"weights":{"species":1.0,"sex":0.0,"body_mass":2.0}' \
  >/dev/null || fail "the epoch records do not show the weights: $(grep '"type":"epoch"' "$work/log.jsonl" | head -1)"
grep -c '"sex=0"' "$work/run/config.json" >/dev/null || fail "config.json does not record the weight"
"$mtlc" train "$model" --epochs 3 --resume "$work/run/last.safetensors" --no-save -q 2>"$work/r.txt" &&
  fail "resuming without the weights the run had was accepted"
grep -c "task_weights: checkpoint 'species=1,sex=0,body_mass=2', now 'species=1,sex=0.5,body_mass=0.5'" \
  "$work/r.txt" >/dev/null || fail "no message for a resume with other weights: $(cat "$work/r.txt")"

"$mtlc" build "$model" -o "$work/prog" >/dev/null 2>&1 || { fail "build failed"; finish; }
"$work/prog" train --epochs 1 --weight species=3 --no-save --log "$work/p.jsonl" -q ||
  fail "the program's --weight failed"
grep -c '"weights":{"species":3.0' "$work/p.jsonl" >/dev/null || fail "the program ignored --weight"

expect_error() { # ARGS... then the message as the last argument
  local message=${*: -1}
  "$mtlc" train "$model" --epochs 1 --no-save -q "${@:1:$#-1}" 2>"$work/e.txt" &&
    fail "$* was accepted"
  grep -c -F -e "$message" "$work/e.txt" >/dev/null || fail "for $*: $(cat "$work/e.txt")"
}
expect_error --weight spcies=1 "--weight spcies=1: the model has no task 'spcies' (its tasks: species, sex, body_mass)"
expect_error --weight sex=-1 "--weight sex=-1: a task's weight is a number from 0 to 3.4e+38, the largest float"
expect_error --weight sex=1e39 "--weight sex=1e+39: a task's weight is a number from 0 to 3.4e+38, the largest float"
expect_error --weight sex "--weight 'sex': expected TASK=WEIGHT, such as sex=2"
finish
