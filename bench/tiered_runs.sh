#!/usr/bin/env bash
# tiered_runs.sh: how long whole `mtlc train` runs take with and without
# --tiered (docs/architecture.md, "Tiered compilation"): runs of a few
# lengths, each with --no-cache and with an empty disk cache, the plain and
# the tiered run alternating for three rounds; wall milliseconds, lowest
# and highest. Not a test: a table for bench/README.md.
#
# Usage: bench/tiered_runs.sh [MTLC]   (default build/compiler/mtlc; run from the repository root)
set -euo pipefail
mtlc=${1:-build/compiler/mtlc}
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT

# wall ARGS...: milliseconds one `mtlc train ARGS` takes, with an empty disk cache.
wall() {
  rm -rf "$cache/c"
  local start end
  start=$(date +%s%N)
  if ! MTLC_CACHE_DIR=$cache/c "$mtlc" train "$@" -q --no-save >/dev/null 2>"$cache/err"; then
    echo "failed: mtlc train $*" >&2
    cat "$cache/err" >&2
    exit 1
  fi
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}

# range NUMBERS...: "lowest–highest".
range() { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd- | sed 's/-/–/'; }

printf '%-40s %-10s %12s %12s\n' run cache plain tiered
while read -r label args; do
  for cached in no-cache empty; do
    extra=()
    [[ $cached == no-cache ]] && extra=(--no-cache)
    plain=() tiered=()
    for _ in 1 2 3; do
      # shellcheck disable=SC2086 # $args holds several arguments
      plain+=("$(wall $args "${extra[@]}")")
      # shellcheck disable=SC2086
      tiered+=("$(wall $args "${extra[@]}" --tiered)")
    done
    printf '%-40s %-10s %12s %12s\n' "$label" "$cached" "$(range "${plain[@]}")" \
      "$(range "${tiered[@]}")"
  done
done <<'RUNS'
penguins,100-epochs examples/penguins.mtl
digits,3-epochs examples/digits.mtl --epochs 3
digits,30-epochs examples/digits.mtl --epochs 30
digits,300-epochs examples/digits.mtl --epochs 300
M7,1-epoch bench/models/m7.mtl --epochs 1
RUNS
