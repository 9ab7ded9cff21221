#!/usr/bin/env bash
# opt_levels.sh: results do not depend on the optimisation level. Each model
# is trained with -O0, -O1, -O2 and -O3 (every function compiled afresh) and
# the checkpoints must be byte-identical: every sum runs in the order the
# generated code writes (kSumLanes partial sums, then a fixed tree of lanes;
# codegen/Emitter.h), never one LLVM chooses by reassociating. A different
# seed must change the checkpoint, so that the comparison cannot pass
# vacuously.
#
# Usage: opt_levels.sh MTLC LOG_CHECK
# penguins at batch 5 takes the dot-product path of narrow layers and small
# batches (lengths with and without a remainder past the vectors); digits at
# batch 256 the tiled products split over two threads; wine has dropout; bench
# model M7, a CNN with batch_norm, sums its gradients over images' pixels
# (row sums); M6, an MMoE, runs gates and experts in two lanes.
source "$(dirname "$0")/common.sh"

# run NAME TAG ARGS...: trains NAME's model, every function compiled afresh, into $work/NAME-TAG.
run() {
  train_model "$1" "$2" --no-cache --threads 2 --run-dir "$work/$1-$2" "${@:3}"
}

check_model() {
  local name=$1
  shift
  for level in 0 1 2 3; do
    run "$name" "O$level" -O "$level" --seed 5 "$@" || return
  done
  run "$name" other -O 2 --seed 6 "$@" || return
  for level in 0 1 3; do
    cmp -s "$work/$name-O2/last.safetensors" "$work/$name-O$level/last.safetensors" ||
      fail "$name: -O$level and -O2 give different checkpoints"
  done
  if cmp -s "$work/$name-O2/last.safetensors" "$work/$name-other/last.safetensors"; then
    fail "$name: seeds 5 and 6 gave identical checkpoints"
  fi
}

check_model penguins --epochs 3 --batch 5
check_model wine --epochs 3
check_model digits --epochs 1 --batch 256
check_model bench_m7 --epochs 1 --batch 128
check_model bench_m6 --epochs 1 --batch 512
finish
