#!/usr/bin/env python3
# gru_reference.py: recomputes, from a checkpoint's weights alone, what a
# program built by mtlc predicted and scored for the model of gru_torch.sh
# (x : f32[STEPS, FEATURES] -> trunk = gru(H); task y: regress, task c:
# binary, each head one dense layer), and fails where they differ:
#   gru_reference.py torch|python CHECKPOINT_JSON DATA_CSV PREDICTIONS_CSV EVAL_JSON
# `torch` loads the checkpoint into torch.nn.GRU and nn.Linear modules by
# its names with load_state_dict(strict=True), so the names and layouts are
# PyTorch's; `python` computes the same with the formulas of nn.GRU's
# documentation in plain Python, where torch is not installed. Both in
# double precision. CHECKPOINT_JSON is read_checkpoint.py's output.
import csv
import json
import math
import sys

OPTIMIZER_STATE = (".exp_avg", ".exp_avg_sq")


def fail(message):
    sys.stderr.write("gru_reference.py: %s\n" % message)
    sys.exit(1)


def sigmoid(v):
    return 1 / (1 + math.exp(-v))


def torch_heads(params, xs, steps, features, hidden):
    import torch
    from torch import nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = nn.Sequential(nn.GRU(features, hidden, batch_first=True))
            self.y = nn.Sequential(nn.Linear(hidden, 1))
            self.c = nn.Sequential(nn.Linear(hidden, 1))

    model = Model().double()
    if set(params) != set(model.state_dict()):
        fail("checkpoint parameters %s, PyTorch's %s" % (sorted(params), sorted(model.state_dict())))
    model.load_state_dict(
        {n: torch.tensor(t["values"], dtype=torch.float64).reshape(t["shape"]) for n, t in params.items()},
        strict=True,
    )
    with torch.no_grad():
        x = torch.tensor(xs, dtype=torch.float64).reshape(len(xs), steps, features)
        _, h_n = model.trunk[0](x)
        return model.y(h_n[0])[:, 0].tolist(), model.c(h_n[0])[:, 0].tolist()


def python_heads(params, xs, steps, features, hidden):
    def values(name):
        return params["trunk.0." + name]["values"]

    w_ih, w_hh, b_ih, b_hh = values("weight_ih_l0"), values("weight_hh_l0"), values("bias_ih_l0"), values("bias_hh_l0")

    def dense(task, h):
        w, b = params[task + ".0.weight"]["values"], params[task + ".0.bias"]["values"]
        return b[0] + sum(w[k] * h[k] for k in range(hidden))

    ys, cs = [], []
    for x in xs:
        h = [0.0] * hidden
        for t in range(steps):
            xt = x[t * features : (t + 1) * features]
            gx = [b_ih[o] + sum(w_ih[o * features + i] * xt[i] for i in range(features)) for o in range(3 * hidden)]
            gh = [b_hh[o] + sum(w_hh[o * hidden + i] * h[i] for i in range(hidden)) for o in range(3 * hidden)]
            r = [sigmoid(gx[k] + gh[k]) for k in range(hidden)]
            z = [sigmoid(gx[hidden + k] + gh[hidden + k]) for k in range(hidden)]
            n = [math.tanh(gx[2 * hidden + k] + r[k] * gh[2 * hidden + k]) for k in range(hidden)]
            h = [(1 - z[k]) * n[k] + z[k] * h[k] for k in range(hidden)]
        ys.append(dense("y", h))
        cs.append(dense("c", h))
    return ys, cs


def close(a, b, what):
    if abs(a - b) > 1e-5 + 1e-4 * abs(b):
        fail("%s: mtlc %r, reference %r" % (what, a, b))


def main(how, checkpoint, data, predictions, evaluation):
    tensors = json.load(open(checkpoint))["tensors"]
    params = {n: t for n, t in tensors.items() if not n.startswith("__") and not n.endswith(OPTIMIZER_STATE)}
    hidden, features = params["trunk.0.weight_ih_l0"]["shape"]
    hidden //= 3
    rows = list(csv.DictReader(open(data)))
    steps = sum(1 for name in rows[0] if name.startswith("x")) // features
    xs = [[float(r["x%d" % j]) for j in range(steps * features)] for r in rows]
    heads = torch_heads if how == "torch" else python_heads
    ys, logits = heads(params, xs, steps, features, hidden)

    predicted = list(csv.DictReader(open(predictions)))
    if [int(p["row"]) for p in predicted] != list(range(2, len(rows) + 2)):
        fail("predictions do not cover the data's rows in order")
    for i, p in enumerate(predicted):
        close(float(p["y"]), ys[i], "row %s, y" % p["row"])
        close(float(p["c.prob"]), sigmoid(logits[i]), "row %s, c.prob" % p["row"])

    # The losses over every row: mse, and bce on the logits as
    # torch.nn.BCEWithLogitsLoss computes it.
    tasks = json.load(open(evaluation))["splits"]["train"]["tasks"]
    labels_y, labels_c = [float(r["y"]) for r in rows], [float(r["c"]) for r in rows]
    mse = sum((y - t) ** 2 for y, t in zip(ys, labels_y)) / len(rows)
    bce = sum(max(z, 0) - z * t + math.log1p(math.exp(-abs(z))) for z, t in zip(logits, labels_c)) / len(rows)
    close(tasks["y"]["loss"], mse, "loss of y")
    close(tasks["c"]["loss"], bce, "loss of c")
    print("%d rows: predictions and losses agree with the %s reference" % (len(rows), how))


if __name__ == "__main__":
    if len(sys.argv) != 6 or sys.argv[1] not in ("torch", "python"):
        fail("usage: gru_reference.py torch|python CHECKPOINT_JSON DATA_CSV PREDICTIONS_CSV EVAL_JSON")
    main(*sys.argv[1:])
