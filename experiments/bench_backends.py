"""Speed and agreement of the simulator backends on the same network, inputs and T.

For each coding (``rate``, ``graded``) the same spiking network runs on the reference engine,
on Brian2 (every code-generation target available here: numpy, cython, cpp_standalone) and on
Lava (``Loihi2SimCfg``, floating point), with the same samples, ``T`` and seed. The script
prints, per backend, samples/s and synaptic operations/s, their ratio to the reference
engine, and the agreement with the reference engine against the backend contract's tolerance
(at least 99 % of (sample, neuron) spike counts identical, none off by more than 1, total
synaptic operations within 1 %), and writes it all to ``results/bench_backends.json``.

Network (first that applies):

* ``--network FILE.nir`` (one file, used for its own coding);
* ``--checkpoint FILE.pt``: a neurosim sparse checkpoint, converted for each coding;
* default: the digits sparse autoencoder (64-256-64, 90% of weights pruned, learned gate)
  trained once by the real trainer (``neurosim.training``, H=256, 150 epochs) and cached in
  ``results/bench_backends/``;
* ``--synthetic``: a random 64-256-64 network with 90% of its weights pruned.

Compilation: Brian2's cython target compiles each code object once per machine (cached in
``~/.cython``); the script runs a 2-sample warm-up first and reports it as ``compile_s``.
``cpp_standalone`` compiles one project per network; its wall time includes that build
(``brian2_build_s``) and ``run_only_samples_per_s`` excludes it.

Usage::

    .venv/bin/python experiments/bench_backends.py [--samples 1797] [--timesteps 32] [--coding rate graded]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "experiments"))

from neurosim import defaults  # noqa: E402
from neurosim.fileio import write_json  # noqa: E402
from neurosim.provenance import git_commit  # noqa: E402


def synthetic_network(coding: str, seed: int = 0, sizes=(64, 256, 64), density: float = 0.1):
    """Random 64-256-64 network, 90% of the weights pruned (zeros), in the given coding."""
    import numpy as np

    from neurosim.network import Connection, Layer, SpikingNetwork

    rng = np.random.default_rng(seed)
    w1 = rng.normal(0.0, 1.0, (sizes[1], sizes[0])) * (rng.random((sizes[1], sizes[0])) < density)
    w1 *= 2.0 / np.sqrt(sizes[0] * density)
    w2 = rng.normal(0.0, 1.0, (sizes[2], sizes[1])) * (rng.random((sizes[2], sizes[1])) < density)
    w2 /= np.sqrt(sizes[1] * density)
    b1, b2 = rng.normal(-0.2, 0.1, sizes[1]), rng.normal(0.0, 0.1, sizes[2])
    if coding == "rate":
        layers = [Layer("input", "input", sizes[0], options={"encoding": "regular"}),
                  Layer("hidden", "if", sizes[1], params={"v_threshold": 1.0, "v_init": 0.5},
                        connection=Connection(w1, b1))]
        decode = "mean"
    else:
        layers = [Layer("input", "input", sizes[0], options={"encoding": "graded", "payload_step": 1 / 255}),
                  Layer("hidden", "sigma_delta", sizes[1], params={"v_threshold": 0.5 / 255},
                        options={"payload_step": 1 / 255}, connection=Connection(w1, b1))]
        decode = "sum"
    layers.append(Layer("output", "readout", sizes[2], params={"scale": 1.0},
                        options={"activation": "sigmoid", "decode": decode}, connection=Connection(w2, b2)))
    return SpikingNetwork(layers, metadata={"coding": coding, "model": "synthetic"})


def load_networks(args) -> dict:
    """coding -> (network, description)."""
    if args.network:
        from converters.nir_io import read_network

        net = read_network(args.network)
        return {net.metadata.get("coding", "rate"): (net, str(args.network))}
    if args.synthetic:
        return {c: (synthetic_network(c), "synthetic 64-256-64, 90% pruned") for c in args.coding}
    from converters.ann_to_snn import convert_file

    ckpt = Path(args.checkpoint) if args.checkpoint else ROOT / "results" / "bench_backends" / "sparse.pt"
    if not ckpt.is_file():
        from neurosim.training.config import TrainConfig
        from neurosim.training.loop import train
        from neurosim.training.run import save_run

        print(f"no checkpoint: training the digits autoencoders (64-256-64) -> {ckpt.parent}")
        save_run(train(TrainConfig(dataset="digits", hidden=256, epochs=150), progress=False), ckpt.parent,
                 plots=False)
    return {c: (convert_file(ckpt, c, dataset="digits")[0], str(ckpt)) for c in args.coding}


def agreement(ref, rec) -> dict:
    import numpy as np

    c_ref = np.concatenate([layer.spike_counts.ravel() for layer in ref.layers])
    c = np.concatenate([layer.spike_counts.ravel() for layer in rec.layers])
    syn_diff = abs(rec.synaptic_ops - ref.synaptic_ops) / max(ref.synaptic_ops, 1)
    out = {"identical_counts": float(np.mean(c == c_ref)), "max_count_diff": int(np.abs(c - c_ref).max()),
           "synaptic_ops_rel_diff": float(syn_diff),
           "max_output_diff": float(np.abs(rec.outputs - ref.outputs).max())}
    out["within_tolerance"] = out["identical_counts"] >= 0.99 and out["max_count_diff"] <= 1 and syn_diff <= 0.01
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--network", help="a NIR spiking network file")
    src.add_argument("--checkpoint", help="a neurosim sparse checkpoint (64 inputs for digits)")
    src.add_argument("--synthetic", action="store_true", help="random 64-256-64 90%%-pruned network")
    ap.add_argument("--coding", nargs="+", choices=("rate", "graded"), default=["rate", "graded"])
    ap.add_argument("--samples", type=int, default=1797, help="digits samples (default: all 1797)")
    ap.add_argument("--timesteps", "-T", type=int, default=defaults.TIMESTEPS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--targets", nargs="+", default=["numpy", "cython", "cpp_standalone"],
                    help="brian2 code-generation targets to time")
    ap.add_argument("--skip", nargs="*", default=[], choices=("brian2", "lava"), help="backends not to run")
    ap.add_argument("--out", default=str(ROOT / "results" / "bench_backends.json"))
    args = ap.parse_args(argv)

    import numpy as np

    from neurosim.backends import brian2_backend, lava_backend, simulate
    from neurosim.data import load_dataset

    data = load_dataset("digits", "all").subset(args.samples)
    x = data.x.astype(np.float64)
    n = x.shape[0]
    runs = []
    for coding, (net, source) in load_networks(args).items():
        shape = "-".join(str(layer.size) for layer in net.layers)
        density = (sum(layer.connection.nonzero_synapses for layer in net.layers[1:])
                   / sum(np.prod(layer.connection.shape) for layer in net.layers[1:]))
        print(f"\n{coding} coding, network {shape} (weight density {density:.3f}, {source}), "
              f"{n} digits x T={args.timesteps}, {os.cpu_count()} cores")
        plan = [("reference", {}, "reference")]
        if "brian2" not in args.skip and brian2_backend.available() is None:
            for target in args.targets:
                problem = brian2_backend.target_problem(target)
                if problem:
                    print(f"  brian2 {target}: skipped ({problem})")
                    continue
                plan.append(("brian2", {"target": target}, f"brian2/{target}"))
        if "lava" not in args.skip and lava_backend.available() is None:
            plan.append(("lava", {}, "lava"))
        ref = None
        for backend, options, label in plan:
            extra = {}
            if options.get("target") == "cython":  # compile the code objects once, outside the timing
                t0 = time.perf_counter()
                simulate(net, x[:2], args.timesteps, backend=backend, seed=args.seed, **options)
                extra["compile_s"] = round(time.perf_counter() - t0, 3)
            t0 = time.perf_counter()
            rec = simulate(net, x, args.timesteps, backend=backend, seed=args.seed, **options)
            wall = time.perf_counter() - t0
            if ref is None:
                ref = (rec, wall)
            entry = {
                "coding": coding, "network": shape, "weight_density": density, "backend": label,
                "backend_version": rec.backend_version, "samples": n, "timesteps": args.timesteps,
                "wall_time_s": round(wall, 4), "samples_per_s": n / wall, "synaptic_ops": rec.synaptic_ops,
                "synaptic_ops_per_s": rec.synaptic_ops / wall, "speed_vs_reference": ref[1] / wall,
                **extra, **{k: v for k, v in rec.info.items() if k.endswith("_s") or k in ("chunks", "chunk_size")},
                "agreement": agreement(ref[0], rec),
            }
            build = rec.info.get("brian2_build_s", rec.info.get("lava_build_s", 0.0))
            if build:  # simulation alone, without building/compiling the network
                entry["run_only_samples_per_s"] = n / max(wall - build, 1e-9)
            runs.append(entry)
            a = entry["agreement"]
            verdict = "within" if a["within_tolerance"] else "OUTSIDE"
            print(f"  {label:22s} {wall:8.2f} s  {entry['samples_per_s']:9.1f} samples/s  "
                  f"{entry['synaptic_ops_per_s'] / 1e6:8.2f} M synops/s  "
                  f"x{entry['speed_vs_reference']:.4f} of reference"
                  f"  | identical {100 * a['identical_counts']:.2f}%, max diff {a['max_count_diff']}, "
                  f"synops diff {100 * a['synaptic_ops_rel_diff']:.3f}% -> {verdict} tolerance"
                  + (f"  (compile {extra['compile_s']:.1f} s excluded)" if extra else "")
                  + (f"  [{build:.1f} s build; run alone {entry['run_only_samples_per_s']:.0f} samples/s]"
                     if build > 1.0 else ""))
    result = {"runs": runs, "cpu_count": os.cpu_count(), "commit": git_commit(), "dataset": data.name,
              "data_note": data.note, "load_average": os.getloadavg()}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(result, out)
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
