#!/usr/bin/env bash
# python_checkpoint.sh: a checkpoint written by mtlc (here by `mtlc train` on
# the penguins example) reads with Python's json and struct modules alone
# (tests/runtime/read_checkpoint.py, the reader docs/checkpoints.md describes)
# and holds the documented names and shapes: PyTorch nn.Sequential names with
# dense weights [out, in], Adam's state, the standardisation statistics and
# the run's metadata. Skipped where python3 is absent.
#
# Usage: python_checkpoint.sh MTLC LOG_CHECK
source "$(dirname "$0")/common.sh"
python=$(command -v python3) || skip "no python3"

"$mtlc" train "$examples/penguins.mtl" --epochs 2 -q --run-dir "$work/ck" 2>/dev/null ||
  { fail "mtlc train failed"; finish; }
"$python" "$here/../runtime/read_checkpoint.py" "$work/ck/last.safetensors" >"$work/ck.json" ||
  { fail "read_checkpoint.py cannot read the checkpoint"; finish; }

"$python" - "$work/ck.json" <<'PY' || fail "the checkpoint does not hold the documented names and shapes"
import json, sys
ck = json.load(open(sys.argv[1]))
t, m = ck["tensors"], ck["metadata"]
want = {
    "trunk.0.weight": [64, 3], "trunk.0.bias": [64], "trunk.3.weight": [32, 64],
    "trunk.3.bias": [32], "species.0.weight": [3, 32], "species.0.bias": [3],
    "sex.0.weight": [1, 32], "body_mass.0.weight": [1, 32],
    "trunk.0.weight.exp_avg": [64, 3], "trunk.0.weight.exp_avg_sq": [64, 3],
    "__standardize__.input.x.mean": [3], "__standardize__.input.x.std": [3],
    "__standardize__.task.body_mass.mean": [1],
}
bad = [f"{n}: {t[n]['shape'] if n in t else 'missing'}, expected {s}"
       for n, s in want.items() if n not in t or t[n]["shape"] != s]
bad += [f"{n} is {t[n]['dtype']}" for n in want if n in t and
        t[n]["dtype"] != ("F64" if n.startswith("__standardize__") else "F32")]
for key, value in {"format": "mtlc-checkpoint-1", "model": "penguins", "epoch": "2",
                   "seed": "7", "classes.species": '["Adelie","Chinstrap","Gentoo"]'}.items():
    if m.get(key) != value:
        bad.append(f"metadata {key} = {m.get(key)!r}, expected {value!r}")
if int(m.get("step", "0")) <= 0:
    bad.append("metadata step is not positive")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
print(f"{len(t)} tensors, {len(m)} metadata keys as documented")
PY
finish
