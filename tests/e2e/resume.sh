#!/usr/bin/env bash
# resume.sh: a run stopped after epoch k and resumed from its checkpoint ends
# exactly like a run that was never stopped: byte-identical final checkpoint
# and identical per-step losses. Wine has dropout, so the masks must line up too.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

model=$examples/wine.mtl
steps() { grep '"type":"step"' "$1" | sed 's/"seconds":[0-9.eE+-]*//g'; }

"$mtlc" train "$model" --epochs 6 --run-dir "$work/full" --log "$work/full.jsonl" \
  --log-every 1 -q || fail "the uninterrupted run failed"
"$mtlc" train "$model" --epochs 3 --run-dir "$work/part" --log "$work/part.jsonl" \
  --log-every 1 -q || fail "the first half failed"
"$mtlc" train "$model" --epochs 6 --resume "$work/part/last.safetensors" \
  --run-dir "$work/part" --log "$work/part.jsonl" --log-every 1 -q ||
  fail "the resumed run failed"

cmp -s "$work/full/last.safetensors" "$work/part/last.safetensors" ||
  fail "the resumed run's final checkpoint differs from the uninterrupted run's"
[[ "$(steps "$work/full.jsonl")" == "$(steps "$work/part.jsonl")" ]] ||
  fail "the per-step losses of the resumed run differ"
[[ $(steps "$work/full.jsonl" | wc -l) -gt 0 ]] || fail "no step records were logged"

# A checkpoint of another model is refused with the differences listed.
out=$("$mtlc" train "$examples/penguins.mtl" --epochs 1 --resume "$work/part/last.safetensors" -q 2>&1)
[[ $? -eq 1 ]] || fail "resuming from another model's checkpoint did not exit 1"
grep -q "error:" <<<"$out" || fail "no error for another model's checkpoint: $out"

finish
