#!/usr/bin/env bash
# transfer.sh: a model starts from another model's checkpoint by name
# (examples/digits_autoencoder.mtl's encoder as the trunk of
# examples/digits_transfer.mtl), from the .mtl's `init` settings and from the
# flags; frozen groups do not change; a run with a frozen trunk that thaws
# resumes bit for bit; and mistakes are errors that say what is wrong.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

digits=$examples/data/digits.csv.gz
"$mtlc" train "$examples/digits_autoencoder.mtl" --epochs 3 --run-dir "$work/ae" -q ||
  { fail "pretraining failed"; finish; }
ae=$work/ae/last.safetensors

# The settings in the model file: init, init_map, freeze.
sed -e "s|\"data/digits.csv.gz\"|\"$digits\"|" \
  -e "s|validate = 0.9 }|validate = 0.9, init = \"ae/last.safetensors\", init_map = \"trunk <- encoder\", freeze = trunk }|" \
  "$examples/digits_transfer.mtl" >"$work/transfer.mtl"
grep -c 'init_map = "trunk <- encoder"' "$work/transfer.mtl" >/dev/null || fail "fixture: no init in the model"
"$mtlc" train "$work/transfer.mtl" --epochs 2 --run-dir "$work/t" >"$work/t.txt" 2>&1 ||
  fail "training from the model's init failed: $(cat "$work/t.txt")"
# A missing init checkpoint is named at the setting, before anything compiles;
# --init-from in its place is not refused for it.
sed 's|init = "ae/last.safetensors"|init = "ae/missing.safetensors"|' "$work/transfer.mtl" >"$work/missing.mtl"
out=$("$mtlc" train "$work/missing.mtl" --epochs 1 --no-save 2>&1)
[[ $? -eq 1 && $out == *"missing.mtl:"*": error: init names '$work/ae/missing.safetensors', which is not a file"* ]] ||
  fail "a missing init checkpoint: $out"
"$mtlc" train "$work/missing.mtl" --epochs 1 --no-save -q --init-from "$ae" --init-map 'trunk <- encoder' ||
  fail "--init-from did not stand in for a missing init"
grep -c "^init from .*ae/last\.safetensors: loaded 4 tensors (trunk\.0\.weight <- encoder\.0\.weight, trunk\.0\.bias <- encoder\.0\.bias, .*; new: 4 tensors (digit\.0\.weight, .*; not used: 4 tensors (reconstruct\.0\.weight" \
  "$work/t.txt" >/dev/null || fail "no report of what was loaded: $(head -3 "$work/t.txt")"
[[ $(tr -d ' \n' <"$work/t/config.json") == *'"freeze":["trunk"]'* ]] ||
  fail "config.json does not record the frozen trunk"
# A program built from the model (named by a relative path) finds its init
# checkpoint from any folder, as it finds its data.
"$mtlc" build transfer.mtl -o "$work/from_init" >/dev/null 2>&1 || fail "build of transfer.mtl failed"
out=$(cd / && "$work/from_init" train --epochs 1 --no-save 2>&1)
[[ $? -eq 0 && $out == *"init from $work/ae/last.safetensors: loaded 4 tensors"* ]] ||
  fail "the built program did not find its init checkpoint from another folder: $out"

# Every group frozen: the run ends where it started (the same predictions).
model=$examples/digits_transfer.mtl
"$mtlc" build "$model" -o "$work/transfer" >/dev/null 2>&1 || { fail "build failed"; finish; }
"$work/transfer" train -q --epochs 2 --run-dir "$work/still" --save-init --init-from "$ae" \
  --init-map 'trunk <- encoder' --freeze trunk --freeze digit --freeze odd ||
  fail "training with everything frozen failed"
"$work/transfer" predict --checkpoint "$work/still/init.safetensors" --input "$digits" >"$work/p0.csv" 2>/dev/null
"$work/transfer" predict --checkpoint "$work/still/last.safetensors" --input "$digits" >"$work/p1.csv" 2>/dev/null
cmp -s "$work/p0.csv" "$work/p1.csv" || fail "a run with every group frozen changed its predictions"
# --unfreeze-after 0 keeps them frozen for the whole run.
"$work/transfer" train -q --epochs 2 --run-dir "$work/still0" --save-init --freeze trunk \
  --freeze digit --freeze odd --unfreeze-after 0 || fail "training with --unfreeze-after 0 failed"
"$work/transfer" predict --checkpoint "$work/still0/init.safetensors" --input "$digits" >"$work/p4.csv" 2>/dev/null
"$work/transfer" predict --checkpoint "$work/still0/last.safetensors" --input "$digits" >"$work/p5.csv" 2>/dev/null
cmp -s "$work/p4.csv" "$work/p5.csv" || fail "--unfreeze-after 0 thawed the frozen groups"
"$work/transfer" train -q --epochs 2 --run-dir "$work/moving" --save-init --freeze trunk ||
  fail "training with the trunk frozen failed"
"$work/transfer" predict --checkpoint "$work/moving/init.safetensors" --input "$digits" >"$work/p2.csv" 2>/dev/null
"$work/transfer" predict --checkpoint "$work/moving/last.safetensors" --input "$digits" >"$work/p3.csv" 2>/dev/null
cmp -s "$work/p2.csv" "$work/p3.csv" && fail "the heads did not learn with the trunk frozen"

# Frozen for an epoch, then thawed, with a slower trunk: a resumed run ends bit for bit as an uninterrupted one.
args=(--init-from "$ae" --init-map 'trunk <- encoder' --freeze trunk --unfreeze-after 1 --lr-scale trunk=0.5)
"$work/transfer" train -q --epochs 3 --run-dir "$work/full" "${args[@]}" || fail "the uninterrupted run failed"
"$work/transfer" train -q --epochs 2 --run-dir "$work/part" "${args[@]}" || fail "the first part failed"
"$work/transfer" train -q --epochs 3 --run-dir "$work/part" --resume "$work/part/last.safetensors" \
  --freeze trunk --unfreeze-after 1 --lr-scale trunk=0.5 || fail "the resumed run failed"
cmp -s "$work/full/last.safetensors" "$work/part/last.safetensors" ||
  fail "the resumed run's checkpoint differs from the uninterrupted run's"
"$work/transfer" train -q --epochs 3 --no-save --resume "$work/part/last.safetensors" >"$work/r.txt" 2>&1 &&
  fail "resuming without the freeze it ran with was accepted"
grep -c "cannot resume: the run's settings differ.*freeze: checkpoint 'trunk', now ''" "$work/r.txt" >/dev/null ||
  fail "no message for a resume that changes freeze: $(cat "$work/r.txt")"

# A thawed tensor's first Adam update is lr (1 - b1) sqrt(1 - b2^t) / ((1 - b1^t) sqrt(1 - b2)) at
# the run's step t, not PyTorch's lr (docs/transfer.md): one step an epoch (--batch 1000), the trunk
# thawed at step t = 2 and t = 361 (where the digits workflows thaw it), lr = 0.001.
if command -v python3 >/dev/null; then
  for t in 2 361; do
    "$mtlc" train "$examples/penguins.mtl" --freeze trunk --unfreeze-after $((t - 1)) \
      --epochs $t --batch 1000 --save-init --run-dir "$work/thaw$t" -q 2>/dev/null ||
      fail "the thawed penguins run to step $t failed"
    for f in init last; do
      python3 "$here/../runtime/read_checkpoint.py" "$work/thaw$t/$f.safetensors" >"$work/thaw$t.$f.json"
    done
    ratio=$(python3 -c 'import json, sys
a, b = (json.load(open(p))["tensors"]["trunk.0.weight"]["values"] for p in sys.argv[1:])
print("%.3f" % (max(abs(y - x) for x, y in zip(a, b)) / 0.001))' "$work/thaw$t.init.json" "$work/thaw$t.last.json")
    expected=$([[ $t == 2 ]] && echo 0.744 || echo 1.741)
    [[ $ratio == "$expected" ]] || fail "the first update after thawing at step $t is $ratio lr, not $expected lr"
  done
else
  echo "SKIP: the first update after thawing (no python3 to read the checkpoints)"
fi

# expect_error WHAT PATTERN CMD...: exit status 1 and a message matching PATTERN.
expect_error() {
  local what=$1 pattern=$2
  shift 2
  "$@" >"$work/out.txt" 2>&1
  local status=$?
  echo "--- $what (exit status $status):"
  head -n 3 "$work/out.txt"
  [[ $status -eq 1 ]] || fail "$what: exit status $status, expected 1"
  grep -Ec -e "$pattern" "$work/out.txt" >/dev/null || fail "$what: no message matching /$pattern/"
}
expect_error "a map that matches nothing" "'tronk <- encoder' maps no parameter of model 'digits_transfer'" \
  "$work/transfer" train -q --no-save --init-from "$ae" --init-map 'tronk <- encoder'
expect_error "a map whose checkpoint side names nothing" "'trunk <- encodr' names no tensor of the checkpoint \(such as encodr\.0\.weight\)" \
  "$work/transfer" train -q --no-save --init-from "$ae" --init-map 'trunk <- encodr' --freeze trunk
expect_error "a map between shapes that differ" "'digit <- reconstruct' maps tensors of different shapes: digit\.0\.weight <- reconstruct\.0\.weight: checkpoint \[32, 16\], model \[10, 16\]" \
  "$work/transfer" train -q --no-save --init-from "$ae" --init-map 'digit <- reconstruct'
expect_error "freezing an unknown group" "freeze: 'trunkk' names no parameters of model 'digits_transfer' \(its groups: trunk, digit, odd\); did you mean 'trunk'\?" \
  "$work/transfer" train -q --no-save --freeze trunkk
expect_error "--unfreeze-after without a frozen group" "unfreeze_after = 2 thaws nothing: no parameter group is frozen" \
  "$work/transfer" train -q --no-save --unfreeze-after 2
# Frozen tensors that the checkpoint does not give stay random while frozen: a warning says so.
"$work/transfer" train -q --no-save --epochs 1 --init-from "$ae" --init-map 'trunk <- encoder' \
  --freeze trunk --freeze digit >/dev/null 2>"$work/frozen_new.txt" || fail "a partly loaded frozen run failed"
grep -c "warning: init from .*: frozen but not loaded: 2 tensors (digit.0.weight, digit.0.bias); they keep their random initial values while frozen" \
  "$work/frozen_new.txt" >/dev/null || fail "no warning for frozen tensors left new: $(cat "$work/frozen_new.txt")"
expect_error "a malformed --lr-scale" "--lr-scale 'trunk': expected GROUP=SCALE" \
  "$work/transfer" train -q --no-save --lr-scale trunk
finish
