#!/usr/bin/python3
# pytorch_reference.py: the benchmark models of bench/models in PyTorch, timed the way
# mtl_step_bench times mtlc's generated step.
#
# One training step is zero_grad, forward, the task losses summed with weight 1,
# backward and torch.optim.Adam(lr=1e-3).step(), on 8 distinct random batches in turn.
# After a warm-up, the step is timed in samples of several calls (a sample lasts at
# least ~1 ms; parameters and Adam state are reset, untimed, before each) and the
# median per step is reported with min and max, on torch.set_num_threads(2) by default.
#
# With --balance pcgrad|mgda|gradnorm, a step is what a Python MTL library (LibMTL's
# "backward" mode) does: one forward, then one autograd backward per task (retaining the
# graph), each task's gradient of the shared trunk copied out and the grads zeroed in
# between, the method's combination of those gradients written back as the trunk's grad,
# and the optimizer step; the heads keep the gradients their own losses gave them.
#
# Run with Debian's Python and PyTorch (the python3 of a pyenv or venv may lack torch), and
# OpenBLAS: without it Debian's torch multiplies matrices with the reference BLAS, 10x slower:
#   apt-get install -y python3-torch libopenblas0-openmp
#   /usr/bin/python3 bench/pytorch_reference.py [--model M1] [--batch 32] [--threads 1,2] [--json F]
import argparse
import json
import math
import os
import statistics
import sys
import time

# OpenMP threads that spin while they wait (libgomp's default) collapse when the
# machine has other work: 2 threads took 100x longer per step on a loaded 2-core
# host. Sleeping waiters are PyTorch's best setting there; set OMP_WAIT_POLICY to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit(
        "pytorch_reference.py needs PyTorch, which is optional for mtlc users.\n"
        "On Debian: apt-get install -y python3-torch libopenblas0-openmp, then run it with\n"
        "/usr/bin/python3;\n"
        "elsewhere: pip install torch (see https://pytorch.org/get-started/locally/)."
    )

BATCHES = {
    "M1": [1, 32, 256, 4096],
    "M2": [1, 100, 4096],
    "M3": [1, 64, 256, 1024],
    "M4": [1, 1024],
    "M5": [1, 16, 64, 256],
    "M6": [1, 16, 256, 1024],
    "M7": [16, 64, 256],
}


class MultiTask(nn.Module):
    """A shared trunk and one head per task, as an .mtl model with hard sharing."""

    def __init__(self, trunk, heads):
        super().__init__()
        self.trunk = trunk
        self.heads = nn.ModuleList(heads)

    def forward(self, x):
        shared = self.trunk(x)
        return [head(shared) for head in self.heads]


def build(name):
    """The model and, per task, its loss and a function making random targets."""
    mse, ce, bce = nn.MSELoss(), nn.CrossEntropyLoss(), nn.BCEWithLogitsLoss()

    def regress(rows):
        return torch.randn(rows, 1)

    def classes(k):
        return lambda rows: torch.randint(0, k, (rows,))

    def binary(rows):
        return torch.randint(0, 2, (rows, 1)).float()

    if name == "M1":
        trunk = nn.Sequential(nn.Linear(10, 50), nn.ReLU(), nn.Linear(50, 100), nn.ReLU())
        heads = [nn.Sequential(nn.Linear(100, 1)) for _ in range(3)]
        return 10, MultiTask(trunk, heads), [(mse, regress)] * 3
    if name == "M2":
        trunk = nn.Sequential(nn.Linear(10, 10), nn.ReLU())
        heads = [nn.Sequential(nn.Linear(10, 5)), nn.Sequential(nn.Linear(10, 3))]
        return 10, MultiTask(trunk, heads), [(ce, classes(5)), (ce, classes(3))]
    if name == "M3":
        trunk = nn.Sequential(nn.Linear(784, 128), nn.ReLU())
        heads = [nn.Sequential(nn.Linear(128, 10)), nn.Sequential(nn.Linear(128, 1))]
        return 784, MultiTask(trunk, heads), [(ce, classes(10)), (bce, binary)]
    if name == "M4":
        trunk = nn.Sequential(nn.Linear(100, 512), nn.ReLU(), nn.Linear(512, 64), nn.ReLU())
        heads = [
            nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1)) for _ in range(2)
        ]
        return 100, MultiTask(trunk, heads), [(bce, binary), (bce, binary)]
    if name == "M5":
        trunk = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU())
        heads = [nn.Sequential(nn.Linear(128, 10)), nn.Sequential(nn.Linear(128, 1))]
        return (1, 28, 28), MultiTask(trunk, heads), [(ce, classes(10)), (bce, binary)]
    if name == "M7":
        trunk = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU())
        heads = [nn.Sequential(nn.Linear(128, 10)), nn.Sequential(nn.Linear(128, 1))]
        return (1, 28, 28), MultiTask(trunk, heads), [(ce, classes(10)), (bce, binary)]
    if name == "M6":
        return 100, MMoE(100, experts=4, width=64, tasks=2), [(bce, binary), (bce, binary)]
    raise ValueError(name)


class MMoE(nn.Module):
    """Experts and one softmax gate per task (the shared part, `trunk`), a tower per task."""

    def __init__(self, features, experts, width, tasks):
        super().__init__()
        self.trunk = nn.ModuleDict({
            "experts": nn.ModuleList(
                nn.Sequential(nn.Linear(features, width), nn.ReLU()) for _ in range(experts)),
            "gates": nn.ModuleList(
                nn.Sequential(nn.Linear(features, experts), nn.Softmax(dim=1))
                for _ in range(tasks)),
        })
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(width, 32), nn.ReLU(), nn.Linear(32, 1)) for _ in range(tasks))

    def forward(self, x):
        experts = torch.stack([e(x) for e in self.trunk["experts"]], dim=1)  # [B, k, width]
        return [head((gate(x).unsqueeze(2) * experts).sum(1))
                for gate, head in zip(self.trunk["gates"], self.heads)]


DISTINCT_BATCHES = 8


def min_norm(grads):
    """MGDA's min-norm point of the rows of `grads` (T x n): exact for two tasks, else
    Frank-Wolfe with exact line search (Sener & Koltun 2018, Algorithm 2)."""
    gram = grads @ grads.T
    t = gram.shape[0]
    if t == 2:
        d = gram[0, 0] + gram[1, 1] - 2 * gram[0, 1]
        a = 0.5 if d <= 0 else float(((gram[1, 1] - gram[0, 1]) / d).clamp(0, 1))
        return torch.tensor([a, 1 - a])
    alpha = torch.full((t,), 1.0 / t, dtype=gram.dtype)
    for _ in range(250):
        g_alpha = gram @ alpha
        k = int(torch.argmin(g_alpha))
        a_a, a_k, k_k = alpha @ g_alpha, g_alpha[k], gram[k, k]
        denom = a_a - 2 * a_k + k_k
        step = 1.0 if denom <= 0 else float(((a_a - a_k) / denom).clamp(0, 1))
        alpha = (1 - step) * alpha
        alpha[k] += step
        if step < 1e-6:
            break
    return alpha


def pcgrad(grads, generator):
    """PCGrad (Yu et al. 2020): each task's gradient projected off the tasks it conflicts
    with, in a random order; the sum."""
    out = grads.clone()
    t = grads.shape[0]
    for i in range(t):
        for j in torch.randperm(t, generator=generator).tolist():
            if j == i:
                continue
            dot = out[i] @ grads[j]
            if dot < 0:
                out[i] -= dot / (grads[j] @ grads[j]) * grads[j]
    return out.sum(0)


class GradNormWeights:
    """GradNorm (Chen et al. 2018) weights, updated from the task gradients' norms."""

    def __init__(self, tasks, alpha=1.5, lr=0.025):
        self.w = torch.ones(tasks)
        self.alpha, self.lr, self.initial = alpha, lr, None

    def update(self, norms, losses):
        if self.initial is None:
            self.initial = losses.clone()
        g = self.w * norms
        ratio = losses / self.initial
        target = g.mean() * (ratio / ratio.mean()) ** self.alpha
        self.w = (self.w - self.lr * torch.sign(g - target) * norms).clamp(min=1e-4)
        self.w *= len(self.w) / self.w.sum()


def measure(name, rows, seconds, balance="static"):
    torch.manual_seed(1234)
    features, model, tasks = build(name)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = [loss for loss, _ in tasks]
    # 8 distinct batches used in turn, as mtl_step_bench does.
    shape = features if isinstance(features, tuple) else (features,)
    batches = [(torch.randn(rows, *shape), [make(rows) for _, make in tasks])
               for _ in range(DISTINCT_BATCHES)]
    initial = [p.detach().clone() for p in model.parameters()]
    calls_made = [0]

    shared = list(model.trunk.parameters())
    generator = torch.Generator().manual_seed(7)
    gradnorm = GradNormWeights(len(tasks))

    def step():
        x, targets = batches[calls_made[0] % DISTINCT_BATCHES]
        calls_made[0] += 1
        optimizer.zero_grad()
        outputs = model(x)
        task_losses = [loss(out, y) for loss, out, y in zip(losses, outputs, targets)]
        total = sum(task_losses)
        if balance == "static":
            total.backward()
            optimizer.step()
            return total
        weights = gradnorm.w if balance == "gradnorm" else torch.ones(len(tasks))
        per_task = []
        for t, task_loss in enumerate(task_losses):
            (weights[t] * task_loss).backward(retain_graph=t + 1 < len(task_losses))
            per_task.append(torch.cat([p.grad.reshape(-1) for p in shared]))
            for p in shared:
                p.grad = None
        grads = torch.stack(per_task)
        if balance == "pcgrad":
            combined = pcgrad(grads, generator)
        elif balance == "mgda":
            combined = len(tasks) * (min_norm(grads) @ grads)
        else:  # gradnorm: the weighted sum, and the weights' own update
            combined = grads.sum(0)
            gradnorm.update(grads.norm(dim=1) / weights,
                            torch.tensor([float(l) for l in task_losses]))
        offset = 0
        for p in shared:
            p.grad = combined[offset:offset + p.numel()].view_as(p).clone()
            offset += p.numel()
        optimizer.step()
        return total

    def reset():
        """Initial parameters and zero Adam state, in place (no allocation), before each
        sample: a long run on the same rows drives values into the slow denormal range."""
        with torch.no_grad():
            for p, p0 in zip(model.parameters(), initial):
                p.copy_(p0)
            for state in optimizer.state.values():
                for value in state.values():
                    if torch.is_tensor(value):
                        value.zero_()
        # The batches go on in turn across samples (calls_made is not reset): a
        # sample of one step does not read the first batch each time.

    # Warm-up: at least 5 steps and ~10% of the budget; it also sizes the samples.
    start = time.perf_counter()
    warm = 0
    while warm < 5 or time.perf_counter() - start < 0.1 * seconds:
        step()
        warm += 1
    per_call = (time.perf_counter() - start) / warm
    calls = max(1, math.ceil(1e-3 / per_call))
    samples = min(500, max(15, int(seconds / (per_call * calls))))

    times, cpu_times = [], []
    for _ in range(samples):
        reset()
        cpu0 = time.process_time()  # CPU time of all threads: steadier on a shared machine
        t0 = time.perf_counter()
        for _ in range(calls):
            total = step()
        times.append((time.perf_counter() - t0) * 1e6 / calls)
        cpu_times.append((time.process_time() - cpu0) * 1e6 / calls)
    if not math.isfinite(total.item()):
        print(f"warning: {name} batch {rows}: the loss became {total.item()}", file=sys.stderr)
    return {
        "model": name,
        "batch": rows,
        "us_per_step_median": statistics.median(times),
        "us_per_step_min": min(times),
        "us_per_step_max": max(times),
        "cpu_us_per_step_median": statistics.median(cpu_times),
        "samples_per_s": rows * 1e6 / statistics.median(times),
        "samples": samples,
        "calls_per_sample": calls,
    }


def loaded_blas():
    """The BLAS library torch's matrix products went to (Debian's libblas.so.3 alternative:
    the slow reference BLAS unless OpenBLAS is installed), read from /proc/self/maps."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(os.path.realpath(p) for p in paths)) or "none found"


def main():
    parser = argparse.ArgumentParser(
        description="Time one training step of the mtlc benchmark models in PyTorch.")
    parser.add_argument("--model", help="only this model (M1 to M7)")
    parser.add_argument("--batch", help="only these batch sizes, comma-separated")
    parser.add_argument("--threads", default="2", help="thread counts, e.g. 1 or 1,2 (default 2)")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    parser.add_argument("--seconds", type=float, default=1.5, help="timed seconds per configuration")
    parser.add_argument("--balance", default="static", choices=["static", "pcgrad", "mgda", "gradnorm"],
                        help="balance the tasks as a Python MTL library does (see the top)")
    parser.add_argument("--flush-denormal", action="store_true",
                        help="torch.set_flush_denormal(True), as mtl_step_bench flushes by "
                             "default (its --no-ftz keeps denormals)")
    args = parser.parse_args()
    if args.flush_denormal:
        torch.set_flush_denormal(True)

    names = [n for n in BATCHES if args.model is None or n == args.model.upper()]
    if not names:
        sys.exit(f"unknown model '{args.model}' (expected M1 to M7)")
    only = {int(b) for b in args.batch.split(",")} if args.batch else None
    print(f"torch {torch.__version__}; BLAS: {loaded_blas()}")
    header = f"{'model':<5} {'batch':>7} {'threads':>7} {'us/step':>12} {'samples/s':>14} " \
             f"{'min us':>11} {'max us':>11} {'spread':>8} {'cpu us/step':>12}"
    results = []
    for name in names:
        for threads in [int(t) for t in args.threads.split(",")]:
            torch.set_num_threads(threads)
            print(header)
            for rows in BATCHES[name]:
                if only is not None and rows not in only:
                    continue
                r = measure(name, rows, args.seconds, args.balance)
                r["threads"] = threads
                results.append(r)
                med = r["us_per_step_median"]
                spread = 100.0 * (r["us_per_step_max"] - r["us_per_step_min"]) / med
                print(f"{name:<5} {rows:>7} {threads:>7} {med:>12.2f} {r['samples_per_s']:>14.0f} "
                      f"{r['us_per_step_min']:>11.2f} {r['us_per_step_max']:>11.2f} {spread:>7.1f}% "
                      f"{r['cpu_us_per_step_median']:>12.2f}",
                      flush=True)
    if args.json:
        with open(args.json, "w") as f:
            settings = {"balance": args.balance, "flush_denormal": args.flush_denormal,
                        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}
            json.dump({"tool": "pytorch", "torch": torch.__version__, "blas": loaded_blas(),
                       "balance": args.balance, "settings": settings,
                       "results": results}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
