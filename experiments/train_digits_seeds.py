"""The default digits run over several seeds, compared with experiments/targets.toml
[training.digits]: how robust the margins are.

    .venv/bin/python experiments/train_digits_seeds.py --seeds 0 1 2 3

Writes results/digits_seeds/seed<N>/ (a full `neurosim train` output per seed, config.toml
included) and results/digits_seeds/summary.json (one row per seed: the targets met or missed,
MSEs, MACs, wall time).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neurosim.fileio import write_json  # noqa: E402
from neurosim.training.config import TrainConfig  # noqa: E402
from neurosim.training.loop import train  # noqa: E402
from neurosim.training.run import save_run  # noqa: E402

sys.path.insert(0, str(ROOT / "experiments"))
from targets import check, format_rows, load_section  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--out", default=str(ROOT / "results" / "digits_seeds"))
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    targets = load_section("training.digits")
    rows = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        result = train(TrainConfig(seed=seed, threads=args.threads), progress=False)
        wall = time.perf_counter() - t0
        save_run(result, Path(args.out) / f"seed{seed}", plots=False)
        m = result.metrics
        checked = check(m, targets)
        row = {"seed": seed, "wall_time_s": wall,
               "test_mse": {k: m[k]["test_mse"] for k in ("dense", "sparse", "small_dense")},
               "small_dense_hidden": m["small_dense"]["hidden"],
               "pca_test_mse_at_small_dense_hidden": m["iso_compute"]["pca_test_mse_at_small_dense_hidden"],
               "sparse": {k: m["sparse"][k] for k in ("weight_density", "activation_density",
                                                      "macs_per_inference", "mean_pairwise_jaccard")},
               "comparisons": m["comparisons"], "targets": checked,
               "all_targets_met": all(r["met"] for r in checked)}
        rows.append(row)
        c = m["comparisons"]
        print(f"seed {seed}: sparse MSE {row['test_mse']['sparse']:.5f} dense {row['test_mse']['dense']:.5f} "
              f"small_dense(H={row['small_dense_hidden']}) {row['test_mse']['small_dense']:.5f} | "
              f"iso ratio {c['mse_ratio_small_dense_to_sparse']:.2f} | MACs x{c['mac_reduction_vs_dense']:.1f} | "
              f"act {row['sparse']['activation_density']:.3f} | Jaccard {row['sparse']['mean_pairwise_jaccard']:.3f} | "
              f"targets {'all met' if row['all_targets_met'] else 'MISSED'} | {wall:.1f} s", flush=True)
        if not row["all_targets_met"]:
            for line in format_rows([r for r in checked if not r["met"]]):
                print(line)
    write_json({"rows": rows, "threads": args.threads}, Path(args.out) / "summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
