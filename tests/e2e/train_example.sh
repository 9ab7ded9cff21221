#!/usr/bin/env bash
# train_example.sh: trains one example model with the JIT for a few epochs and
# asserts that it exits 0, writes a well-formed JSON log with one epoch record
# per epoch, prints the per-epoch table and the summary, and that its total
# training loss falls.
#
# Usage: train_example.sh MTLC LOG_CHECK EXAMPLE EPOCHS
# Examples on Fashion-MNIST are skipped when the data set is not installed;
# with EPOCHS = 1 the loss must fall between the first and the last quarter of
# the epoch's steps instead.
source "$(dirname "$0")/common.sh"
name=$1
epochs=$2
file=$examples/$name.mtl

if grep -q "$fashion" "$file" && ! have_fashion; then
  skip "$name needs $fashion (Debian package dataset-fashion-mnist)"
fi

args=(--epochs "$epochs" --log "$work/log.jsonl")
[[ $epochs -eq 1 ]] && args+=(--log-every 20)
start=$SECONDS
"$mtlc" train "$file" "${args[@]}" >"$work/out.txt" 2>"$work/err.txt"
status=$?
echo "$name: $epochs epoch(s) in $((SECONDS - start)) s, exit status $status"
if [[ $status -ne 0 ]]; then
  fail "mtlc train $name exited with status $status"
  cat "$work/err.txt" >&2
  finish
fi

"$log_check" falls "$work/log.jsonl" || fail "$name: the training loss did not fall"
count=$(grep -c '"type":"epoch"' "$work/log.jsonl")
[[ $count -eq $epochs ]] || fail "$name: $count epoch records in the log, expected $epochs"
grep -q '"type":"end"' "$work/log.jsonl" || fail "$name: the log has no end record"
# The summary line names the model and the number of epochs ("1 epoch", "3 epochs").
unit=epochs
[[ $epochs -eq 1 ]] && unit=epoch
grep -q "^$name: $epochs $unit, " "$work/out.txt" ||
  fail "$name: no summary line '$name: $epochs $unit, ...' in the output"
if grep '"type":"epoch"' "$work/log.jsonl" | grep -q '"loss":null'; then
  fail "$name: a non-finite loss in the log"
fi
finish
