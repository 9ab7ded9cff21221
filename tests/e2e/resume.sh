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

# The same with a schedule whose state is in the checkpoint (plateau) and clipping.
sched=(--lr 0.03 --schedule 'plateau(patience = 0, factor = 0.5)' --clip-norm 0.5)
"$mtlc" train "$model" --epochs 6 --run-dir "$work/sfull" --log "$work/sfull.jsonl" -q "${sched[@]}" ||
  fail "the uninterrupted scheduled run failed"
"$mtlc" train "$model" --epochs 3 --run-dir "$work/spart" -q "${sched[@]}" || fail "the first scheduled half failed"
"$mtlc" train "$model" --epochs 6 --resume "$work/spart/last.safetensors" --run-dir "$work/spart" -q \
  "${sched[@]}" || fail "the resumed scheduled run failed"
cmp -s "$work/sfull/last.safetensors" "$work/spart/last.safetensors" ||
  fail "the resumed scheduled run's final checkpoint differs from the uninterrupted run's"
# The same schedule written otherwise is the same setting (it was refused as a change).
"$mtlc" train "$model" --epochs 7 --resume "$work/spart/last.safetensors" --no-save -q --lr 0.03 \
  --schedule 'plateau(patience=0,factor=0.50)' --clip-norm 0.5 2>/dev/null ||
  fail "resuming with the schedule written otherwise was refused"
lrs=$(grep '"type":"epoch"' "$work/sfull.jsonl" | grep -o '"lr":[0-9.e-]*' | sort -u | wc -l)
[[ $lrs -gt 1 ]] || fail "plateau never lowered the learning rate in 6 epochs of wine"
"$mtlc" train "$model" --epochs 6 --lr 0.03 --resume "$work/spart/last.safetensors" --no-save -q 2>"$work/s.txt" &&
  fail "resuming without the schedule it ran with was accepted"
grep -c "schedule: checkpoint 'plateau(patience = 0, factor = 0.5)', now 'constant'" "$work/s.txt" >/dev/null ||
  fail "no message for a resume that changes the schedule: $(cat "$work/s.txt")"

# Killed after writing epoch 3's records but before its checkpoint: the resumed run writes
# them again, once (the log had epoch 3 twice).
"$mtlc" train "$model" --epochs 2 --run-dir "$work/killed" --log "$work/killed.jsonl" \
  --log-every 1 -q || fail "the run to be killed failed"
grep '"type":"\(step\|epoch\)","epoch":2' "$work/killed.jsonl" | sed 's/"epoch":2/"epoch":3/' \
  >>"$work/killed.jsonl"
"$mtlc" train "$model" --epochs 4 --resume "$work/killed/last.safetensors" --run-dir "$work/killed" \
  --log "$work/killed.jsonl" --log-every 1 -q || fail "the resume after the kill failed"
epochs=$(grep -o '"type":"epoch","epoch":[0-9]*' "$work/killed.jsonl" | grep -o '[0-9]*$' | tr '\n' ' ')
[[ "$epochs" == "1 2 3 4 " ]] || fail "the resumed log's epochs are '$epochs', not '1 2 3 4 '"

# A checkpoint of another model is refused with the differences listed.
out=$("$mtlc" train "$examples/penguins.mtl" --epochs 1 --resume "$work/part/last.safetensors" -q 2>&1)
[[ $? -eq 1 ]] || fail "resuming from another model's checkpoint did not exit 1"
grep -q "error:" <<<"$out" || fail "no error for another model's checkpoint: $out"

# The model is its file and what it imports: a changed block library is a changed model.
mkdir -p "$work/imp/lib" "$work/imp/data"
cp "$examples/penguins.mtl" "$work/imp/"
cp "$examples/lib/blocks.mtl" "$work/imp/lib/"
cp "$examples/data/penguins.csv" "$work/imp/data/"
"$mtlc" train "$work/imp/penguins.mtl" --epochs 1 --run-dir "$work/imp/run" -q 2>/dev/null ||
  fail "penguins from a copy failed"
sed -i 's/relu/tanh/' "$work/imp/lib/blocks.mtl"
out=$("$mtlc" train "$work/imp/penguins.mtl" --epochs 2 --resume "$work/imp/run/last.safetensors" \
  --no-save -q 2>&1)
[[ $? -eq 1 ]] || fail "resuming after the imported blocks changed was accepted"
grep -q "source_hash: checkpoint" <<<"$out" || fail "no source_hash difference named: $out"

# A run that stopped early stays stopped when resumed (it trained one more epoch and stopped again).
sed -i 's/tanh/relu/' "$work/imp/lib/blocks.mtl"
sed 's/validate = 0.2 }/validate = 0.2, early_stop = early_stop(patience = 3, monitor = species.accuracy) }/' \
  "$examples/penguins.mtl" >"$work/imp/early.mtl"
"$mtlc" train "$work/imp/early.mtl" --run-dir "$work/imp/es" -q 2>/dev/null ||
  fail "the early-stopping run failed"
grep -q '"status": "stopped_early"' "$work/imp/es/summary.json" || fail "penguins did not stop early"
cp "$work/imp/es/last.safetensors" "$work/imp/es_last.safetensors"
out=$("$mtlc" train "$work/imp/early.mtl" --run-dir "$work/imp/es" \
  --resume "$work/imp/es/last.safetensors" 2>&1) || fail "resuming a run that stopped early failed"
grep -q "stopped early after epoch" <<<"$out" || fail "no word that the resumed run had stopped: $out"
cmp -s "$work/imp/es/last.safetensors" "$work/imp/es_last.safetensors" ||
  fail "resuming a run that stopped early trained on"

# A resumed checkpoint without its run's best.safetensors beside it: the last epoch is kept,
# and said so (it was labelled the best). Penguins' best of 70 epochs is epoch 62.
"$mtlc" train "$work/imp/penguins.mtl" --epochs 70 --run-dir "$work/imp/kb" -q 2>/dev/null ||
  fail "the 70-epoch run failed"
mkdir -p "$work/imp/alone"
cp "$work/imp/kb/last.safetensors" "$work/imp/alone/ck.safetensors"
out=$("$mtlc" train "$work/imp/penguins.mtl" --epochs 72 --run-dir "$work/imp/kc" \
  --resume "$work/imp/alone/ck.safetensors" 2>&1) || fail "the resume without best.safetensors failed"
grep -q "note: the best epoch, 62, was before the resume" <<<"$out" ||
  fail "no note that the best epoch could not be kept: $out"
grep -q "validation, epoch 72 (last; kept, not the best by loss: epoch 62)" <<<"$out" ||
  fail "the last epoch was not labelled as kept but not the best: $out"

# A run that logged elsewhere (--log, relative) and is resumed without --log
# continues that log (config.json records its absolute path), from any
# directory: one log holds every epoch, none in the folder, and the report
# reads them all. A log that is gone, a relative path (as older runs
# recorded) or a file that is not this model's log is refused, saying how to
# go on; the folder's own log.jsonl, deleted, is started again.
(cd "$work" && "$mtlc" train "$model" --epochs 2 --run-dir elsewhere --log elsewhere.jsonl) \
  >"$work/first.txt" 2>&1 || fail "the run that logs elsewhere failed"
grep -q "^run folder: elsewhere (summary.json, config.json, checkpoints); log: elsewhere.jsonl$" \
  "$work/first.txt" || fail "the run folder line does not name the log: $(cat "$work/first.txt")"
(cd / && "$mtlc" train "$model" --epochs 4 --resume "$work/elsewhere/last.safetensors" -q) ||
  fail "resuming the run that logs elsewhere failed"
[[ ! -e "$work/elsewhere/log.jsonl" ]] || fail "the resumed run started a second log in its folder"
epochs=$(grep '"type":"epoch"' "$work/elsewhere.jsonl" | grep -o '"epoch":[0-9]*' | tr '\n' ' ')
[[ "$epochs" == '"epoch":1 "epoch":2 "epoch":3 "epoch":4 ' ]] ||
  fail "the continued log holds epochs $epochs, not 1 to 4"
"$mtlc" report "$work/elsewhere" -o "$work/elsewhere.html" >/dev/null || fail "the report failed"
grep -q "Every epoch&#39;s numbers (4 epochs)" "$work/elsewhere.html" ||
  fail "the report does not read the 4 epochs from the continued log"
refused() { # refused WHAT PATTERN: a resume to 6 epochs is refused with PATTERN
  "$mtlc" train "$model" --epochs 6 --resume "$work/elsewhere/last.safetensors" -q 2>"$work/r.txt" &&
    fail "resuming with $1 was accepted"
  grep -q "$2" "$work/r.txt" || fail "the refusal of $1 says: $(cat "$work/r.txt")"
}
cp "$work/elsewhere/config.json" "$work/config.json"
sed -i "s|\"log\": \"$work/|\"log\": \"|" "$work/elsewhere/config.json"
refused "a relative log path" "the run's log elsewhere.jsonl (its --log, as config.json says) is relative to the directory the run started in"
cp "$work/config.json" "$work/elsewhere/config.json"
cp "$work/elsewhere.jsonl" "$work/kept.jsonl"
grep -v '"type":"start"' "$work/kept.jsonl" >"$work/elsewhere.jsonl"
refused "a log that is not the model's" "does not begin with the start of a run of model 'wine'"
rm "$work/elsewhere.jsonl"
refused "a log that is gone" "the run's log $work/elsewhere.jsonl .* is not there; .*pass --log FILE"
"$mtlc" train "$model" --epochs 2 --run-dir "$work/own" -q || fail "the run in its own folder failed"
rm "$work/own/log.jsonl"
"$mtlc" train "$model" --epochs 3 --resume "$work/own/last.safetensors" -q ||
  fail "resuming a run whose own log.jsonl was deleted was refused"
[[ $(grep -c '"type":"epoch"' "$work/own/log.jsonl") == 1 ]] ||
  fail "the run's own log was not started again for its third epoch"

finish
