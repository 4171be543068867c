"""Speed of the reference engine: the real MNIST test set through a 784-256-784 sparse spiking network.

Target: 10,000 images, T=64, rate coding, under 20 s on 2 cores. Prints samples/s and
synaptic operations/s and writes ``results/bench_reference.json``.

The network comes from ``--checkpoint`` (a neurosim sparse checkpoint, e.g. from
``neurosim train --dataset mnist``); without one, a sparse 784-256-784 autoencoder (90% of the
weights pruned, learned threshold gate) is trained on the first 8,000 MNIST test images with the
real trainer (``neurosim.training``; experiments/train_mnist.toml with H=256, 20 epochs) and cached
under ``results/bench/``.

Usage::

    .venv/bin/python experiments/bench_reference.py [--samples 10000] [--timesteps 64] [--coding rate]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neurosim.fileio import write_json  # noqa: E402
from neurosim.provenance import git_commit  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", help="sparse neurosim checkpoint with 784 inputs (default: trained once and cached)")
    ap.add_argument("--data-dir", default=os.environ.get("NEUROSIM_MNIST_DIR"),
                    help="folder with the MNIST IDX files (default: $NEUROSIM_MNIST_DIR)")
    ap.add_argument("--samples", type=int, default=10000)
    ap.add_argument("--timesteps", type=int, default=64)
    ap.add_argument("--coding", choices=("rate", "graded"), default="rate")
    ap.add_argument("--repeats", type=int, default=1, help="timed runs (the best is reported)")
    ap.add_argument("--out", default=str(ROOT / "results" / "bench_reference.json"))
    args = ap.parse_args(argv)
    if not args.data_dir:
        ap.error("--data-dir is required (or set NEUROSIM_MNIST_DIR)")

    import numpy as np

    from converters.ann_to_snn import convert_file
    from neurosim.backends import simulate
    from neurosim.data import load_dataset

    ckpt = Path(args.checkpoint) if args.checkpoint else ROOT / "results" / "bench" / "sparse.pt"
    if not ckpt.is_file():
        from dataclasses import replace

        from neurosim.training.config import read_config
        from neurosim.training.loop import train
        from neurosim.training.run import save_run

        print(f"no checkpoint: training the 784-256-784 autoencoders on MNIST -> {ckpt.parent}")
        config = read_config(ROOT / "experiments" / "train_mnist.toml")
        config = replace(config, data_dir=args.data_dir, hidden=256, epochs=20)
        save_run(train(config, progress=False), ckpt.parent, plots=False)
    data = load_dataset("mnist", "all", args.data_dir).subset(args.samples)
    net, _ = convert_file(ckpt, args.coding, dataset="mnist", data_dir=args.data_dir)
    x = data.x.astype(np.float64)
    best = None
    for _ in range(max(1, args.repeats)):
        start = time.perf_counter()
        rec = simulate(net, x, args.timesteps)
        wall = time.perf_counter() - start
        best = (wall, rec) if best is None or wall < best[0] else best
    wall, rec = best
    n = rec.num_samples
    shape = "-".join(str(l.size) for l in net.layers)
    result = {
        "network": shape, "checkpoint": str(ckpt), "coding": args.coding, "samples": n,
        "timesteps": args.timesteps, "wall_time_s": wall, "engine_time_s": rec.wall_time_s,
        "samples_per_s": n / wall, "synaptic_ops": rec.synaptic_ops, "synaptic_ops_per_s": rec.synaptic_ops / wall,
        "synaptic_ops_per_inference": rec.synaptic_ops / n, "spikes_per_inference": rec.total_spikes / n,
        "weight_density": sum(l.connection.nonzero_synapses for l in net.layers[1:])
        / sum(np.prod(l.connection.shape) for l in net.layers[1:]),
        "hidden_active_fraction": float((rec.layers[1].spike_counts > 0).mean()),
        "mse_vs_input": rec.mse_vs_input, "products": rec.info.get("products"),
        "cpu_count": os.cpu_count(), "target_s": 20.0, "passes": wall < 20.0,
        "commit": git_commit(), "data_note": data.note,
    }
    print(f"reference engine, {shape} {args.coding} network (weight density {result['weight_density']:.3f}), "
          f"{n} MNIST images x T={args.timesteps}:")
    print(f"  {wall:.2f} s wall ({os.cpu_count()} cores): {result['samples_per_s']:.0f} samples/s, "
          f"{result['synaptic_ops_per_s'] / 1e6:.1f} M synaptic ops/s "
          f"({result['synaptic_ops_per_inference']:.0f} per inference), hidden active fraction "
          f"{result['hidden_active_fraction']:.3f}, MSE {rec.mse_vs_input:.4f}")
    print(f"  target < 20 s: {'met' if result['passes'] else 'NOT met'}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(result, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
