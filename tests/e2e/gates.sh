#!/usr/bin/env bash
# gates.sh: gate telemetry. `mtlc train` on the MMoE example logs, in every
# epoch record, each task's gate's mean weight per expert (in [0, 1], summing
# to 1 for a softmax gate) and prints the kept epoch's in its summary; a
# built program logs the same numbers; a model without mix logs no "gates".
#
# Usage: gates.sh MTLC LOG_CHECK
source "$(dirname "$0")/common.sh"
command -v jq >/dev/null || skip "jq is not installed"

mmoe=$examples/digits_mmoe.mtl
"$mtlc" train "$mmoe" --epochs 2 --no-save --log-every 1 --log "$work/jit.jsonl" >"$work/summary.txt" 2>&1 ||
  fail "mtlc train digits_mmoe failed: $(cat "$work/summary.txt")"
epochs=$(jq -s '[.[] | select(.type == "epoch" and has("gates"))] | length' "$work/jit.jsonl")
[[ $epochs == 2 ]] || fail "expected a gates record in each of 2 epochs, got $epochs"
# Each gate names its task and the three experts as written; its means are
# weights of a softmax: each in [0, 1], together 1.
jq -e -s '[.[] | select(.type == "epoch") | .gates] | all(
    (keys_unsorted == ["digit_gate", "odd_gate", "high_gate"]) and
    (to_entries | all(
      .value.task == (.key | sub("_gate$"; "")) and
      (.value.experts | keys_unsorted) == ["e1", "e2", "e3"] and
      (.value.experts | map(. >= 0 and . <= 1) | all) and
      ((.value.experts | add) - 1 | (if . < 0 then -. else . end) < 1e-4))))' \
  "$work/jit.jsonl" >/dev/null || fail "the gates records are not three softmax gates: $(
    jq -c -s '[.[] | select(.type == "epoch") | .gates]' "$work/jit.jsonl")"
grep -q '^gates, epoch 2 (kept)' "$work/summary.txt" || fail "the summary has no gates title"
for task in digit odd high; do
  grep -qE "^  ${task}_gate \(${task}\) +e1 0\.[0-9]{3}  e2 0\.[0-9]{3}  e3 0\.[0-9]{3}$" \
    "$work/summary.txt" || fail "the summary has no line for ${task}_gate"
done

# A built program has the same gates in its descriptor, and logs the same numbers.
"$mtlc" build "$mmoe" -o "$work/mmoe" 2>/dev/null || fail "mtlc build digits_mmoe failed"
"$work/mmoe" train --epochs 2 --no-save -q --log-every 1 --log "$work/bin.jsonl" ||
  fail "the program's train failed"
"$log_check" same-steps "$work/jit.jsonl" "$work/bin.jsonl" ||
  fail "the program's epoch records (gates included) differ from mtlc train's"
jq -e -s '[.[] | select(.type == "epoch") | .gates.odd_gate.task] == ["odd", "odd"]' \
  "$work/bin.jsonl" >/dev/null || fail "the program logged no odd_gate"

# A model without mix: no "gates" anywhere, and no gates in the summary.
"$mtlc" train "$examples/penguins.mtl" --epochs 1 --no-save --log "$work/plain.jsonl" \
  >"$work/plain.txt" 2>&1 || fail "mtlc train penguins failed"
jq -e -s 'any(.[]; has("gates")) | not' "$work/plain.jsonl" >/dev/null ||
  fail "a model without mix logged gates"
grep -q '^gates' "$work/plain.txt" && fail "a model without mix printed gates"
finish
