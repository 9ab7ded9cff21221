#!/usr/bin/env bash
# summary_time.sh: the summary of `mtlc train` gives a run under a second in milliseconds.
#
# Usage: summary_time.sh MTLC REPO_ROOT
#
# A run of a few milliseconds once printed "15 steps in 0.0 s"; its summary
# line must now read "15 steps in N ms" (N with one decimal under 10 ms).
source "$(dirname "$0")/setup.sh" 2 "$@"

timeout 300 "$mtlc" train --target-cpu x86-64-v2 tests/repl/dropout.mtl --model d --epochs 3 \
  >"$scratch/train.log" 2>&1 || { echo "FAIL: mtlc train failed"; cat "$scratch/train.log"; exit 1; }
line=$(grep -E '^d: 3 epochs, ' "$scratch/train.log")
if [[ $line =~ ^d:\ 3\ epochs,\ 15\ steps\ in\ ([0-9]+|[0-9]\.[0-9])\ ms$ ]]; then
  echo "ok: $line"
else
  echo "FAIL: the summary line is '$line', not 'd: 3 epochs, 15 steps in N ms'"
  cat "$scratch/train.log"
  exit 1
fi
