#!/usr/bin/env bash
# jit_binary.sh: `mtlc train` (JIT) and the program `mtlc build` makes give
# bit-identical per-step losses for the same seed and target CPU: both run the
# same generated code through the same runtime. Wine has dropout; digits runs
# batches large enough for the tiled products and the thread pool; penguins
# has all three task kinds; bench model M7 is a CNN with batch_norm; the gru
# of sequence_gru has step functions long enough to be split into chunks
# (Emitter::emitOpsInChunks), which `mtlc build` compiles as one module; the
# PLE of mmoe_synthetic has more parameter tensors than one function of its
# update takes (codegen/Update.cpp, kUpdatePart). One model
# is also compared for a portable target CPU (x86-64-v3) and one with
# overridden settings.
#
# Usage: jit_binary.sh MTLC LOG_CHECK
source "$(dirname "$0")/common.sh"

# compare NAME TAG BUILD_FLAGS -- TRAIN_FLAGS
compare() {
  local name=$1 tag=$2 build=() train=()
  shift 2
  while [[ $# -gt 0 && $1 != -- ]]; do build+=("$1"); shift; done
  shift
  train=("$@")
  local program=$work/$name-$tag
  "$mtlc" build "$(model_file "$name")" -o "$program" "${build[@]}" 2>/dev/null ||
    { fail "$name ($tag): mtlc build failed"; return; }
  "$mtlc" train "$(model_file "$name")" "${build[@]}" "${train[@]}" -q --log-every 1 \
    --log "$work/$name-$tag-jit.jsonl" 2>/dev/null || { fail "$name ($tag): mtlc train failed"; return; }
  "$program" train "${train[@]}" -q --log-every 1 --log "$work/$name-$tag-bin.jsonl" 2>/dev/null ||
    { fail "$name ($tag): the program's train failed"; return; }
  "$log_check" same-steps "$work/$name-$tag-jit.jsonl" "$work/$name-$tag-bin.jsonl" ||
    fail "$name ($tag): JIT and program losses differ"
}

compare wine native -- --epochs 3
compare digits native -- --epochs 1 --batch 128
compare penguins native -- --epochs 2
compare penguins v3 --target-cpu x86-64-v3 -- --epochs 2 --seed 3 --lr 0.01
compare bench_m7 native -- --epochs 1 --batch 128
sh "$examples/data/make_sequence.sh" 600 1 >"$work/sequence.csv"
compare sequence_gru native --model gru -- --epochs 2 --data "train=$work/sequence.csv"
sh "$examples/data/make_mmoe.sh" 0.5 600 5 >"$work/mmoe.csv"
compare mmoe_synthetic native --model ple -- --epochs 2 --data "train=$work/mmoe.csv"
finish
