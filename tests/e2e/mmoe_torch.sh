#!/usr/bin/env bash
# mmoe_torch.sh: a mixture of experts gives PyTorch's numbers. The MMoE
# digits example (examples/digits_mmoe.mtl: three experts, a softmax gate per
# task, mix) trains one epoch; its checkpoint loads by name into a PyTorch
# module written from the paper's equations (Ma et al. 2018), and the built
# program's predictions on the digits equal torch's forward. Skipped without
# python3 and torch.
#
# Usage: mmoe_torch.sh MTLC LOG_CHECK
source "$(dirname "$0")/common.sh"
torch_python

train_and_predict "$examples/digits_mmoe.mtl" "$examples/data/digits.csv.gz" --epochs 1 || finish

"$python" - "$work/ck.json" "$examples/data/digits.csv.gz" "$work/pred.csv" <<'PY' || fail "mtlc and torch differ"
import csv, gzip, json, sys
import torch
from torch import nn

class MMoE(nn.Module):
    """k experts and a softmax gate per task: task t reads sum_j gate_t(x)_j expert_j(x)."""
    def __init__(self):
        super().__init__()
        for e in ("e1", "e2", "e3"):
            setattr(self, e, nn.Sequential(nn.Linear(64, 32), nn.ReLU()))
        for g in ("digit_gate", "odd_gate", "high_gate"):
            setattr(self, g, nn.Sequential(nn.Linear(64, 3), nn.Softmax(dim=1)))
        self.digit = nn.Sequential(nn.Linear(32, 10))
        self.odd = nn.Sequential(nn.Linear(32, 1))
        self.high = nn.Sequential(nn.Linear(32, 1))

    def forward(self, x):
        experts = torch.stack([self.e1(x), self.e2(x), self.e3(x)], dim=1)  # [B, 3, 32]
        mix = lambda gate: (gate(x).unsqueeze(2) * experts).sum(1)
        return (torch.softmax(self.digit(mix(self.digit_gate)), dim=1),
                torch.sigmoid(self.odd(mix(self.odd_gate))).reshape(-1),
                torch.sigmoid(self.high(mix(self.high_gate))).reshape(-1))

model = MMoE()
ck = json.load(open(sys.argv[1]))["tensors"]
names = model.state_dict()
state = {n: torch.tensor(ck[n]["values"], dtype=torch.float32).reshape(ck[n]["shape"])
         for n in names if n in ck}
if set(state) != set(names):
    sys.exit(f"the checkpoint lacks {sorted(set(names) - set(state))}")
model.load_state_dict(state)

rows = [[float(v) / 16 for v in line[:64]] for line in csv.reader(gzip.open(sys.argv[2], "rt"))]
with torch.no_grad():
    digit, odd, high = model(torch.tensor(rows))
pred = list(csv.DictReader(open(sys.argv[3])))
if len(pred) != len(rows):
    sys.exit(f"{len(pred)} predictions for {len(rows)} rows")
worst = 0.0
for i, p in enumerate(pred):
    ours = [float(p[f"digit.prob.{c}"]) for c in range(10)] + [float(p["odd.prob"]), float(p["high.prob"])]
    theirs = digit[i].tolist() + [odd[i].item(), high[i].item()]
    worst = max(worst, max(abs(a - b) for a, b in zip(ours, theirs)))
print(f"largest difference from torch over {len(rows)} rows: {worst:.3g}")
if worst > 1e-5:
    sys.exit(f"predictions differ from torch's by up to {worst}")
PY
finish
