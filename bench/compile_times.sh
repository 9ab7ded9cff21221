#!/usr/bin/env bash
# compile_times.sh: how long mtlc takes to compile each example and bench
# model, from parse to runnable JIT code, with an empty on-disk cache (cold)
# and again with the cache it filled (cached: the model's index is found, so
# no code is generated), and once more without the model's index (regenerated:
# the code is generated and every function found by its key, as for a model
# whose data files were touched); milliseconds per stage as `mtlc -v` prints them.
# Not a test: a table for bench/README.md.
#
# Usage: bench/compile_times.sh [MTLC [FLAGS...]]   (default build/compiler/mtlc; run from the
# repository root). FLAGS go to `mtlc train`: `-O3` times LLVM's O3 pipeline.
set -euo pipefail
mtlc=${1:-build/compiler/mtlc}
flags=("${@:2}")
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
export NO_COLOR=1

# stages FILE [--model M]: "total parse..codegen optimize jit index functions" from one -v run.
stages() {
  "$mtlc" -v train "$@" ${flags[@]+"${flags[@]}"} -q --epochs 1 --no-save 2>&1 >/dev/null | awk '
    /^mtlc: [a-z]+ +[0-9.]+ ms$/ { ms[$2] = $3; total += $3 }
    /^mtlc: [0-9]+ functions:/ { fns = $2 }
    END {
      front = ms["parse"] + ms["sema"] + ms["lower"] + ms["autodiff"] + ms["passes"] + ms["codegen"]
      printf "%8.0f %8.0f %8.0f %8.0f %8.1f %6d", total, front, ms["optimize"], ms["jit"], ms["index"], fns
    }'
}

printf '%-40s %8s %8s %8s %8s %6s | %8s %8s %8s | %8s\n' model cold front optimize jit fns \
  cached front index regen
for file in examples/*.mtl bench/models/*.mtl; do
  models=$(sed -n 's/^model \([A-Za-z_0-9]*\).*/\1/p' "$file")
  for model in $models; do
    # A file of several models names each (FILE#MODEL) and passes --model.
    label=$file select=()
    if [[ $(wc -w <<<"$models") -gt 1 ]]; then
      label=$file#$model select=(--model "$model")
    fi
    # A cache of its own: models that share functions would warm each other.
    export MTLC_CACHE_DIR=$cache/$(basename "$file" .mtl)-$model
    cold=$(stages "$file" "${select[@]}")
    warm=$(stages "$file" "${select[@]}")
    find "$MTLC_CACHE_DIR" -name '*.index' -delete
    regen=$(stages "$file" "${select[@]}")
    read -r ct cf co cj _ cn <<<"$cold"
    read -r wt wf _ _ wi _ <<<"$warm"
    read -r rt _ <<<"$regen"
    printf '%-40s %8.0f %8.0f %8.0f %8.0f %6d | %8.0f %8.0f %8.1f | %8.0f\n' "$label" "$ct" "$cf" \
      "$co" "$cj" "$cn" "$wt" "$wf" "$wi" "$rt"
  done
done
