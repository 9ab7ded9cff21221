#!/usr/bin/env bash
# gru_torch.sh: a gru model trained and built by mtlc predicts and scores
# what an independent reference computes from its checkpoint's weights
# (gru_reference.py): torch.nn.GRU with the checkpoint loaded by its names
# (load_state_dict, strict), where a python3 with torch is found (python3 on
# the PATH, or Debian's python3-torch in /usr/bin/python3), else the GRU's
# formulas in plain Python. Skipped where python3 is absent.
#
# Usage: gru_torch.sh MTLC LOG_CHECK
source "$(dirname "$0")/common.sh"
python=$(command -v python3) || skip "no python3"
how=python
for candidate in "$python" /usr/bin/python3; do
  if [[ -x $candidate ]] && "$candidate" -c 'import torch' 2>/dev/null; then
    python=$candidate how=torch
    break
  fi
done
echo "reference: $how ($python)"

cat >"$work/seq.mtl" <<'MTL'
model seq {
  input x : f32[6, 3]
  data train = csv("seq.csv") {
    x = columns(0..18)
    y = column(y)
    c = column(c)
  }
  shared trunk = x -> gru(5)
  task y : regress { head = trunk -> dense(1) }
  task c : binary { head = trunk -> dense(1) }
  train { epochs = 2, batch = 16, seed = 3 }
}
MTL
# 64 rows of 6 steps of 3 values in [-1, 1); y sums them with signs by
# feature, and c is whether that sum is positive.
awk 'BEGIN { state = 7
  for (j = 0; j < 18; j++) printf "x%d,", j; print "y,c"
  for (r = 0; r < 64; r++) { s = 0
    for (j = 0; j < 18; j++) { state = (48271 * state) % 2147483647; v = 2 * state / 2147483647 - 1
      s += v * (j % 3 - 1); printf "%.4f,", v }
    printf "%.4f,%d\n", s, (s > 0) } }' >"$work/seq.csv"

"$mtlc" build "$work/seq.mtl" -o "$work/seq" >"$work/build.txt" 2>&1 ||
  { fail "mtlc build failed: $(cat "$work/build.txt")"; finish; }
"$work/seq" train --run-dir "$work/ck" -q >"$work/train.txt" 2>&1 ||
  { fail "training failed: $(cat "$work/train.txt")"; finish; }
ck=$work/ck/last.safetensors
"$work/seq" predict --checkpoint "$ck" --input "$work/seq.csv" >"$work/pred.csv" 2>"$work/err.txt" ||
  fail "predict failed: $(cat "$work/err.txt")"
"$work/seq" eval --checkpoint "$ck" --data "train=$work/seq.csv" --json >"$work/eval.json" \
  2>"$work/err.txt" || fail "eval failed: $(cat "$work/err.txt")"
"$python" "$here/../runtime/read_checkpoint.py" "$ck" >"$work/ck.json" ||
  fail "read_checkpoint.py cannot read the checkpoint"
"$python" "$here/gru_reference.py" "$how" "$work/ck.json" "$work/seq.csv" "$work/pred.csv" \
  "$work/eval.json" || fail "mtlc and the $how reference differ"
finish
