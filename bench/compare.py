#!/usr/bin/env python3
# compare.py: joins the --json outputs of mtl_step_bench and pytorch_reference.py into the
# Markdown table of bench/README.md: µs per step of mtlc and PyTorch and the speed-up.
#
#   python3 bench/compare.py --mtlc run1.json [run2.json ...] --pytorch run1.json [...]
#
# With several runs per tool (on a shared, noisy machine), each row shows the lowest of
# the runs' medians: wall-clock µs per step, and process CPU µs per step (all threads),
# which does not count time spent waiting for a core that another program held.
#
# "vs best" divides PyTorch's faster thread count's time by mtlc's: PyTorch with two
# threads is slower than with one on many small rows here, so the two-thread speed-up
# alone would compare mtlc with PyTorch at its worse setting.
#
# mtlc's rows also give the rate of the step's matrix products (GFLOP/s at the
# median time); with --peak (mtl_peak_flops --json), that rate as a share of the
# machine's f32 multiply-add peak at the row's thread count (its widest vectors).
#
# Runs of one tool must share their settings (each file's "settings": target CPU,
# -O, balance, flushing and so on); files that differ are refused, not mixed.
import argparse
import json
import sys


def load(paths):
    rows = {}
    settings = {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        these = data.get("settings", {})
        if settings and these != settings[next(iter(settings))]:
            first = next(iter(settings))
            sys.exit(f"compare.py: {path} was measured with other settings than {first}: "
                     f"{these} against {settings[first]}")
        settings[path] = these
        for r in data["results"]:
                key = (r["model"], r["batch"], r["threads"])
                best = rows.setdefault(key, {"median": float("inf"), "cpu": float("inf")})
                best["flops"] = r.get("product_flops_per_step", 0)
                best["median"] = min(best["median"], r["us_per_step_median"])
                best["cpu"] = min(best["cpu"], r.get("cpu_us_per_step_median", float("inf")))
    return rows


def load_peak(path):
    """GFLOP/s per thread count, of the widest vectors measured (the first ISA listed)."""
    with open(path) as f:
        results = json.load(f)["results"]
    widest = results[0]["isa"]
    return {r["threads"]: r["gflops"] for r in results if r["isa"] == widest}


def fmt(us):
    return f"{us:,.1f}" if us < 100 else f"{us:,.0f}"


def main():
    parser = argparse.ArgumentParser(description="mtlc vs PyTorch table from --json outputs")
    parser.add_argument("--mtlc", nargs="+", required=True)
    parser.add_argument("--pytorch", nargs="+", required=True)
    parser.add_argument("--peak", help="mtl_peak_flops --json output")
    args = parser.parse_args()
    mtlc, torch = load(args.mtlc), load(args.pytorch)
    peak = load_peak(args.peak) if args.peak else {}
    head = ("| model | batch | threads | mtlc µs/step | PyTorch µs/step | speed-up | vs best "
            "| mtlc CPU µs/step | PyTorch CPU µs/step | CPU speed-up | mtlc GFLOP/s |")
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    if peak:
        head += " % of peak |"
        rule += "---:|"
    print(head)
    print(rule)
    for key in sorted(mtlc, key=lambda k: (k[0], k[2], k[1])):
        m, t = mtlc[key], torch.get(key)
        cells = [key[0], str(key[1]), str(key[2]), fmt(m["median"])]
        if t:
            best = min(r["median"] for k, r in torch.items() if k[:2] == key[:2])
            cells += [fmt(t["median"]), f"{t['median'] / m['median']:.1f}×",
                      f"{best / m['median']:.1f}×"]
        else:
            cells += ["–", "–", "–"]
        cells.append(fmt(m["cpu"]))
        if t:
            cells += [fmt(t["cpu"]), f"{t['cpu'] / m['cpu']:.1f}×"]
        else:
            cells += ["–", "–"]
        gflops = m["flops"] / m["median"] / 1e3
        cells.append(f"{gflops:,.1f}")
        if peak:
            cells.append(f"{100 * gflops / peak[key[2]]:.0f}%" if key[2] in peak else "–")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
