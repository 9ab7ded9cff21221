#!/usr/bin/env bash
# data_times.sh: how long `mtlc train` takes to read each example's data files
# (the `data` stage `mtlc -v` prints: reading, checking and numbering the
# training, validation and test data), how long the whole run of one epoch
# takes, and its peak memory. Lowest of three runs each; the compile cache is
# warm, so the run is mostly the data and the epoch.
# Not a test: a table for bench/README.md ("Loading data").
#
# Usage: bench/data_times.sh [MTLC]   (default build/compiler/mtlc; run from the repository root).
# Examples whose generated data (examples/data/make_*.sh) is missing are skipped.
set -euo pipefail
mtlc=${1:-build/compiler/mtlc}
runs=3
export NO_COLOR=1
if [ ! -x /usr/bin/time ]; then
  echo "data_times.sh: needs GNU time (/usr/bin/time, Debian's package 'time') for peak memory" >&2
  exit 1
fi

printf '%-40s %10s %10s %10s\n' model "data ms" "run ms" "peak MB"
for file in $(grep -l 'idx(\|csv(\|npy(\|npz(' examples/*.mtl); do
  model=$(sed -n 's/^model \([A-Za-z_0-9]*\).*/\1/p' "$file" | head -1)
  if ! "$mtlc" train "$file" --model "$model" -q --epochs 1 --no-save >/dev/null 2>&1; then
    printf '%-40s %10s\n' "$file" "skipped (its data is missing?)"
    continue
  fi
  best_data="" best_run="" best_mb=""
  for ((k = 0; k < runs; k++)); do
    out=$(/usr/bin/time -f 'peak-kb %M wall-s %e' "$mtlc" -v train "$file" --model "$model" -q \
      --epochs 1 --no-save 2>&1 >/dev/null)
    data=$(awk '/^mtlc: data +[0-9.]+ ms$/ { print $3 }' <<<"$out")
    run=$(awk '/^peak-kb/ { printf "%.0f", $4 * 1000 }' <<<"$out")
    mb=$(awk '/^peak-kb/ { printf "%.0f", $2 / 1024 }' <<<"$out")
    if [ -z "$best_data" ] || awk "BEGIN { exit !($data < $best_data) }"; then best_data=$data; fi
    if [ -z "$best_run" ] || [ "$run" -lt "$best_run" ]; then best_run=$run; fi
    if [ -z "$best_mb" ] || [ "$mb" -lt "$best_mb" ]; then best_mb=$mb; fi
  done
  printf '%-40s %10.1f %10d %10d\n' "$file" "$best_data" "$best_run" "$best_mb"
done
