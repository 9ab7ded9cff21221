#!/usr/bin/env bash
# balance_table.sh: every balancing method on one model, over several seeds:
# the markdown table of docs/balancing.md (mean ± sample std of each task's
# validation metric in the last epoch, and the mean seconds per run).
#
# Usage: scripts/balance_table.sh [MTLC] [MODEL] [SEEDS] [METRIC]
#   defaults: build/compiler/mtlc examples/digits_balanced.mtl 5 accuracy
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mtlc=${1:-build/compiler/mtlc}
model=${2:-examples/digits_balanced.mtl}
seeds=${3:-5}
metric=${4:-accuracy}
methods=(static dwa rlw uncertainty famo gradnorm pcgrad mgda "mgda(rep)" cagrad imtl aligned_mtl nash_mtl)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One line per run: METHOD SECONDS TASK=VALUE...
for method in "${methods[@]}"; do
  for ((seed = 1; seed <= seeds; ++seed)); do
    log="$work/$method.$seed.jsonl"
    start=$(date +%s.%N)
    "$mtlc" train "$model" --balance "$method" --seed "$seed" --no-save -q --log "$log" \
      2>/dev/null
    end=$(date +%s.%N)
    # The last epoch record's validation metric per task, in the log's task order.
    values=$(grep '"type":"epoch"' "$log" | tail -1 |
      grep -o "\"[a-z_0-9]*\":{\"loss\":[^{}]*\"$metric\":[-0-9.eE+]*" |
      sed -E "s/^\"([a-z_0-9]*)\".*\"$metric\":([-0-9.eE+]*)$/\1=\2/" | tr '\n' ' ')
    # The epoch record holds training tasks first (no metrics), then "val": keep the val ones.
    echo "$method $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}') $values"
  done
done >"$work/runs"

awk -v metric="$metric" -v seeds="$seeds" '
{
  m = $1; if (!(m in seen)) { seen[m] = 1; order[++n] = m }
  secs[m] += $2
  for (i = 3; i <= NF; ++i) {
    split($i, kv, "="); t = kv[1]
    if (!(t in tseen)) { tseen[t] = 1; tasks[++nt] = t }
    sum[m, t] += kv[2]; sq[m, t] += kv[2] * kv[2]; cnt[m, t]++
  }
}
END {
  header = "| method |"; rule = "|---|"
  for (j = 1; j <= nt; ++j) { header = header " " tasks[j] " " metric " |"; rule = rule "---|" }
  print header " s/run |"; print rule "---|"
  for (k = 1; k <= n; ++k) {
    m = order[k]; line = "| `" m "` |"
    for (j = 1; j <= nt; ++j) {
      t = tasks[j]; c = cnt[m, t]; mean = sum[m, t] / c
      var = c > 1 ? (sq[m, t] - c * mean * mean) / (c - 1) : 0
      if (var < 0) var = 0
      line = line sprintf(" %.4f ± %.4f |", mean, sqrt(var))
    }
    print line sprintf(" %.2f |", secs[m] / seeds)
  }
}' "$work/runs"
