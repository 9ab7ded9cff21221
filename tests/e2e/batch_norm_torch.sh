#!/usr/bin/env bash
# batch_norm_torch.sh: batch_norm gives PyTorch's numbers. A model with a
# BatchNorm2d (after a convolution) and a BatchNorm1d (after a dense layer)
#  - trains one step on the whole data set with every parameter frozen: its
#    running statistics then equal those torch's modules compute in training
#    mode on the same rows from the same parameters (train mode's batch
#    statistics and the unbiased variance of the update);
#  - trains two epochs: its checkpoint (running_mean, running_var and
#    num_batches_tracked included) loads into torch.nn modules with
#    load_state_dict(strict=True), and the built program's predictions
#    equal torch's forward in eval mode (the running statistics).
# Skipped without python3 and torch.
#
# Usage: batch_norm_torch.sh MTLC LOG_CHECK
source "$(dirname "$0")/common.sh"
torch_python

"$python" - "$work/rows.csv" <<'PY' || { fail "could not write the rows"; finish; }
import random, sys
random.seed(4)
with open(sys.argv[1], "w") as f:
    for _ in range(40):
        pixels = [random.uniform(-1, 2) for _ in range(2 * 6 * 5)]
        x = [random.uniform(-3, 3) for _ in range(4)]
        f.write(",".join(f"{v:.6f}" for v in pixels + x) + f",{sum(pixels) / 10:.6f},{random.randrange(3)}\n")
PY
model() { # model NAME TRAIN-SETTINGS
  cat <<EOF_MTL
model $1 {
  input img : f32[2, 6, 5]
  input x : f32[4]
  data train = csv("rows.csv", header = false) {
    img = columns(0..60)
    x   = columns(60..64)
    a   = column(64)
    b   = column(65) as class
  }
  shared trunk = img -> conv2d(3, 3, padding = 1, bias = false) -> batch_norm -> relu -> max_pool(2)
  task a : regress { head = trunk -> flatten -> dense(1) }
  task b : classify(3) { head = x -> dense(5) -> batch_norm(momentum = 0.3, eps = 1e-3) -> tanh -> dense(3) }
  optimizer adam(lr = 1e-2)
  train { $2 }
}
EOF_MTL
}
model stats "epochs = 1, batch = 40, seed = 2, freeze = [trunk, b]" >"$work/stats.mtl"
model trained "epochs = 2, batch = 8, seed = 5" >"$work/trained.mtl"

"$mtlc" train "$work/stats.mtl" -q --run-dir "$work/stats" >/dev/null 2>"$work/stats.err" ||
  { fail "mtlc train (frozen) failed: $(cat "$work/stats.err")"; finish; }
"$python" "$here/../runtime/read_checkpoint.py" "$work/stats/last.safetensors" >"$work/stats.json" ||
  { fail "read_checkpoint.py cannot read the frozen run's checkpoint"; finish; }
train_and_predict "$work/trained.mtl" "$work/rows.csv" || finish

"$python" - "$work/stats.json" "$work/ck.json" "$work/rows.csv" "$work/pred.csv" "$here" <<'PY' || fail "mtlc and torch differ"
import csv, json, sys
import torch
from torch import nn

def build():
    return nn.ModuleDict({
        "trunk": nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3),
                               nn.ReLU(), nn.MaxPool2d(2)),
        "a": nn.Sequential(nn.Flatten(), nn.Linear(18, 1)),
        "b": nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5, eps=1e-3, momentum=0.3), nn.Tanh(),
                           nn.Linear(5, 3)),
    })

def load(model, path, only=None):
    ck = json.load(open(path))["tensors"]
    state = {name: torch.tensor(t["values"], dtype=torch.float32).reshape(t["shape"])
             for name, t in ck.items() if name in model.state_dict() and (only is None or only(name))}
    model.load_state_dict(state, strict=only is None)  # copy_ converts num_batches_tracked
    return ck

rows = [[float(v) for v in line] for line in csv.reader(open(sys.argv[3]))]
img = torch.tensor([r[:60] for r in rows]).reshape(-1, 2, 6, 5)
x = torch.tensor([r[60:64] for r in rows])
buffers = ("running_mean", "running_var", "num_batches_tracked")

# One training step on all rows from frozen parameters: the running statistics.
model = build()
ck = load(model, sys.argv[1], only=lambda name: not name.endswith(buffers))
model.train()
with torch.no_grad():
    model["trunk"](img)
    model["b"](x)
worst = 0.0
for name, value in model.state_dict().items():
    if name.endswith(buffers):
        ours = torch.tensor(ck[name]["values"]).reshape(value.shape).double()
        worst = max(worst, (ours - value.double()).abs().max().item())
print(f"running statistics after one step: largest difference from torch {worst:.3g}")
if worst > 1e-5:
    sys.exit(f"running statistics differ from torch's by up to {worst}")

# The trained model, strictly loaded, in eval mode.
model = build()
load(model, sys.argv[2])
tracked = model.state_dict()["trunk.1.num_batches_tracked"].item()
if tracked != 10:
    sys.exit(f"num_batches_tracked is {tracked} after 2 epochs of 5 steps")
model.eval()
with torch.no_grad():
    a = model["a"](model["trunk"](img)).reshape(-1)
    b = torch.softmax(model["b"](x), dim=1)
sys.path.insert(0, sys.argv[5])
from torch_heads import compare_heads
compare_heads(sys.argv[4], a, b, 3, "eval predictions")
PY
finish
