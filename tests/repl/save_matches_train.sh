#!/usr/bin/env bash
# save_matches_train.sh: a REPL run, compiled function by function through the session's cache,
# ends byte-identical to `mtlc train` (both compile at -O2): `:save` writes the same checkpoint file.
#
# Usage: save_matches_train.sh MTLC REPO_ROOT
#
# For each model (one with dropout), `mtlc train --run-dir` and a
# REPL session that loads the model, edits a task head and changes it back
# (so the second compilation reuses cached code) and then trains as many
# epochs must leave identical last.safetensors files (but for the source hash).
source "$(dirname "$0")/setup.sh" 2 "$@"

failed=0
check() { # NAME FILE MODEL EPOCHS HEAD_EDIT HEAD_ORIGINAL [LR CHECKPOINT]
  local name=$1 file=$2 model=$3 epochs=$4 lr=${7:-} kept=${8:-last}
  timeout 300 "$mtlc" train --target-cpu x86-64-v2 "$file" ${model:+--model "$model"} \
    --epochs "$epochs" ${lr:+--lr "$lr"} --run-dir "$scratch/$name" -q >"$scratch/$name.train.log" 2>&1 ||
    { echo "FAIL: $name: mtlc train failed"; cat "$scratch/$name.train.log"; failed=1; return; }
  printf '%s\n' ":load $file $model" "$5" "$6" ${lr:+":set lr $lr"} ":train $epochs" \
    ":save $scratch/$name.repl.safetensors" |
    timeout 300 "$mtlc" repl --target-cpu x86-64-v2 >"$scratch/$name.repl.log" 2>&1
  if ! grep -q "0 compiled" "$scratch/$name.repl.log"; then
    echo "FAIL: $name: changing the head back did not reuse every function"
    cat "$scratch/$name.repl.log"
    failed=1
  fi
  # The REPL's model text differs from the file's (the typed items moved), so
  # only the source hash in the header may differ: mask it, compare the rest.
  local f
  for f in "$scratch/$name/$kept.safetensors" "$scratch/$name.repl.safetensors"; do
    LC_ALL=C sed -E 's/("source_hash":")[0-9a-f]+/\1/' "$f" >"$f.masked"
  done
  if cmp -s "$scratch/$name/$kept.safetensors.masked" "$scratch/$name.repl.safetensors.masked"; then
    echo "ok: $name: the REPL's checkpoint equals mtlc train's $kept.safetensors"
  else
    echo "FAIL: $name: the REPL's checkpoint differs from mtlc train's"
    cat "$scratch/$name.repl.log"
    failed=1
  fi
}
check penguins examples/penguins.mtl "" 3 \
  'task body_mass : regress { head = trunk -> dense(4) -> relu -> dense(1)  loss = mse  weight = 0.5  metrics = mse, r2 }' \
  'task body_mass : regress { head = trunk -> dense(1)  loss = mse  weight = 0.5  metrics = mse, r2 }'
check dropout tests/repl/dropout.mtl d 2 'task y : regress { head = trunk -> dense(4) -> relu -> dense(1) }' \
  'task y : regress { head = trunk -> dense(1) }'
# A run whose best epoch (the third) is not its last: the session keeps that
# epoch whole, its parameters with its optimizer state, step and position.
check best examples/two_classifiers.mtl "" 6 \
  'task three : classify(3) { head = trunk -> dense(4) -> relu -> dense(3)  loss = cross_entropy  metrics = accuracy, macro_f1 }' \
  'task three : classify(3) { head = trunk -> dense(3)  loss = cross_entropy  metrics = accuracy, macro_f1 }' \
  0.1 best
exit $failed
