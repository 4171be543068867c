"""The README's energy table: every bundled profile, dense vs sparse digits networks, both modes.

Converts RUN/dense.pt and RUN/sparse.pt (rate coding at T timesteps; graded coding at the network's
depth, :func:`neurosim.defaults.coding_timesteps`), simulates
them on the held-out digits with the reference engine, estimates every profile and prints a
Markdown table per mode: dynamic and static energy per inference (median [10-90 %]), latency,
inferences/s and the dense / sparse savings computed per Monte-Carlo draw. Each target runs the
coding it supports for both models (graded where it has graded spikes, else rate). The records
carry per-step spike counts, so the neuromorphic timesteps last as long as their busiest core at
each step (:mod:`neurosim.hardware.neuromorphic`).

    python experiments/energy_table.py --run RUN [--timesteps 32] [--batch-size 64] [--json OUT.json]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import neurosim
from neurosim import defaults
from neurosim.hardware import compare, load_profiles
from neurosim.reporting.units import format_si


def iv(i, unit: str) -> str:
    if i.p10 == i.p90:
        return format_si(i.median, unit)
    return f"{format_si(i.median, unit)} [{format_si(i.p10, unit)} – {format_si(i.p90, unit)}]"


def ratio(i) -> str:
    return f"{i.median:.3g}×" + ("" if abs(i.p90 - i.p10) < 0.005 * i.median else f" [{i.p10:.3g} – {i.p90:.3g}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="training run folder with dense.pt and sparse.pt")
    ap.add_argument("--timesteps", type=int, default=defaults.TIMESTEPS,
                    help="timesteps of the rate-coded networks (default: %(default)s)")
    ap.add_argument("--batch-size", type=int, default=64, help="GPU/CPU batch of the throughput mode (default: 64)")
    ap.add_argument("--json", default=None, help="also write the estimates (JSON list) here (default: none)")
    ap.add_argument("--summary", default=None,
                    help="write interval widths per profile here, for experiments/targets.py energy.digits "
                         "(default: none)")
    args = ap.parse_args()
    run = Path(args.run)
    records = {}
    for model in ("dense", "sparse"):
        for coding in ("rate", "graded"):
            net = neurosim.convert(run / f"{model}.pt", coding=coding)
            steps = defaults.coding_timesteps(coding, args.timesteps, len(net.network.layers))
            records[(model, coding)] = neurosim.simulate(net, dataset="digits", samples=None, timesteps=steps)
    t0 = time.perf_counter()
    rows, out = [], []
    for prof in load_profiles("all"):
        coding = "graded" if prof.kind != "neuromorphic" or prof.flag("graded_spikes") else "rate"
        est = {m: neurosim.estimate(records[(m, coding)], prof, batch_size=args.batch_size)[0]
               for m in ("dense", "sparse")}
        steps = records[("sparse", coding)].timesteps
        runs = (f"SNN, {coding}, T={steps}"
                if prof.kind == "neuromorphic" else "ANN")
        for mode in ("latency", "throughput"):
            d, s = est["dense"].modes[mode], est["sparse"].modes[mode]
            sv = compare(est["dense"], est["sparse"], mode)
            rows.append((mode, prof.name, runs, d, s, sv, est["sparse"]))
        out += [e.to_dict() for e in est.values()]
    elapsed = time.perf_counter() - t0
    for mode, title in (("latency", "Latency mode: one inference alone (batch 1)"),
                        ("throughput", f"Throughput mode: hardware kept busy (GPU/CPU batch {args.batch_size})")):
        print(f"\n{title}\n")
        print("| target | runs | dense: dynamic + static energy | sparse: dynamic + static energy | sparse latency | "
              "sparse inferences/s | dense ÷ sparse energy | largest uncertainty |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for m, name, runs, d, s, sv, se in rows:
            if m != mode:
                continue
            print(f"| `{name}` | {runs} | {iv(d.energy_dynamic_j, 'J')} + {iv(d.energy_static_j, 'J')} | "
                  f"{iv(s.energy_dynamic_j, 'J')} + {iv(s.energy_static_j, 'J')} | {iv(s.latency_s, 's')} | "
                  f"{format_si(s.inferences_per_s.median, '/s')} | {ratio(sv['energy_total'])} | "
                  f"{s.dominant_uncertainty.get('figure') or '–'} |")
    print(f"\n{len(out)} estimates in {elapsed:.2f} s ({1000 * elapsed / max(len(out), 1):.0f} ms each, "
          f"4,000 draws); records: {records[('sparse', 'graded')].num_samples} test digits")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=str))
    if args.summary:
        widths = {name: {"sparse_latency_total_width": se.modes["latency"].energy_total_j.width,
                         "sparse_throughput_total_width": se.modes["throughput"].energy_total_j.width}
                  for m, name, runs, d, s, sv, se in rows if m == "latency"}
        Path(args.summary).write_text(json.dumps(widths, indent=2))


if __name__ == "__main__":
    main()
