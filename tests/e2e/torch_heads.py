"""torch_heads.py: how the torch e2e tests compare a built program's
predictions of a regression task `a` and a classification task `b` with
torch's outputs for the same rows (imported by the scripts' Python)."""
import csv
import sys


def compare_heads(pred_path, a, b, classes, label, tolerance=1e-5):
    """Exits with a message when a prediction differs by more than `tolerance`."""
    pred = list(csv.DictReader(open(pred_path)))
    if len(pred) != len(a):
        sys.exit(f"{len(pred)} predictions for {len(a)} rows")
    worst = 0.0
    for i, p in enumerate(pred):
        ours = [float(p["a"])] + [float(p[f"b.prob.{c}"]) for c in range(classes)]
        theirs = [a[i].item()] + b[i].tolist()
        worst = max(worst, max(abs(x - y) for x, y in zip(ours, theirs)))
    print(f"{label}: largest difference from torch {worst:.3g}")
    if worst > tolerance:
        sys.exit(f"{label}: predictions differ from torch's by up to {worst}")
