#!/usr/bin/env bash
# conv_torch.sh: convolutions and pools give PyTorch's numbers. A model of
# conv2d (padding, stride, no bias), max_pool (overlapping windows) and
# avg_pool (floor rounding) trains two epochs on random images; its
# checkpoint loads by name into torch.nn.Conv2d / MaxPool2d / AvgPool2d /
# Linear modules, and the built program's predictions equal torch's forward
# on the same images. Skipped without python3 and torch.
#
# Usage: conv_torch.sh MTLC LOG_CHECK
source "$(dirname "$0")/common.sh"
torch_python

"$python" - "$work/images.csv" <<'PY' || { fail "could not write the images"; finish; }
import random, sys
random.seed(3)
with open(sys.argv[1], "w") as f:
    for _ in range(40):
        pixels = [random.uniform(-1, 1) for _ in range(2 * 9 * 8)]
        f.write(",".join(f"{v:.6f}" for v in pixels) + f",{sum(pixels):.6f},{random.randrange(3)}\n")
PY
cat >"$work/conv.mtl" <<'EOF_MTL'
model conv {
  input img : f32[2, 9, 8]
  data train = csv("images.csv", header = false) {
    img = columns(0..144)
    a   = column(144)
    b   = column(145) as class
  }
  shared trunk = img -> conv2d(3, 3, padding = 1) -> relu -> max_pool(3, stride = 2)
  task a : regress {
    head = trunk -> conv2d(4, 2, bias = false) -> tanh -> avg_pool(2) -> flatten -> dense(1)
  }
  task b : classify(3) { head = img -> conv2d(2, 3, stride = 2) -> flatten -> dense(3) }
  optimizer adam(lr = 1e-2)
  train { epochs = 2, batch = 8, seed = 5 }
}
EOF_MTL

train_and_predict "$work/conv.mtl" "$work/images.csv" || finish

"$python" - "$work/ck.json" "$work/images.csv" "$work/pred.csv" "$here" <<'PY' || fail "mtlc and torch differ"
import csv, json, sys
import torch
from torch import nn

ck = json.load(open(sys.argv[1]))["tensors"]
model = nn.ModuleDict({
    "trunk": nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2)),
    "a": nn.Sequential(nn.Conv2d(3, 4, 2, bias=False), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                       nn.Linear(4, 1)),
    "b": nn.Sequential(nn.Conv2d(2, 2, 3, stride=2), nn.Flatten(), nn.Linear(24, 3)),
})
state = {name: torch.tensor(t["values"], dtype=torch.float32).reshape(t["shape"])
         for name, t in ck.items() if name in model.state_dict()}
missing = set(model.state_dict()) - set(state)
if missing:
    sys.exit(f"the checkpoint lacks {sorted(missing)}")
for name, value in state.items():
    if list(value.shape) != list(model.state_dict()[name].shape):
        sys.exit(f"{name} has shape {list(value.shape)}, torch's is {list(model.state_dict()[name].shape)}")
model.load_state_dict(state)

rows = [[float(v) for v in line[:144]] for line in csv.reader(open(sys.argv[2]))]
img = torch.tensor(rows).reshape(-1, 2, 9, 8)
with torch.no_grad():
    a = model["a"](model["trunk"](img)).reshape(-1)
    b = torch.softmax(model["b"](img), dim=1)
sys.path.insert(0, sys.argv[4])
from torch_heads import compare_heads
compare_heads(sys.argv[3], a, b, 3, "predictions")
PY
finish
