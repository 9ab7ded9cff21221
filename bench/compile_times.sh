#!/usr/bin/env bash
# compile_times.sh: how long mtlc takes to compile each example and bench
# model, from parse to runnable JIT code, with an empty on-disk cache (cold)
# and again with the cache it filled (cached: the model's index is found, so
# no code is generated), and once more without the model's index (regenerated:
# the code is generated and every function found by its key, as for a model
# whose data files were touched), and tiered (`--tiered` with an empty cache:
# until the -O0 code runs, and when the -O2 code compiled in the background
# was ready); milliseconds per stage as `mtlc -v` prints them.
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

# stages FILE [--model M] [FLAGS]: "total parse..codegen optimize jit index functions ready"
# from one -v run (ready: ms from the -O0 code's start to the background -O2 code's, or 0).
stages() {
  "$mtlc" -v train "$@" ${flags[@]+"${flags[@]}"} -q --epochs 1 --no-save 2>&1 >/dev/null | awk '
    /^mtlc: [a-z]+ +[0-9.]+ ms$/ && $2 != "data" { ms[$2] = $3; total += $3 }
    /^mtlc: [0-9]+ functions at/ { if (!fns) fns = $2 }
    /code ready in the background after/ { sub(/.* in the background after /, ""); ready = $1 }
    END {
      front = ms["parse"] + ms["sema"] + ms["lower"] + ms["autodiff"] + ms["passes"] + ms["codegen"]
      printf "%8.0f %8.0f %8.0f %8.0f %8.1f %6d %8.0f", total, front, ms["optimize"], ms["jit"], \
        ms["index"], fns, ready
    }'
}

printf '%-40s %8s %8s %8s %8s %6s | %8s %8s %8s | %8s | %8s %8s\n' model cold front optimize \
  jit fns cached front index regen tiered O2ready
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
    export MTLC_CACHE_DIR=$MTLC_CACHE_DIR-tiered
    tiered=$(stages "$file" "${select[@]}" --tiered)
    read -r ct cf co cj _ cn _ <<<"$cold"
    read -r wt wf _ _ wi _ <<<"$warm"
    read -r rt _ <<<"$regen"
    read -r tt _ _ _ _ _ tr <<<"$tiered"
    printf '%-40s %8.0f %8.0f %8.0f %8.0f %6d | %8.0f %8.0f %8.1f | %8.0f | %8.0f %8.0f\n' "$label" \
      "$ct" "$cf" "$co" "$cj" "$cn" "$wt" "$wf" "$wi" "$rt" "$tt" "$tr"
  done
done
