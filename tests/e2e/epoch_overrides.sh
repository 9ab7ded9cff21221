#!/usr/bin/env bash
# epoch_overrides.sh: the settings counted in epochs (a cosine schedule's
# warmup, unfreeze_after) are checked against the epochs the run trains: a
# valid --epochs override is taken, one they do not fit is refused with the
# setting's place in the file, and a built program checks its own flags.
source "$(dirname "$0")/common.sh"

cat >warm.mtl <<'MTL'
model warm {
  input x : f32[4]
  data train = synthetic(rows = 64, seed = 1) {}
  shared t = x -> dense(4)
  task y : regress { head = t -> dense(1) }
  optimizer adam(lr = 0.01)
  train { epochs = 1, schedule = cosine(warmup = 2), freeze = [t], unfreeze_after = 3 }
}
MTL
"$mtlc" check warm.mtl >check.txt 2>&1 && fail "check passed a warmup longer than the run"
grep -q "warm.mtl:7:50: error: warmup = 2 leaves no epoch after it in the run's 1 epoch \
(epochs = 1); warm up for fewer epochs or train for more" check.txt ||
  fail "check's warmup message: $(cat check.txt)"
grep -q "warm.mtl:7:85: error: unfreeze_after = 3 leaves nothing to train unfrozen in the run's 1 \
epoch (epochs = 1)" check.txt || fail "check's unfreeze_after message: $(cat check.txt)"

"$mtlc" train warm.mtl --epochs 4 --no-save -q || fail "--epochs 4 fits the warmup and unfreeze_after"
"$mtlc" train warm.mtl --epochs 3 --no-save -q >three.txt 2>&1 &&
  fail "--epochs 3 was taken with unfreeze_after = 3"
grep -q "warm.mtl:7:85: error: unfreeze_after = 3 leaves nothing to train unfrozen in the run's 3 \
epochs (--epochs 3)" three.txt || fail "the --epochs 3 message: $(cat three.txt)"

sed -i 's/epochs = 1,/epochs = 4,/' warm.mtl
"$mtlc" build warm.mtl -o warm >build.txt 2>&1 || { fail "build: $(cat build.txt)"; finish; }
./warm train --epochs 2 --unfreeze-after 1 --no-save -q >prog.txt 2>&1 &&
  fail "the program took --epochs 2"
grep -q "error: the schedule 'cosine(warmup = 2)' leaves no epoch after its warmup in the run's 2 \
epochs" prog.txt || fail "the program's message: $(cat prog.txt)"
./warm train --no-save -q --unfreeze-after 9 >prog.txt 2>&1 && fail "the program took --unfreeze-after 9"
grep -q "error: unfreeze_after = 9 leaves nothing to train unfrozen in the run's 4 epochs" prog.txt ||
  fail "the program's unfreeze message: $(cat prog.txt)"
./warm train --no-save -q || fail "the program's own settings fit"
finish
