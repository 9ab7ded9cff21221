#!/usr/bin/env bash
# opt_levels.sh: results do not depend on the optimisation level. Each model
# is trained with -O0, -O1, -O2 and -O3 (every function compiled afresh) and
# the checkpoints and the logs (each step's losses, each epoch's validation
# metrics) must be identical: every sum runs in the order the generated code
# writes (partial sums of 16, 8 or 4 lanes, then a fixed tree of lanes;
# compiler/codegen/Emitter.h), never one LLVM chooses by reassociating. A
# different seed must change the checkpoint, so that the comparison cannot
# pass vacuously.
#
# Usage: opt_levels.sh MTLC LOG_CHECK
# penguins at batch 5 (with validation) and M1 at batch 8 take the
# dot-product path of small batches: M1's lengths 10 (8 lanes and a
# remainder), 50 and 100 (16 lanes and a remainder); digits at
# batch 256 the tiled products split over two threads; wine has dropout; bench
# model M7, a CNN with batch_norm, sums its gradients over images' pixels
# (row sums); M6, an MMoE, runs gates and experts in two lanes.
source "$(dirname "$0")/common.sh"

# run NAME TAG ARGS...: trains NAME's model, every function compiled afresh, into $work/NAME-TAG.
run() {
  train_model "$1" "$2" --no-cache --threads 2 --run-dir "$work/$1-$2" --log-every 1 \
    --log "$work/$1-$2.jsonl" "${@:3}"
}

check_model() {
  local name=$1 level
  shift
  for level in 0 1 2 3; do
    run "$name" "O$level" -O "$level" --seed 5 "$@" || return
  done
  run "$name" other -O 2 --seed 6 "$@" || return
  for level in 0 1 3; do
    cmp -s "$work/$name-O2/last.safetensors" "$work/$name-O$level/last.safetensors" ||
      fail "$name: -O$level and -O2 give different checkpoints"
    "$log_check" same-steps "$work/$name-O2.jsonl" "$work/$name-O$level.jsonl" ||
      fail "$name: -O$level and -O2 log different losses or metrics"
  done
  if cmp -s "$work/$name-O2/last.safetensors" "$work/$name-other/last.safetensors"; then
    fail "$name: seeds 5 and 6 gave identical checkpoints"
  fi
}

check_model penguins --epochs 3 --batch 5
check_model bench_m1 --epochs 1 --batch 8
check_model wine --epochs 3
check_model digits --epochs 1 --batch 256
check_model bench_m7 --epochs 1 --batch 128
check_model bench_m6 --epochs 1 --batch 512
finish
