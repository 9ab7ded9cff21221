#!/usr/bin/env bash
# tiered.sh: `mtlc train --tiered` of a model not in the disk cache starts
# training with -O0 code while -O2 compiles in the background, and the
# trainer runs the -O2 code from the step after it is ready; the run is bit
# for bit the run without --tiered, which compiles -O2 before the first
# step. A run that ends first waits for the -O2 code when the disk cache is
# on (so the next run finds the model's index) and cancels its compile when
# it is off; a model in the disk cache compiles no -O0 code.
#
# Usage: tiered.sh MTLC LOG_CHECK
# digits for 300 epochs runs about 2.3 s on -O0 code, so the -O2 code (a few
# hundred ms) is ready long before the end, even on a loaded machine.
source "$(dirname "$0")/common.sh"

export MTLC_CACHE_DIR=$work/cache

# run TAG ARGS...: trains digits with -v into $work/TAG, its stderr in $work/TAG.err.
run() {
  local tag=$1
  shift
  if ! "$mtlc" -v train "$examples/digits.mtl" -q --seed 4 --run-dir "$work/$tag" \
    --log "$work/$tag.jsonl" --log-every 9 "$@" >"$work/$tag.out" 2>"$work/$tag.err"; then
    fail "run $tag failed:"
    cat "$work/$tag.err" >&2
    return 1
  fi
}

# O2 TAG: run TAG's -v lines about its -O2 code.
O2() { grep -- '-O2' "$work/$1.err"; }

# The long run: -O0 first, -O2 from a step in the middle of the run.
run tiered --epochs 300 --no-cache --tiered || finish
grep -q '^mtlc: training starts with -O0 code; -O2 compiles in the background' "$work/tiered.err" ||
  fail "the tiered run did not start with -O0 code"
grep -q '^mtlc: [0-9]* functions at -O0: .* from the disk cache (off)' "$work/tiered.err" ||
  fail "-v does not report the -O0 code's functions"
step=$(sed -nE 's/^mtlc: -O2 code ready in the background after [0-9]+ ms \(codegen [0-9.]+ ms, optimize [0-9.]+ ms, jit [0-9.]+ ms\); the run used it after step ([0-9]+)$/\1/p' "$work/tiered.err")
steps=$((300 * 45)) # 1,437 training rows in batches of 32
if [[ -z $step ]]; then
  fail "the run did not switch to the -O2 code: $(O2 tiered)"
elif ((step < 1 || step >= steps)); then
  fail "the run switched to the -O2 code after step $step, not within steps 1..$((steps - 1))"
fi

run plain --epochs 300 --no-cache
# -O0's messages (not the cache's path, which may hold any letters).
O0() { grep -E 'functions at -O0|with -O0 code' "$work/$1.err"; }
O0 plain && fail "a run without --tiered compiled -O0 code"
cmp -s "$work/tiered/last.safetensors" "$work/plain/last.safetensors" ||
  fail "the tiered run and the plain run ended with different parameters"
"$log_check" same-steps "$work/tiered.jsonl" "$work/plain.jsonl" ||
  fail "the tiered run and the plain run logged different losses or metrics"

# A short run without the disk cache ends before -O2 is ready and cancels it
# (one thread: on a loaded machine, two threads of -O0 steps can wait on
# each other long enough for the compile to end first).
run short --epochs 1 --threads 1 --no-cache --tiered
grep -q '^mtlc: the run ended [0-9]* ms into the -O2 compile; cancelled it' "$work/short.err" ||
  fail "the short run without a cache did not cancel the -O2 compile: $(O2 short)"

# With the disk cache it waits, so the next run starts with the cached -O2 code.
run stored --epochs 1 --threads 1 --tiered
grep -q '^mtlc: -O2 code ready in the background after' "$work/stored.err" ||
  fail "the short run with the cache did not finish the -O2 compile: $(O2 stored)"
run cached --epochs 1 --threads 1 --tiered
grep -q "functions at -O2: 0 compiled, .*the model's index was on disk" "$work/cached.err" ||
  fail "the run after it did not start from the cached -O2 code: $(O2 cached)"
O0 cached && fail "the cached run compiled -O0 code"
cmp -s "$work/stored/last.safetensors" "$work/cached/last.safetensors" ||
  fail "the stored and the cached run ended with different parameters"
cmp -s "$work/short/last.safetensors" "$work/cached/last.safetensors" ||
  fail "the short and the cached run ended with different parameters"
finish
