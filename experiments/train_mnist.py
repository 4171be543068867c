"""Dense, sparse and iso-compute autoencoders on the real MNIST test files, compared with the
targets of experiments/targets.toml [training.mnist].

Only the t10k files are used, so neurosim.data splits them: the first 8,000 images train, the
last 2,000 test (not the standard MNIST split; the last half of t10k was written by different
people, which is why held-out activity runs ~4 % above the training set's and the gate aims 10 %
below the cap here). The settings are experiments/train_mnist.toml.

    .venv/bin/python experiments/train_mnist.py --data-dir DIR              # H=1024, 40 epochs, ~3-5 min on 2 cores
    .venv/bin/python experiments/train_mnist.py --data-dir DIR --epochs 5   # a quick look

``--data-dir`` defaults to $NEUROSIM_MNIST_DIR. Writes results/mnist/ (checkpoints, metrics.json,
config.toml, plots) and results/mnist/summary.json with the configuration, the git commit, the
targets met or missed and the wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neurosim.fileio import write_json  # noqa: E402
from neurosim.provenance import git_commit  # noqa: E402
from neurosim.training.config import read_config  # noqa: E402
from neurosim.training.loop import train  # noqa: E402
from neurosim.training.run import save_run, summary_lines  # noqa: E402

sys.path.insert(0, str(ROOT / "experiments"))
from targets import check, format_rows, load_section  # noqa: E402

CONFIG = ROOT / "experiments" / "train_mnist.toml"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get("NEUROSIM_MNIST_DIR"),
                   help="folder with the MNIST IDX files (default: $NEUROSIM_MNIST_DIR)")
    p.add_argument("--out", default=str(ROOT / "results" / "mnist"))
    p.add_argument("--hidden", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int)
    args = p.parse_args()
    if not args.data_dir:
        p.error("--data-dir is required (or set NEUROSIM_MNIST_DIR)")
    given = {k: getattr(args, k) for k in ("hidden", "epochs", "seed", "threads") if getattr(args, k) is not None}
    config = replace(read_config(CONFIG), data_dir=args.data_dir, **given).validate()
    t0 = time.perf_counter()
    result = train(config)
    wall = time.perf_counter() - t0
    out = Path(args.out)
    save_run(result, out)
    for line in summary_lines(result.metrics):
        print(line)
    m = result.metrics
    rows = check(m, load_section("training.mnist"))
    print("targets (experiments/targets.toml [training.mnist]):")
    for line in format_rows(rows):
        print(line)
    try:
        commit = git_commit(ROOT, short=False)
    except OSError:
        commit = None
    summary = {
        "command": " ".join(sys.argv), "commit": commit, "wall_time_s": wall, "threads": config.threads,
        "data_note": m["data_note"], "config": m["config"], "targets": rows, "comparisons": m["comparisons"],
        "test_mse": {k: m[k]["test_mse"] for k in ("dense", "sparse", "small_dense")},
        "macs_per_inference": {k: m[k]["macs_per_inference"] for k in ("dense", "sparse", "small_dense")},
        "sparse": {k: m["sparse"][k] for k in ("weight_density", "activation_density", "mean_pairwise_jaccard")},
        "small_dense_hidden": m["small_dense"]["hidden"],
        "pca_test_mse_at_small_dense_hidden": m["iso_compute"]["pca_test_mse_at_small_dense_hidden"],
    }
    write_json(summary, out / "summary.json")
    print(json.dumps({"wall_time_s": round(wall, 1), "all_targets_met": all(r["met"] for r in rows)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
