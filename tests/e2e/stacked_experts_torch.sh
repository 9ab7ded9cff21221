#!/usr/bin/env bash
# stacked_experts_torch.sh: experts stacked with `repeat`, gates written
# inside `mix`, learned(...) gates, attend(...), each_task(...) and ple(...)
# are named as PyTorch names a ModuleList of Sequentials, a module with a
# `weight` parameter, an nn.MultiheadAttention, a ModuleDict by task and a
# ModuleList of levels. The MMoE, attention, CGC, PLE and cross-stitch
# models of examples/mmoe_synthetic.mtl (std/sharing.mtl's one-call mmoe and
# cgc blocks, the built-in ple; its expert, gate and tower blocks) train one epoch on 2,000
# rows of the MMoE paper's synthetic data; each checkpoint loads with
# load_state_dict(strict) into a PyTorch module written from the papers'
# equations, and the built program's predictions equal torch's forward.
# Skipped without python3 and torch.
#
# Usage: stacked_experts_torch.sh MTLC LOG_CHECK
source "$(dirname "$0")/common.sh"
torch_python

sh "$examples/data/make_mmoe.sh" 0.5 2000 >"$work/mmoe.csv" || fail "make_mmoe.sh failed"
for model in mmoe attention cgc ple cross_stitch; do
  "$mtlc" train "$examples/mmoe_synthetic.mtl" --model $model --epochs 1 \
    --data train="$work/mmoe.csv" -q --run-dir "$work/$model" >/dev/null 2>"$work/train.err" ||
    { fail "mtlc train --model $model failed: $(cat "$work/train.err")"; continue; }
  "$mtlc" build "$examples/mmoe_synthetic.mtl" --model $model -o "$work/$model.bin" \
    2>"$work/build.err" || { fail "mtlc build --model $model failed: $(cat "$work/build.err")"; continue; }
  "$work/$model.bin" predict --checkpoint "$work/$model/last.safetensors" --input "$work/mmoe.csv" \
    >"$work/$model.pred.csv" 2>"$work/pred.err" || { fail "predict failed: $(cat "$work/pred.err")"; continue; }
  "$python" "$here/../runtime/read_checkpoint.py" "$work/$model/last.safetensors" \
    >"$work/$model.json" || { fail "read_checkpoint.py cannot read the checkpoint"; continue; }
  "$python" - $model "$work/$model.json" "$work/mmoe.csv" "$work/$model.pred.csv" <<'PY' ||
import csv, json, sys
import torch
from torch import nn

kind, ck_path, data_path, pred_path = sys.argv[1:]
expert = lambda width=16: nn.Sequential(nn.Linear(100, width), nn.ReLU())  # expert(width)
expert_of = lambda inputs: nn.Sequential(nn.Linear(inputs, 16), nn.ReLU())  # expert(16) on `inputs`

class Learned(nn.Module):
    """learned(...): a gate of weights that do not depend on the row."""
    def __init__(self, k):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(k))

    def forward(self, x):
        return self.weight.expand(x.shape[0], -1)

class OneCall(nn.Module):
    """std/sharing.mtl's one-call blocks: each task t reads tower_t(sum_j gate_t(x)_j expert_j(x))
    over the experts it may use. MMoE (Ma et al. 2018), `moe = x -> mmoe(4, expert(16))`: all four
    shared ones; CGC (Tang et al. 2020), `level = x -> cgc(2, 1, expert(16))`: its own and two shared.
    The block's parts are a ModuleList: each_task(..) a ModuleDict by task, repeat(..) a
    ModuleList of experts."""
    def __init__(self, kind):
        super().__init__()
        self.name, k = ("moe", 4) if kind == "mmoe" else ("level", 3)
        tasks = ("y1", "y2")
        gates = nn.ModuleDict({t: nn.Sequential(nn.Linear(100, k), nn.Softmax(dim=1)) for t in tasks})
        own = [nn.ModuleDict({t: nn.ModuleList([expert()]) for t in tasks})] if kind == "cgc" else []
        shared = nn.ModuleList(expert() for _ in range(4 if kind == "mmoe" else 2))
        setattr(self, self.name, nn.ModuleList([gates, *own, shared]))
        for t in tasks:
            setattr(self, t, nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1)))

    def forward(self, x):
        block, out = getattr(self, self.name), []
        for t in ("y1", "y2"):
            experts = [e for part in block[1:] for e in (part[t] if isinstance(part, nn.ModuleDict) else part)]
            mixed = (block[0][t](x).unsqueeze(2) * torch.stack([e(x) for e in experts], dim=1)).sum(1)
            out.append(getattr(self, t)(mixed).reshape(-1))
        return out

class Ple(nn.Module):
    """PLE (Tang et al. 2020), `ext = x -> ple(levels = 2, shared_experts = 2, task_experts = 1,
    expert = expert(16))`: every level has an expert per task and two shared ones; each task's
    gate mixes its own and the shared ones into the task's stream, and before the last level a
    shared gate mixes every expert into the shared stream. A level's task experts and gates read
    the task's stream, its shared experts and shared gate the shared stream (the first level: x).
    The levels are a ModuleList, each task's experts and gates a ModuleDict by task."""
    def __init__(self):
        super().__init__()
        self.tasks = ("y1", "y2")
        levels = []
        for width, last in ((100, False), (16, True)):
            level = nn.Module()
            level.experts = nn.ModuleDict({t: nn.ModuleList([expert_of(width)]) for t in self.tasks})
            level.shared = nn.ModuleList(expert_of(width) for _ in range(2))
            level.gates = nn.ModuleDict({t: nn.Sequential(nn.Linear(width, 3), nn.Softmax(dim=1))
                                         for t in self.tasks})
            if not last:
                level.shared_gate = nn.Sequential(nn.Linear(width, 4), nn.Softmax(dim=1))
            levels.append(level)
        self.ext = nn.Sequential(nn.ModuleList(levels))
        for t in self.tasks:
            setattr(self, t, nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1)))

    def forward(self, x):
        mixed = lambda gate, h, experts: (gate(h).unsqueeze(2) * torch.stack(experts, dim=1)).sum(1)
        streams, shared = {t: x for t in self.tasks}, x
        for level in self.ext[0]:
            own = {t: [e(streams[t]) for e in level.experts[t]] for t in self.tasks}
            common = [e(shared) for e in level.shared]
            if hasattr(level, "shared_gate"):
                shared = mixed(level.shared_gate, shared, [e for t in self.tasks for e in own[t]] + common)
            streams = {t: mixed(level.gates[t], streams[t], own[t] + common) for t in self.tasks}
        return [getattr(self, t)(streams[t]).reshape(-1) for t in self.tasks]

class Gated(nn.Module):
    """Each task t reads tower_t(a mixture of the experts it may use): cross-stitch (Misra et
    al. 2016) both tasks' columns, with learned weights; attention, a query per task over four
    shared experts."""
    def __init__(self, kind):
        super().__init__()
        if kind == "cross_stitch":
            self.a1, self.b1 = expert(32), expert(32)
            self.groups = {"y1": ["a1", "b1"], "y2": ["a1", "b1"]}
            for task in self.groups:
                setattr(self, task, nn.Sequential(Learned(2), nn.Linear(32, 16), nn.ReLU(),
                                                  nn.Linear(16, 1)))
            return
        # attention: each task's query attends over the experts, 2 heads
        self.experts = nn.ModuleList(expert() for _ in range(4))
        self.groups = {"y1": ["experts"], "y2": ["experts"]}
        for task in self.groups:
            setattr(self, task, nn.Sequential(
                nn.Sequential(nn.Linear(100, 16)),
                nn.MultiheadAttention(16, 2, batch_first=True),
                nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1)))

    def forward(self, x):
        out = []
        for task, groups in self.groups.items():
            seq = getattr(self, task)
            members = [getattr(self, g) for g in groups]  # a column is one expert, a ModuleList many
            experts = torch.stack([e(x) for m in members
                                   for e in (m if isinstance(m, nn.ModuleList) else [m])], dim=1)
            if isinstance(seq[1], nn.MultiheadAttention):
                query = seq[0](x).unsqueeze(1)  # one query per row: [B, 1, 16]
                mixed = seq[1](query, experts, experts, need_weights=False)[0].squeeze(1)
                seq = seq[1:]
            else:
                mixed = (seq[0](x).unsqueeze(2) * experts).sum(1)
            out.append(seq[3](seq[2](seq[1](mixed))).reshape(-1))
        return out

model = OneCall(kind) if kind in ("mmoe", "cgc") else Ple() if kind == "ple" else Gated(kind)
ck = json.load(open(ck_path))["tensors"]
# The parameters: every tensor but Adam's state (NAME.exp_avg, NAME.exp_avg_sq).
params = {n: t for n, t in ck.items() if not n.endswith((".exp_avg", ".exp_avg_sq"))}
if set(params) != set(model.state_dict()):
    sys.exit(f"{kind}: checkpoint names {sorted(params)} are not torch's {sorted(model.state_dict())}")
model.load_state_dict({n: torch.tensor(t["values"], dtype=torch.float32).reshape(t["shape"])
                       for n, t in params.items()}, strict=True)

rows = list(csv.DictReader(open(data_path)))
x = torch.tensor([[float(r[f"x{i}"]) for i in range(100)] for r in rows])
with torch.no_grad():
    y1, y2 = model(x)
pred = list(csv.DictReader(open(pred_path)))
if len(pred) != len(rows):
    sys.exit(f"{len(pred)} predictions for {len(rows)} rows")
worst = max(max(abs(float(p["y1"]) - a), abs(float(p["y2"]) - b))
            for p, a, b in zip(pred, y1.tolist(), y2.tolist()))
print(f"{kind}: largest difference from torch over {len(rows)} rows: {worst:.3g}")
if worst > 1e-5:
    sys.exit(f"{kind}: predictions differ from torch's by up to {worst}")
PY
    fail "$model: mtlc and torch differ"
done
finish
