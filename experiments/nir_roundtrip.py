"""NIR interop figures: round trips with snnTorch and the fidelity cost of ``--nir-strict``.

1. Round trips, spike counts against snnTorch's own simulation of the same NIR graph
   (per-layer time alignment, see :mod:`converters.nir_strict`):
   * neurosim -> NIR -> snnTorch: random networks of IF / LIF / CubaLIF neurons (reset to zero,
     dt = 1e-4 s, snnTorch's import step), written by :func:`converters.nir_io.write_network`,
     imported with ``snntorch.import_nir.import_from_nir`` (IF modules repaired, see
     :mod:`converters.snntorch_interop`), analog and spike-train inputs;
   * snnTorch -> NIR -> neurosim: random snnTorch ``Leaky``/``Synaptic`` networks exported with
     ``export_to_nir`` (IF: ``Leaky(beta=1)``, whose export is broken, as the IF graph built with
     ``nir``), read with ``dt_s=1e-4``; compared with the source network.
   * the converted digits autoencoders (dense and sparse) in strict form: hidden spike counts
     and decoded outputs of neurosim vs snnTorch.
2. Fidelity cost of ``--nir-strict`` on the digits test split: reconstruction MSE of the
   neurosim network, of the strict network, and of the ANN, at several T; each lossy change
   alone.

Checkpoints: ``--checkpoints DIR`` with ``dense.pt`` and ``sparse.pt``; otherwise they are
trained with the real trainer (``neurosim.training``, H=256, 150 epochs) into ``OUT/ckpt``.

Usage: ``python experiments/nir_roundtrip.py --out results/nir_roundtrip``
Writes ``OUT/summary.json`` (figures, configuration, commit) and prints the tables.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from converters import snntorch_interop as S  # noqa: E402
from neurosim.mathutil import sigmoid  # noqa: E402
from neurosim.fileio import write_json  # noqa: E402
from neurosim.provenance import git_commit  # noqa: E402

SHAPES = {"6-5-4": [6, 5, 4], "8-7-6-3": [8, 7, 6, 3], "64-32-10": [64, 32, 10]}
KINDS = ("if", "lif", "cuba_lif")


def _quiet(fn, *args, **kwargs):
    """snnTorch's importer prints warnings on stdout: keep the tables readable."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def round_trips(samples: int, T: int, seed: int, tmp: Path) -> list[dict]:
    import nir
    import torch
    from snntorch.export_nir import export_to_nir

    from converters.nir_io import read_network, write_network
    from neurosim.backends import reference

    rows = []
    for shape, sizes in SHAPES.items():
        for k, kind in enumerate(KINDS):
            for encoding in ("current", "regular"):
                x = np.random.default_rng(seed + 1).uniform(0.0, 1.0, (samples, sizes[0]))
                # neurosim -> NIR -> snnTorch
                net = S.random_network(kind, sizes, seed=seed + k + len(sizes), encoding=encoding)
                graph = nir.read(write_network(net, tmp / "ns.nir"))
                module, layers = _quiet(S.import_graph, graph)
                out = S.run(module, layers, S.snntorch_inputs(net, x, T))
                theirs = S.aligned_counts([out[name] for name, _, _ in layers], T)
                ours = reference.run(net, x, T).spike_counts[1:]
                rows.append(_row("neurosim -> NIR -> snnTorch", shape, kind, encoding, ours, theirs, T))
                # snnTorch -> NIR -> neurosim
                seq = S.random_sequential(kind, sizes, seed=seed + 3 + k + len(sizes))
                g = S.if_graph_from_sequential(seq) if kind == "if" else \
                    _quiet(export_to_nir, seq, torch.zeros(sizes[0]))
                nir.write(tmp / "st.nir", g)
                net = read_network(tmp / "st.nir", dt_s=S.DT, input_encoding=encoding)
                inputs = S.snntorch_inputs(net, x, T)
                ours = reference.run(net, x, T).spike_counts[1:]
                theirs = S.aligned_counts(S.run_sequential(seq, inputs), T)
                rows.append(_row("snnTorch -> NIR -> neurosim", shape, kind, encoding, ours, theirs, T))
                module, layers = _quiet(S.import_graph, nir.read(tmp / "st.nir"))
                out = S.run(module, layers, inputs)
                theirs = S.aligned_counts([out[name] for name, _, _ in layers], T)
                rows.append(_row("snnTorch -> NIR -> neurosim (vs snnTorch re-import)", shape, kind, encoding,
                                 ours, theirs, T))
    return rows


def _row(direction, shape, kind, encoding, ours, theirs, T) -> dict:

    frac, worst = S.agreement(ours, theirs)
    steps = sum(c.size * (T - depth) for depth, c in enumerate(ours, start=1))  # neuron-steps in the windows
    return {"direction": direction, "shape": shape, "model": kind, "input": encoding,
            "agreement": frac, "max_abs_diff": worst, "spikes_neurosim": int(sum(c.sum() for c in ours)),
            "spikes_snntorch": int(sum(c.sum() for c in theirs)), "pairs": int(sum(c.size for c in ours)),
            "spikes_per_neuron_step": float(sum(c.sum() for c in ours) / steps)}


def converted(checkpoints: dict[str, Path], timesteps: list[int], samples: int | None, tmp: Path) -> dict:
    import nir

    from converters.ann_to_snn import ann_forward_from_network, convert_file
    from converters.nir_io import read_network
    from converters.nir_strict import fidelity_cost, write_strict
    from neurosim.backends import reference
    from neurosim.data import load_dataset

    data = load_dataset("digits", "test").subset(samples)
    x = data.x.astype(np.float64)
    out = {}
    for model, ckpt in checkpoints.items():
        net, _ = convert_file(ckpt, "rate")
        _, ann_out = ann_forward_from_network(net, x)
        path, strict, changes = write_strict(net, tmp / f"{model}_strict.nir")
        back = read_network(path)
        entry = {"ann_mse_vs_input": float(np.mean((ann_out - x) ** 2)), "changes": changes, "by_T": {}}
        for T in timesteps:
            start = time.perf_counter()
            cost = fidelity_cost(net, x, T)
            cost["wall_s"] = time.perf_counter() - start
            module, layers = _quiet(S.import_graph, nir.read(path))
            res = reference.run(back, x, T)
            sim = S.run(module, layers, np.repeat(x[None], T, axis=0))
            hidden = [name for name, _, k in layers if k != "readout"]
            frac, worst = S.agreement(res.spike_counts[1:1 + len(hidden)],
                                      S.aligned_counts([sim[h] for h in hidden], T))
            window = T - (len(back.layers) - 1)
            readout = [name for name, _, k in layers if k == "readout"][0]
            y = sigmoid(sim[readout][:window].mean(axis=0))
            cost["snntorch"] = {"hidden_agreement": frac, "hidden_max_abs_diff": worst,
                                "output_max_abs_diff": float(np.abs(y - res.outputs).max()),
                                "mse_vs_input": float(np.mean((y - x) ** 2))}
            entry["by_T"][str(T)] = cost
        out[model] = entry
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/nir_roundtrip")
    ap.add_argument("--checkpoints", help="folder with dense.pt and sparse.pt (default: train into OUT/ckpt)")
    ap.add_argument("--samples", type=int, default=200, help="samples per round-trip network")
    ap.add_argument("--timesteps", type=int, default=64, help="T of the round trips")
    ap.add_argument("--fidelity-timesteps", default="16,32,64,128")
    ap.add_argument("--fidelity-samples", type=int, help="digits test samples (default: all 360)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    out = Path(args.out)
    tmp = out / "graphs"
    tmp.mkdir(parents=True, exist_ok=True)
    ckpt_dir = Path(args.checkpoints) if args.checkpoints else out / "ckpt"
    if not all((ckpt_dir / f"{m}.pt").is_file() for m in ("dense", "sparse")):
        from neurosim.training.config import TrainConfig
        from neurosim.training.loop import train
        from neurosim.training.run import save_run

        save_run(train(TrainConfig(dataset="digits", hidden=256, epochs=150), progress=False), ckpt_dir,
                 plots=False)
    checkpoints = {m: ckpt_dir / f"{m}.pt" for m in ("dense", "sparse")}

    start = time.perf_counter()
    rows = round_trips(args.samples, args.timesteps, args.seed, tmp)
    t_rt = time.perf_counter() - start
    print(f"Round trips ({args.samples} samples, T={args.timesteps}, spike counts per (sample, neuron)):")
    print(f"{'direction':52s} {'shape':9s} {'model':9s} {'input':8s} {'agree %':>8s} {'max diff':>8s} {'spikes':>9s} {'rate':>5s}")
    for r in rows:
        print(f"{r['direction']:52s} {r['shape']:9s} {r['model']:9s} {r['input']:8s} {100 * r['agreement']:8.2f} "
              f"{r['max_abs_diff']:8d} {r['spikes_neurosim']:9d} {r['spikes_per_neuron_step']:5.2f}")
    fid_T = [int(t) for t in args.fidelity_timesteps.split(",")]
    conv = converted(checkpoints, fid_T, args.fidelity_samples, tmp)
    print("\n--nir-strict fidelity cost on the digits test split (reference engine):")
    print(f"{'model':7s} {'T':>4s} {'MSE neurosim':>13s} {'MSE strict':>11s} {'ratio':>6s} {'ANN MSE':>8s} "
          f"{'enc only':>9s} {'reset only':>10s} {'v_init only':>11s} {'snnTorch agree %':>16s} {'out diff':>9s}")
    for model, entry in conv.items():
        for T, c in entry["by_T"].items():
            only = c["mse_vs_input_with_only"]
            print(f"{model:7s} {T:>4s} {c['mse_vs_input']['neurosim']:13.5f} {c['mse_vs_input']['strict']:11.5f} "
                  f"{c['ratio']:6.3f} {entry['ann_mse_vs_input']:8.5f} {only.get('input_encoding', 0):9.5f} "
                  f"{only.get('reset', 0):10.5f} {only.get('v_init', 0):11.5f} "
                  f"{100 * c['snntorch']['hidden_agreement']:16.2f} {c['snntorch']['output_max_abs_diff']:9.1e}")
    try:
        commit = git_commit(ROOT, short=False)
    except OSError:
        commit = None
    summary = {"config": vars(args), "commit": commit, "python": platform.python_version(),
               "round_trips": rows, "round_trip_wall_s": t_rt, "converted": conv,
               "checkpoints": {m: str(p) for m, p in checkpoints.items()}}
    write_json(summary, out / "summary.json")
    print(f"\nwrote {out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "experiments"))
    raise SystemExit(main())
