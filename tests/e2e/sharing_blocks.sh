#!/usr/bin/env bash
# sharing_blocks.sh: std/sharing.mtl's one-call blocks and the built-in ple
# are the architectures written out. examples/mmoe_synthetic.mtl's mmoe
# (`x -> mmoe(4, expert(16))`), cgc (`x -> cgc(2, 1, expert(16))`) and ple
# (`x -> ple(2, 2, 1, expert(16))`) models and the same models written out with
# expert, gate and tower (tests/e2e/data/sharing_by_hand.mtl) train to the
# same losses in every epoch, and their built programs, each with its own
# checkpoint, predict the same numbers; the one-call models report a gate
# per task, named by its layers (moe.0.y1, level.0.y2, ext.0.1.gates.y2).
source "$(dirname "$0")/common.sh"

sh "$examples/data/make_mmoe.sh" 0.5 800 3 >"$work/mmoe.csv" || { fail "make_mmoe.sh failed"; finish; }
cp "$fixtures/sharing_by_hand.mtl" "$work/by_hand.mtl"

# run FILE MODEL NAME: trains MODEL of FILE 3 epochs on the data into
# $work/NAME (log, run folder, summary) and predicts the data with its built
# program into $work/NAME.csv.
run() {
  local file=$1 model=$2 name=$3
  "$mtlc" train "$file" --model "$model" --epochs 3 --data "train=$work/mmoe.csv" \
    --log "$work/$name.jsonl" --run-dir "$work/$name" >"$work/$name.txt" 2>&1 ||
    { fail "training $name failed: $(cat "$work/$name.txt")"; return 1; }
  "$mtlc" build "$file" --model "$model" -o "$work/$name.bin" 2>"$work/build.err" ||
    { fail "building $name failed: $(cat "$work/build.err")"; return 1; }
  "$work/$name.bin" predict --checkpoint "$work/$name/last.safetensors" \
    --input "$work/mmoe.csv" >"$work/$name.csv" 2>"$work/pred.err" ||
    { fail "predicting with $name failed: $(cat "$work/pred.err")"; return 1; }
}

# The losses of each epoch record, as written (17 significant digits).
losses() { grep '"type":"epoch"' "$1" | grep -oE '"loss":[-0-9.e+]+' | paste -sd' '; }

for model in mmoe cgc ple; do
  run "$examples/mmoe_synthetic.mtl" "$model" "$model.one" || continue
  run "$work/by_hand.mtl" "$model" "$model.hand" || continue
  one=$(losses "$work/$model.one.jsonl") hand=$(losses "$work/$model.hand.jsonl")
  [[ $(wc -w <<<"$one") -ge 18 ]] || fail "$model: too few losses logged: $one"
  [[ $one == "$hand" ]] || fail "$model: the one-call block's losses differ from the written-out model's:
  $one
  $hand"
  [[ $(wc -l <"$work/$model.one.csv") == 801 ]] || fail "$model: $(wc -l <"$work/$model.one.csv") prediction lines"
  cmp -s "$work/$model.one.csv" "$work/$model.hand.csv" ||
    fail "$model: the one-call block's predictions differ from the written-out model's"
done
for gate in "moe.0.y1 (y1)" "moe.0.y2 (y2)"; do
  grep -qF "  $gate  moe.1[0] " "$work/mmoe.one.txt" || fail "mmoe printed no gate line '$gate': $(grep -A3 '^gates' "$work/mmoe.one.txt")"
done
grep -qE '^  level\.0\.y2 \(y2\)  level\.1 [0-9.]+  level\.2\[0\] [0-9.]+  level\.2\[1\] [0-9.]+$' "$work/cgc.one.txt" ||
  fail "cgc printed no gate line for y2: $(grep -A3 '^gates' "$work/cgc.one.txt")"
grep -qE '^  ext\.0\.0\.shared_gate \(several tasks\) +ext\.0\.0\.experts\.y1\[0\] [0-9.]+  ext\.0\.0\.experts\.y2\[0\] [0-9.]+  ext\.0\.0\.shared\[0\] [0-9.]+  ext\.0\.0\.shared\[1\] [0-9.]+$' "$work/ple.one.txt" ||
  fail "ple printed no line for its shared gate: $(grep -A6 '^gates' "$work/ple.one.txt")"
grep -qE '^  ext\.0\.1\.gates\.y2 \(y2\) +ext\.0\.1\.experts\.y2\[0\] [0-9.]+  ext\.0\.1\.shared\[0\] [0-9.]+  ext\.0\.1\.shared\[1\] [0-9.]+$' "$work/ple.one.txt" ||
  fail "ple printed no line for y2's second gate: $(grep -A6 '^gates' "$work/ple.one.txt")"
finish
