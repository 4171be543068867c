"""Fidelity and cost of the converted spiking networks vs the number of timesteps T.

For the dense and the sparse autoencoder of a training run, both codings (``rate``, ``graded``)
and T = 8, 16, 32, 64, 128, 256, on the digits test split: reconstruction MSE (vs the inputs,
vs the ANN's own reconstruction, and its ratio to the ANN's MSE), synaptic operations per
inference (all layers, input spikes included), the hidden layer's active fraction and the
correlation of its spike rates with the ANN's activations; beside the ANN's MACs (dense: every
weight; effective: nonzero weights fed by nonzero activations). Checks issue 3's bars and writes
``results/fidelity/fidelity.md`` and ``fidelity.json``.

The checkpoints come from ``--run DIR`` (``DIR/dense.pt`` and ``DIR/sparse.pt`` as written by
``neurosim train``); without one, ``results/run``, where the default digits models are trained
first when it does not hold them (and said so).

Usage::

    .venv/bin/python experiments/fidelity_sweep.py [--run results/run] [--timesteps 8,16,32,64,128,256]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "experiments"))

from neurosim.provenance import git_commit  # noqa: E402

BARS = {
    "rate_mse_ratio_T32": 1.10, "rate_mse_ratio_T128": 1.02, "rate_correlation": 0.95,
    "active_fraction_tolerance": 0.20, "graded_mse_ratio": 1.02, "graded_ops_vs_effective_macs": 2.0,
    "graded_ops_vs_dense_macs": 10.0, "rate_T32_sparse_vs_dense_ops": 10.0,
}


def find_run(run: str | None) -> tuple[Path, str]:
    if run:
        d = Path(run)
        for name in ("dense.pt", "sparse.pt"):
            if not (d / name).is_file():
                sys.exit(f"fidelity_sweep: {d / name} does not exist")
        return d, "given"
    default = ROOT / "results" / "run"
    if (default / "dense.pt").is_file() and (default / "sparse.pt").is_file():
        return default, "neurosim train (results/run)"
    from neurosim.training.config import TrainConfig
    from neurosim.training.loop import train
    from neurosim.training.run import save_run

    print("no training run found: training the default digits models into results/run (about a minute)")
    save_run(train(TrainConfig(), progress=False), default)
    return default, "neurosim train (results/run)"


def sweep(run: Path, timesteps: list[int], percentile: float, payload_bits: int) -> dict:
    import numpy as np

    from converters.ann_to_snn import ann_forward_from_network, ann_macs, convert_file
    from neurosim.backends import simulate
    from neurosim.data import load_dataset

    data = load_dataset("digits", "test")
    x = data.x.astype(np.float64)
    rows, ann = [], {}
    for model in ("dense", "sparse"):
        for coding in ("rate", "graded"):
            net, _ = convert_file(run / f"{model}.pt", coding, percentile=percentile, payload_bits=payload_bits)
            hidden, y = ann_forward_from_network(net, x)
            ann_mse = float(np.mean((y - x) ** 2))
            macs = ann_macs(net, x)
            ann[model] = {"mse": ann_mse, "active_fraction": float((hidden[0] > 0).mean()), **{
                f"macs_{k}": v for k, v in macs.items()}}
            for T in timesteps:
                start = time.perf_counter()
                rec = simulate(net, x, T, ann_outputs=y)
                wall = time.perf_counter() - start
                counts = rec.layers[1].spike_counts
                entry = {"model": model, "coding": coding, "T": T, "mse": rec.mse_vs_input,
                         "mse_ratio": rec.mse_vs_input / ann_mse, "mse_vs_ann": rec.mse_vs_ann,
                         "synaptic_ops": rec.synaptic_ops / rec.num_samples,
                         "ops_by_layer": [l.synaptic_ops / rec.num_samples for l in rec.layers],
                         "spikes": rec.total_spikes / rec.num_samples,
                         "active_fraction": float((counts > 0).mean()), "wall_s": wall}
                if coding == "rate":
                    rates = counts / rec.layers[1].window
                    entry["correlation"] = float(np.corrcoef(rates.ravel(), hidden[0].ravel())[0, 1])
                    entry["unit_mean_correlation"] = float(np.corrcoef(rates.mean(0), hidden[0].mean(0))[0, 1])
                rows.append(entry)
                print(f"  {model:6s} {coding:6s} T={T:3d}: MSE {entry['mse']:.5f} (x{entry['mse_ratio']:.3f} ANN) "
                      f"ops {entry['synaptic_ops']:9.0f} active {entry['active_fraction']:.3f} ({wall:.2f} s)")
    return {"rows": rows, "ann": ann, "samples": int(len(x)), "dataset_note": data.note}


def check_bars(result: dict, timesteps: list[int]) -> list[dict]:
    rows, ann = result["rows"], result["ann"]

    def row(model, coding, T):
        return next((r for r in rows if r["model"] == model and r["coding"] == coding and r["T"] == T), None)

    checks = []

    def add(name, value, bar, ok, note=""):
        checks.append({"bar": name, "value": value, "target": bar, "met": bool(ok), "note": note})

    for T, key in ((32, "rate_mse_ratio_T32"), (128, "rate_mse_ratio_T128")):
        r = row("sparse", "rate", T)
        if r:
            add(f"sparse rate MSE / ANN MSE at T={T}", r["mse_ratio"], f"<= {BARS[key]}", r["mse_ratio"] <= BARS[key])
    for T in (32, 128):
        r = row("sparse", "rate", T)
        if r:
            add(f"sparse rate hidden rate-activation correlation at T={T} (sample x unit)", r["correlation"],
                f">= {BARS['rate_correlation']}", r["correlation"] >= BARS["rate_correlation"],
                f"per-unit means: r = {r['unit_mean_correlation']:.4f}")
            a_ann = ann["sparse"]["active_fraction"]
            add(f"sparse rate hidden active fraction at T={T} vs ANN {a_ann:.4f}", r["active_fraction"],
                "within +-20%", abs(r["active_fraction"] - a_ann) <= BARS["active_fraction_tolerance"] * a_ann)
    g = row("sparse", "graded", timesteps[0])
    if g:
        add("sparse graded MSE / ANN MSE", g["mse_ratio"], f"<= {BARS['graded_mse_ratio']}",
            g["mse_ratio"] <= BARS["graded_mse_ratio"])
        eff, dense = ann["sparse"]["macs_effective"], ann["dense"]["macs_dense"]
        add("sparse graded synaptic ops / sparse ANN effective MACs", g["synaptic_ops"] / eff,
            f"<= {BARS['graded_ops_vs_effective_macs']}",
            g["synaptic_ops"] <= BARS["graded_ops_vs_effective_macs"] * eff)
        add("dense ANN MACs / sparse graded synaptic ops", dense / g["synaptic_ops"],
            f">= {BARS['graded_ops_vs_dense_macs']}", dense >= BARS["graded_ops_vs_dense_macs"] * g["synaptic_ops"])
    gd = row("dense", "graded", timesteps[0])
    if gd:
        add("dense graded MSE / ANN MSE", gd["mse_ratio"], f"<= {BARS['graded_mse_ratio']}",
            gd["mse_ratio"] <= BARS["graded_mse_ratio"], "not a bar of the issue; for reference")
    rs, rd = row("sparse", "rate", 32), row("dense", "rate", 32)
    if rs and rd:
        add("dense / sparse synaptic ops, rate coding at T=32", rd["synaptic_ops"] / rs["synaptic_ops"],
            f">= {BARS['rate_T32_sparse_vs_dense_ops']}",
            rd["synaptic_ops"] >= BARS["rate_T32_sparse_vs_dense_ops"] * rs["synaptic_ops"])
    return checks


def markdown(result: dict, checks: list[dict], source: str) -> str:
    ann = result["ann"]
    lines = [f"# Fidelity and synaptic operations vs T (digits test split, {result['samples']} images)", "",
             f"Checkpoints: `{result['run']}` ({source}). Percentile {result['percentile']}, "
             f"graded payloads {result['payload_bits']} bits. Commit {result.get('commit')}.", "",
             "ANN references (per inference):", "",
             "| model | ANN MSE | hidden active fraction | dense MACs | nonzero weights | effective MACs |",
             "|---|---|---|---|---|---|"]
    for model, a in ann.items():
        lines.append(f"| {model} | {a['mse']:.5f} | {a['active_fraction']:.4f} | {a['macs_dense']:.0f} | "
                     f"{a['macs_weights']:.0f} | {a['macs_effective']:.0f} |")
    lines += ["", "Spiking networks (synaptic ops per inference, all layers incl. input spikes; ratio = SNN MSE / "
              "ANN MSE; r = correlation of hidden spike rates with ANN activations over samples x units):", "",
              "| model | coding | T | MSE | ratio | MSE vs ANN | synaptic ops | ops / dense ANN MACs "
              "| hidden active | r |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    dense_macs = ann["dense"]["macs_dense"]
    for r in result["rows"]:
        corr = f"{r['correlation']:.4f}" if "correlation" in r else "-"
        lines.append(f"| {r['model']} | {r['coding']} | {r['T']} | {r['mse']:.5f} | {r['mse_ratio']:.3f} | "
                     f"{r['mse_vs_ann']:.2e} | {r['synaptic_ops']:.0f} | {r['synaptic_ops'] / dense_macs:.3f} | "
                     f"{r['active_fraction']:.4f} | {corr} |")
    lines += ["", "Bars (issue 3):", "", "| bar | value | target | met |", "|---|---|---|---|"]
    for c in checks:
        note = f" ({c['note']})" if c["note"] else ""
        lines.append(f"| {c['bar']}{note} | {c['value']:.4f} | {c['target']} | {'yes' if c['met'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", help="training run folder with dense.pt and sparse.pt")
    ap.add_argument("--timesteps", default="8,16,32,64,128,256")
    ap.add_argument("--percentile", type=float, default=99.9)
    ap.add_argument("--payload-bits", type=int, default=8)
    ap.add_argument("--out", default=str(ROOT / "results" / "fidelity"))
    args = ap.parse_args(argv)
    timesteps = [int(t) for t in args.timesteps.split(",")]
    run, source = find_run(args.run)
    print(f"fidelity sweep on {run} ({source})")
    result = sweep(run, timesteps, args.percentile, args.payload_bits)
    result.update(run=str(run), source=source, percentile=args.percentile, payload_bits=args.payload_bits,
                  timesteps=timesteps, commit=git_commit())
    checks = check_bars(result, timesteps)
    result["bars"] = checks
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "fidelity.json").write_text(json.dumps(result, indent=2))
    md = markdown(result, checks, source)
    (out / "fidelity.md").write_text(md)
    print()
    for c in checks:
        print(f"  {'met ' if c['met'] else 'MISS'} {c['bar']}: {c['value']:.4f} (target {c['target']})")
    print(f"wrote {out / 'fidelity.md'} and {out / 'fidelity.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
