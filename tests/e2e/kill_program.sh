#!/usr/bin/env bash
# kill_program.sh: a built program killed with SIGKILL at random moments while
# it trains and writes a checkpoint every epoch always leaves a last
# checkpoint that loads, and resuming from it again and again ends with the
# very checkpoint an uninterrupted run writes (byte for byte).
#
# Usage: kill_program.sh MTLC LOG_CHECK [KILLS]
source "$(dirname "$0")/common.sh"
kills=${1:-12}
epochs=500
program=$work/digits
"$mtlc" build "$examples/digits.mtl" -o "$program" 2>/dev/null || { fail "mtlc build failed"; finish; }

start=$(date +%s%N)
"$program" train --epochs $epochs -q --run-dir "$work/full" ||
  { fail "the uninterrupted run failed"; finish; }
# Kills come at random fractions of the uninterrupted run's time (2% to 11%
# each), so they land on a fast machine as on a slow one.
run_ms=$((($(date +%s%N) - start) / 1000000))

RANDOM=20261123
ck=$work/killed/last.safetensors
landed=0
for ((k = 1; k <= kills; k++)); do
  args=(train --epochs $epochs -q --run-dir "$work/killed")
  [[ -f $ck ]] && args+=(--resume "$ck")
  "$program" "${args[@]}" &
  pid=$!
  wait_ms=$((run_ms * (2 + RANDOM % 10) / 100 + 5))
  sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
  if kill -KILL "$pid" 2>/dev/null; then
    landed=$((landed + 1))
  fi
  wait "$pid" 2>/dev/null
  if [[ -f $ck ]]; then
    "$program" eval --checkpoint "$ck" >"$work/eval.txt" 2>&1 ||
      fail "after kill $k the last checkpoint does not load: $(cat "$work/eval.txt")"
  fi
done
echo "$landed of $kills kills landed while the program ran (the full run took $run_ms ms)"
[[ $landed -gt 0 ]] || fail "no kill landed while the program ran"

args=(train --epochs $epochs -q --run-dir "$work/killed")
[[ -f $ck ]] && args+=(--resume "$ck")
"$program" "${args[@]}" || fail "the final resumed run failed"
cmp -s "$work/full/last.safetensors" "$ck" ||
  fail "after $landed kills and resumes the final checkpoint differs from the uninterrupted run's"
finish
