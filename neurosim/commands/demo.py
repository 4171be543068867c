"""``neurosim demo``: the whole pipeline on the embedded digits, written up as a report.

Trains the dense and the sparse autoencoder side by side (and the iso-compute small dense
one), converts both to spiking networks (rate and graded coding), simulates them with the
reference engine (a subset also with Brian2 and Lava, as a cross-check), estimates energy
and latency on every hardware profile and writes ``OUT/report.html`` (self-contained),
``OUT/report.md`` and ``OUT/report.json``. See :mod:`neurosim.reporting.demo`.
"""
from __future__ import annotations

import argparse

from neurosim import defaults
from neurosim.errors import ValidationError

#: layers of a converted autoencoder: input, hidden, output
AUTOENCODER_DEPTH = 3


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="run the whole pipeline on the embedded digits and write a report",
        description="Train dense and sparse autoencoders side by side on the embedded 8x8 digits, convert\n"
                    "them to spiking networks, simulate them, estimate energy and latency on every hardware\n"
                    "profile, and write DIR/report.html (one self-contained file), DIR/report.md and\n"
                    "DIR/report.json. A stage that fails is reported with its error, and the report is\n"
                    "written from the stages that ran.",
        epilog="examples:\n  neurosim demo                         # results/demo/report.html\n"
               "  neurosim demo --live                  # and watch training on http://127.0.0.1:8765/\n"
               "  neurosim demo --run results/run1      # reuse a finished `neurosim train`\n"
               "  neurosim demo --dataset mnist --data-dir DIR --samples 300   # 28x28 MNIST from IDX files",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", metavar="DIR", default="results/demo", help="output folder (default results/demo)")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: neurosim train's)")
    p.add_argument("--hidden", type=int, default=None, metavar="H", help="hidden units (default: neurosim train's)")
    p.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    p.add_argument("--dataset", choices=("digits", "mnist"), default="digits",
                   help="digits: the embedded 8x8 digits (default); mnist: 28x28 IDX files in --data-dir")
    p.add_argument("--data-dir", default=None, metavar="DIR", help="folder of the MNIST IDX files, raw or gzipped (default: none; needed with --dataset mnist)")
    p.add_argument("--samples", type=int, default=None, metavar="N",
                   help="held-out test digits to simulate (default: the whole test split, 359 digits)")
    p.add_argument("--timesteps", type=int, default=defaults.TIMESTEPS, metavar="T",
                   help="timesteps of the main simulations (default %(default)s)")
    p.add_argument("--cross-check-samples", type=int, default=10, metavar="N",
                   help="test digits simulated on Brian2 and Lava as a cross-check (default 10; 0 skips it)")
    p.add_argument("--run", default=None, metavar="RUN",
                   help="reuse the checkpoints of a finished `neurosim train --out RUN` instead of training "
                        "(default: train afresh)")
    p.add_argument("--live", action="store_true",
                   help="serve a live view of training on http://127.0.0.1:PORT/ (see neurosim train --live)")
    p.add_argument("--live-port", type=int, default=8765, metavar="PORT",
                   help="port of the live view (default 8765; 0 picks a free one)")
    p.add_argument("--quiet", action="store_true", help="no training progress bar (default: show it)")
    p.add_argument("--sweep", metavar="DIR", default=None,
                   help="add the figures of a finished `neurosim sweep --out DIR` to the hardware section "
                        "(default: none)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neurosim.reporting.demo import demo_summary_text, run_demo

    if args.samples is not None and args.samples <= 0:
        raise ValidationError(f"--samples must be a positive number of test digits, got {args.samples}")
    defaults.check_timesteps(args.timesteps, AUTOENCODER_DEPTH, "--timesteps")
    if args.dataset == "mnist" and args.data_dir is None:
        raise ValidationError("--dataset mnist needs --data-dir DIR, the folder of the MNIST IDX files")
    if args.cross_check_samples < 0:
        raise ValidationError(f"--cross-check-samples must be >= 0, got {args.cross_check_samples}")
    from neurosim.commands.train import check_out_dir

    check_out_dir(args.out)
    from pathlib import Path

    if args.sweep is not None and not (Path(args.sweep) / "sweep.json").is_file():
        raise ValidationError(f"{args.sweep}: --sweep is not a finished sweep folder (no sweep.json inside)")
    ctx = run_demo(args.out, epochs=args.epochs, hidden=args.hidden, seed=args.seed, samples=args.samples,
                   timesteps=args.timesteps, cross_check_samples=args.cross_check_samples,
                   cross_check_timesteps=args.timesteps, run=args.run, progress=not args.quiet,
                   live_port=args.live_port if args.live else None, dataset=args.dataset, data_dir=args.data_dir,
                   sweep_dir=args.sweep)
    print(demo_summary_text(ctx))
    return 0 if ctx.ok("report") else 1
