"""Digit-specific subnetworks of a training run, proven by ablation (ANN and spiking network).

For the dense and the sparse autoencoder of a run: the subnetworks
(:mod:`neurosim.analysis.subnetworks`: d' against the other digits above the 95 % quantile of
its shuffled-label maximum, found on the training split), hubs, overlaps, whether each
subnetwork's drawing resembles its own digit most, and the 10 x 10 ablation matrices
(:mod:`neurosim.analysis.ablation`) on the test split in the ANN and in the rate-coded spiking
network on the reference engine (same samples), each with its random control. Prints a table,
writes ``results/subnetworks/<dataset>.json`` and compares it with the
``[subnetworks.<dataset>]`` targets of ``experiments/targets.toml``.

Usage::

    .venv/bin/python experiments/subnetworks.py --run RUN
    .venv/bin/python experiments/subnetworks.py --run MNIST_RUN --dataset mnist --data-dir DIR --samples 1000
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
from targets import check, format_rows, load_section  # noqa: E402


def measure(run: Path, dataset: str, data_dir: str | None, samples: int | None, timesteps: int,
            snn_draws: int) -> dict:
    import numpy as np

    from neurosim import pipeline
    from neurosim.analysis.ablation import RANDOM_DRAWS, ablation_matrices, ann_errors, ever_active, snn_errors
    from neurosim.analysis.subnetworks import drawings, find_subnetworks, nearest_class
    from neurosim.reporting.ann import forward, model_from_checkpoint, weights

    train = pipeline.load_dataset(dataset, "train", data_dir)
    test = pipeline.load_dataset(dataset, "test", data_dir)
    x, y = test.x.astype(np.float64), test.y
    if samples is not None and samples < len(y):
        x, y = x[:samples], y[:samples]
    classes = [int(c) for c in np.unique(train.y)]
    out = {"dataset": dataset, "run": str(run), "train_samples": int(len(train.y)), "test_samples": int(len(y)),
           "timesteps": timesteps, "commit": git_commit()}
    for model in ("sparse", "dense"):
        start = time.perf_counter()
        ann = model_from_checkpoint(pipeline.load_checkpoint(run / f"{model}.pt"))
        _, h = forward(ann, train.x)
        sub = find_subnetworks(h, train.y, classes)
        pool = ever_active(h)
        a = ablation_matrices(ann_errors(ann, x), sub.members, y, classes, pool, "ANN", draws=RANDOM_DRAWS)
        net = pipeline.convert(run / f"{model}.pt", "rate").network
        s = ablation_matrices(snn_errors(net, x, y, timesteps), sub.members, y, classes, pool, "SNN",
                              draws=snn_draws)
        w = weights(ann)
        means = np.stack([x[y == c].mean(axis=0) for c in classes])
        nearest = nearest_class(drawings(sub.members, sub.class_mean, w["decoder.weight"], w["decoder.bias"]), means)
        out[model] = {"threshold_dprime": sub.threshold, "sizes": sub.sizes, "min_size": min(sub.sizes),
                      "hubs": int(len(sub.hubs)), "mean_jaccard": sub.mean_jaccard, "mean_cosine": sub.mean_cosine,
                      "drawings_recognised": int(sum(int(i) == k for k, i in enumerate(nearest))),
                      "ann_ratio": a.ratio, "ann_random_ratio": a.random_ratio, "snn_ratio": s.ratio,
                      "snn_random_ratio": s.random_ratio,
                      "ann_diagonal_mean": float(np.mean(np.diag(a.matrix))),
                      "ann_offdiagonal_mean": float(a.matrix[~np.eye(len(classes), dtype=bool)].mean()),
                      "ann": a.as_dict(), "snn": s.as_dict(), "seconds": time.perf_counter() - start}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", required=True, help="a `neurosim train` output folder (dense.pt, sparse.pt)")
    p.add_argument("--dataset", default="digits", choices=("digits", "mnist"))
    p.add_argument("--data-dir", default=None, help="MNIST IDX folder")
    p.add_argument("--samples", type=int, default=None, help="first N test samples (default: all)")
    p.add_argument("--timesteps", type=int, default=32)
    p.add_argument("--snn-random-draws", type=int, default=2, help="random control sets per digit in the SNN")
    p.add_argument("--out", default=None, help="JSON output (default results/subnetworks/<dataset>.json)")
    args = p.parse_args(argv)
    res = measure(Path(args.run), args.dataset, args.data_dir, args.samples, args.timesteps, args.snn_random_draws)
    print(f"{args.dataset}: subnetworks on {res['train_samples']} training inputs, ablation on "
          f"{res['test_samples']} test inputs (SNN: rate coding, T={args.timesteps}, reference engine)")
    print("| model | subnetwork sizes (digits 0-9) | hubs | mean Jaccard | mean cosine | drawings recognised | "
          "ANN ratio (random) | SNN ratio (random) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for model in ("sparse", "dense"):
        m = res[model]
        print(f"| {model} | {', '.join(map(str, m['sizes']))} | {m['hubs']} | {m['mean_jaccard']:.3f} | "
              f"{m['mean_cosine']:.3f} | {m['drawings_recognised']}/10 | {m['ann_ratio']:.1f} "
              f"({m['ann_random_ratio']:.2f}) | {m['snn_ratio']:.1f} ({m['snn_random_ratio']:.2f}) |")
    out = Path(args.out) if args.out else ROOT / "results" / "subnetworks" / f"{args.dataset}.json"
    write_json(res, out)
    rows = check(res, load_section(f"subnetworks.{args.dataset}"))
    for line, row in zip(format_rows(rows), rows):
        print(f"{line}: {row['reason']}")
    print(f"wrote {out}")
    return 0 if all(r["met"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
