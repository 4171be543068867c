"""Fidelity and cost of the converted spiking networks vs the number of timesteps T.

For the dense and the sparse autoencoder of a training run, both codings (``rate``, ``graded``)
and T = 8, 16, 32, 64, 128, 256, on the digits test split: reconstruction MSE (vs the inputs,
vs the ANN's own reconstruction, and its ratio to the ANN's MSE), synaptic operations per
inference (all layers, input spikes included), the hidden layer's active fraction and the
correlation of its spike rates with the ANN's activations; beside the ANN's MACs (dense: every
weight; effective: nonzero weights fed by nonzero activations). Compares the figures with the
``[conversion.digits]`` targets of ``experiments/targets.toml`` and writes
``results/fidelity/fidelity.md`` and ``fidelity.json``.

The checkpoints come from ``--run DIR`` (``DIR/dense.pt`` and ``DIR/sparse.pt`` as written by
``neurosim train``); without one, ``results/run``, where the default digits models are trained
first when it does not hold them (and said so).

Usage::

    .venv/bin/python experiments/fidelity_sweep.py [--run results/run] [--timesteps 8,16,32,64,128,256]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "experiments"))

from neurosim.fileio import write_json  # noqa: E402
from neurosim.provenance import git_commit  # noqa: E402
from targets import check, load_section  # noqa: E402

TARGETS = "conversion.digits"


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


def summary(result: dict) -> dict:
    """The figures ``experiments/targets.toml`` checks, by the metric paths it names; a figure
    whose T was not swept is absent."""
    rows, ann = result["rows"], result["ann"]

    def row(model, coding, T=None):
        return next((r for r in rows if r["model"] == model and r["coding"] == coding
                     and (T is None or r["T"] == T)), None)

    out = {}
    for T in (32, 128):
        r = row("sparse", "rate", T)
        if r:
            a_ann = ann["sparse"]["active_fraction"]
            out[f"sparse_rate_T{T}"] = {
                "mse_ratio": r["mse_ratio"], "correlation": r["correlation"],
                "unit_mean_correlation": r["unit_mean_correlation"], "active_fraction": r["active_fraction"],
                "active_fraction_relative_error": abs(r["active_fraction"] - a_ann) / a_ann}
    g, gd = row("sparse", "graded"), row("dense", "graded")
    if g:
        out["sparse_graded"] = {
            "mse_ratio": g["mse_ratio"],
            "synaptic_ops_per_effective_mac": g["synaptic_ops"] / ann["sparse"]["macs_effective"],
            "dense_macs_per_synaptic_op": ann["dense"]["macs_dense"] / g["synaptic_ops"]}
    if gd:
        out["dense_graded"] = {"mse_ratio": gd["mse_ratio"]}
    rs, rd = row("sparse", "rate", 32), row("dense", "rate", 32)
    if rs and rd:
        out["rate_T32"] = {"dense_to_sparse_synaptic_ops": rd["synaptic_ops"] / rs["synaptic_ops"]}
    return out


def check_targets(result: dict) -> list[dict]:
    """One row per target of :data:`TARGETS` whose figure was measured (see ``targets.check``)."""
    targets = load_section(TARGETS)
    present = {}
    for name, t in targets.items():
        node = result
        for part in t["metric"].split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            present[name] = t
    return check(result, present)


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
    lines += ["", f"Targets (`experiments/targets.toml`, [{TARGETS}]):", "",
              "| figure | value | target | met | why |", "|---|---|---|---|---|"]
    for c in checks:
        lines.append(f"| {c['metric']} | {c['value']:.4f} | {c['op']} {c['limit']:g} | "
                     f"{'yes' if c['met'] else 'NO'} | {c['reason']} |")
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
    result["figures"] = summary(result)
    checks = check_targets(result)
    result["targets"] = checks
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(result, out / "fidelity.json")
    md = markdown(result, checks, source)
    (out / "fidelity.md").write_text(md)
    print()
    for c in checks:
        print(f"  {'met   ' if c['met'] else 'MISSED'} {c['metric']} = {c['value']:.4f} (target {c['op']} {c['limit']:g})")
    print(f"wrote {out / 'fidelity.md'} and {out / 'fidelity.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
