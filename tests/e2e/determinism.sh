#!/usr/bin/env bash
# determinism.sh: a run repeats bit for bit from its seed, whatever the number
# of threads. Each model is trained with a step record for every step
# (--log-every 1) twice with the same seed and 2 threads, once with 1
# thread and once with --threads auto (its first steps alternate between 2
# threads and 1, then it keeps the faster); the step and epoch records
# (losses per step, per task, metrics) must be identical, timing fields aside. A different seed must change the losses,
# so that the comparison cannot pass vacuously.
#
# Usage: determinism.sh MTLC LOG_CHECK
# wine has dropout (its masks come from the seed); digits with batch 256 gives
# the thread pool enough rows per step to split; the synthetic model covers
# the generated-data path; bench model M7, a CNN with batch_norm on synthetic
# images, splits its convolutions' products, pools and wide sums over the
# threads (each sum in one fixed order); bench model M6, an MMoE, runs its
# experts, gates and towers in two lanes (passes/Lanes.h), one per thread.
source "$(dirname "$0")/common.sh"

# run NAME TAG ARGS...: trains NAME's model quietly, logging every step to $work/NAME-TAG.jsonl.
run() {
  train_model "$1" "$2" --log-every 1 --log "$work/$1-$2.jsonl" "${@:3}"
}

check_model() {
  local name=$1
  shift
  run "$name" a --threads 2 --seed 5 "$@" || return
  run "$name" b --threads 2 --seed 5 "$@" || return
  run "$name" one --threads 1 --seed 5 "$@" || return
  run "$name" auto --threads auto --seed 5 "$@" || return
  run "$name" other --threads 2 --seed 6 "$@" || return
  "$log_check" same-steps "$work/$name-a.jsonl" "$work/$name-b.jsonl" ||
    fail "$name: two runs with seed 5 differ"
  "$log_check" same-steps "$work/$name-a.jsonl" "$work/$name-one.jsonl" ||
    fail "$name: --threads 1 and --threads 2 differ"
  "$log_check" same-steps "$work/$name-a.jsonl" "$work/$name-auto.jsonl" ||
    fail "$name: --threads auto (steps on 2 threads and on 1 while it measures) and --threads 2 differ"
  if "$log_check" same-steps "$work/$name-a.jsonl" "$work/$name-other.jsonl" >/dev/null 2>&1; then
    fail "$name: seeds 5 and 6 gave identical losses"
  fi
}

check_model wine --epochs 4
check_model digits --epochs 2 --batch 256
check_model weighted_class_box --epochs 2
check_model bench_m7 --epochs 1 --batch 128
check_model bench_m6 --epochs 2 --batch 512
finish
