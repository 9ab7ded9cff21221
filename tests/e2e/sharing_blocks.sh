#!/usr/bin/env bash
# sharing_blocks.sh: std/sharing.mtl's one-call blocks and the built-in ple
# are the architectures written out. examples/mmoe_synthetic.mtl's mmoe
# (`x -> mmoe(4, expert(16))`), cgc (`x -> cgc(2, 1, expert(16))`) and ple
# (`x -> ple(2, 2, 1, expert(16))`) models and the same models written out with
# expert, gate and tower (tests/e2e/data/sharing_by_hand.mtl) train to the
# same losses in every epoch, and their built programs, each with its own
# checkpoint, predict the same numbers; the one-call models report a gate
# per task, named by its layers (moe.0.y1, level.0.y2, ext.0.1.gates.y2).
# `mtlc shapes` names such a shared value in the tasks' paths and prints
# what it computes under it, in a few hundred characters even for a deep
# ple, whose values would repeat exponentially written as a tree.
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
shapes=$("$mtlc" shapes "$examples/mmoe_synthetic.mtl") || fail "mtlc shapes failed"
grep -qxF '    path: ext -> y1  output [1]' <<<"$shapes" || fail "no path through ext for y1: $(grep path <<<"$shapes")"
grep -qxF '    value: mix(x -> moe.0.y2, stack(x -> moe.1.0, x -> moe.1.1, x -> moe.1.2, x -> moe.1.3))' \
  <<<"$shapes" || fail "moe's value for y2 is not printed: $(grep value <<<"$shapes")"
cat >"$work/deep.mtl" <<'EOF'
model m {
  input x : f32[10]
  shared ext = x -> ple(levels = 8, shared_experts = 2, task_experts = 2, expert = dense(8))
  task a : regress { head = ext -> dense(1) }
  task b : regress { head = ext -> dense(1) }
  task c : regress { head = x -> ple(8, 2, 2, dense(8)) -> dense(1) }
}
EOF
deep=$("$mtlc" shapes "$work/deep.mtl") || fail "mtlc shapes failed on a deep ple"
longest=$(awk '{ if (length($0) > n) n = length($0) } END { print n }' <<<"$deep")
[[ $longest -lt 1000 ]] || fail "a deep ple's shapes have a line of $longest characters"
# A shared value of no layers of its own gets a heading; a soft copy is named
# by its copy; a never-used one names nothing (its dry run is dropped).
cat >"$work/names.mtl" <<'EOF'
model m {
  input x : f32[4]
  shared e1 = x -> dense(4)
  shared e2 = x -> dense(4)
  shared cat = concat(e1, e2)
  shared unused = concat(e2, e1)
  shared soft(0.1) s = concat(x -> dense(2), e1)
  task a : regress { head = cat -> dense(1) }
  task b : regress { head = s -> dense(1) }
  task c : regress { head = s -> dense(1) }
  task d : regress { head = concat(e2, e1) -> dense(1) }
}
EOF
names=$("$mtlc" shapes "$work/names.mtl" 2>/dev/null) || fail "mtlc shapes failed on names.mtl"
for line in '  shared cat  (0 parameters)' '    value: concat(x -> e1, x -> e2)' '    path: cat -> a  output [1]' \
  '    path: s.b -> b  output [1]' '    value: concat(x -> s.c.0, x -> e1)' \
  '    path: concat(x -> e2, x -> e1) -> d  output [1]'; do
  grep -qxF "$line" <<<"$names" || fail "shapes of names.mtl lack '$line': $names"
done
grep -q unused <<<"$names" && fail "a never-used shared value names a value: $names"
finish
