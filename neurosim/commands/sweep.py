"""``neurosim sweep``: the sparsity frontier over weight sparsity x activity target, on Dask.

Writes into ``--out DIR``: ``sweep.toml`` (the settings; ``--config DIR/sweep.toml`` reruns
them), ``points/<key>.json`` (one per finished or failed point, atomic), ``sweep.csv`` and
``sweep.json`` (the tidy table and the break-even summary), ``figures/*.png`` and
``sweep.html`` (self-contained). Rerunning into the same folder skips finished points.
"""
from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Sweep weight sparsity x activity target (optionally x coding and T): each point trains a sparse
autoencoder with the side-by-side trainer (same seed, same mini-batches), converts it to spiking
networks, simulates them on the reference engine and estimates every hardware profile in both
operating modes (latency: one inference alone; throughput: the hardware kept busy). The dense
ANN of the same trainer is the reference every point is compared with, target by target.

Points run on a Dask LocalCluster (one single-threaded worker per core) or, with --scheduler, on
an existing cluster. Progress (done / running / failed) and the dashboard address go to stderr."""

EPILOG = """\
examples:
  neurosim sweep --out results/sweep                                   (the default digits grid, 37 points)
  neurosim sweep --config experiments/sweep_digits.toml --out results/sweep
  neurosim sweep --weight-sparsity 0 0.9 --activity 1 0.1 --epochs 20 --out results/small
  neurosim sweep --config results/sweep/sweep.toml --out results/sweep  (resume: finished points are kept)
  neurosim sweep --out results/sweep --scheduler tcp://host:8786       (an existing cluster)
outputs: DIR/sweep.toml DIR/points/*.json DIR/sweep.csv DIR/sweep.json DIR/figures/*.png DIR/sweep.html"""

#: flag destination -> SweepConfig field
FLAGS = {"weight_sparsity": "weight_sparsity", "activity": "activity", "coding": "coding",
         "timesteps": "timesteps", "dataset": "dataset", "data_dir": "data_dir", "hidden": "hidden",
         "epochs": "epochs", "seed": "seed", "samples": "samples", "profile": "profiles", "draws": "draws"}


def register(subparsers: argparse._SubParsersAction) -> None:
    from neurosim.sweep.grid import CODINGS, SweepConfig

    d = SweepConfig()
    p = subparsers.add_parser("sweep", help="sweep weight sparsity x activity target on a Dask cluster",
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", metavar="DIR", required=True, help="sweep folder (created if missing; resumed if not)")
    p.add_argument("--config", metavar="TOML", help="read the settings from this file; flags override it (default: none)")
    p.add_argument("--weight-sparsity", type=float, nargs="*", metavar="S",
                   help=f"final fractions of pruned weights, each in [0, 1) (default {list(d.weight_sparsity)})")
    p.add_argument("--activity", type=float, nargs="*", metavar="A",
                   help=f"target fractions of active hidden units, each in (0, 1] (default {list(d.activity)})")
    p.add_argument("--coding", nargs="*", metavar="C",
                   help=f"what neuromorphic targets run: {', '.join(CODINGS)} (default {list(d.coding)}); "
                        "auto: each chip's own code")
    p.add_argument("--timesteps", type=int, nargs="*", metavar="T",
                   help=f"steps of the rate-coded runs (default {list(d.timesteps)})")
    p.add_argument("--dataset", help=f"digits (embedded) or mnist (with --data-dir) (default {d.dataset})")
    p.add_argument("--data-dir", metavar="DIR", help="folder of the MNIST IDX files (default: none)")
    p.add_argument("--hidden", type=int, metavar="H", help=f"hidden units (default {d.hidden})")
    p.add_argument("--epochs", type=int, help=f"training epochs per point (default {d.epochs})")
    p.add_argument("--seed", type=int, help=f"training seed, the same for every point (default {d.seed})")
    p.add_argument("--samples", type=int, metavar="N", help="held-out samples simulated per point (default: all)")
    p.add_argument("--profile", action="append", metavar="NAME",
                   help="hardware profile, repeatable: bundled name or TOML path (default: all)")
    p.add_argument("--draws", type=int, help=f"Monte-Carlo draws per estimate (default {d.draws})")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes of the local cluster (default: cores)")
    p.add_argument("--scheduler", metavar="ADDR", help="use the Dask cluster at this address, tcp://host:8786 (default: a new local cluster)")
    p.add_argument("--serial", action="store_true", help="run the points one by one in this process (no cluster)")
    p.add_argument("--no-figures", action="store_true", help="write the table only (no figures, no HTML page)")
    p.add_argument("--max-train-samples", type=int, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("--max-test-samples", type=int, metavar="N", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    """Defaults, then ``--config`` FILE's keys, then the flags given; validated."""
    from neurosim.sweep.grid import config_from_mapping, read_sweep_config

    given = {field: getattr(args, dest) for dest, field in FLAGS.items() if getattr(args, dest, None) is not None}
    for key in ("max_train_samples", "max_test_samples"):
        if getattr(args, key, None) is not None:
            given[key] = getattr(args, key)
    if args.data_dir:
        from pathlib import Path

        given["data_dir"] = str(Path(args.data_dir).resolve())
    if args.config:
        return read_sweep_config(args.config, given)
    return config_from_mapping(given, "command line")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from neurosim.errors import ValidationError
    from neurosim.fileio import write_json
    from neurosim.sweep import write_outputs
    from neurosim.sweep.run import run_sweep

    config = config_from_args(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValidationError(f"{out}: --out exists and is not a folder")
    if args.serial and args.scheduler:
        raise ValidationError("give either --serial or --scheduler, not both")
    stats = run_sweep(config, out, workers=args.workers, scheduler=args.scheduler, serial=args.serial,
                      progress=sys.stderr)
    written = write_outputs(out, figures=not args.no_figures)
    write_json(stats, out / "run.json")
    print(f"sweep: {stats['total']} points ({stats['skipped']} already finished, {stats['ran']} run, "
          f"{stats['failed']} failed) in {stats['wall_s']:.0f} s")
    print(f"wrote {', '.join(sorted(p.name for k, p in written.items() if k in ('csv', 'json', 'html')))}"
          f"{' and figures/' if not args.no_figures else ''} to {out}")
    return 0
