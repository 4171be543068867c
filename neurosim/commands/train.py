"""``neurosim train``: dense, sparse and iso-compute autoencoders trained side by side.

Writes into ``--out RUN``:

* ``dense.pt``, ``sparse.pt``, ``small_dense.pt``: checkpoints (:mod:`neurosim.checkpoint`),
  loadable with ``torch.load(path, weights_only=True)``;
* ``metrics.json``: per model ``test_mse``, ``weight_density``, ``activation_density``,
  ``macs_per_inference``, ``per_class_active_units``, ``mean_pairwise_jaccard``, ``history``;
  plus ``iso_compute``, ``comparisons``, ``config``, ``train_time_s`` (measurements only);
* ``config.toml``: the fully resolved configuration; ``neurosim train --config RUN/config.toml
  --out RUN2`` reproduces the run (flags given explicitly override the file);
* ``training_curves.png``, ``reconstructions.png``, ``hidden_activity.png``,
  ``class_overlap.png`` (:mod:`neurosim.training.plots`).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from neurosim.errors import ValidationError

DESCRIPTION = """\
Train three autoencoders side by side, on the same mini-batches from the same seed:

  dense        d -> H -> d, ReLU hidden layer, sigmoid output (the accuracy reference)
  sparse       the same shape with both kinds of sparsity: gradual magnitude pruning of both
               weight matrices to --weight-sparsity (Zhu & Gupta 2017 cubic schedule) and a
               learned per-unit threshold gate h = relu(W x - theta) held by a homeostatic
               controller at --active-fraction of the hidden units per input
  small_dense  a dense autoencoder whose MACs per inference (2 d h) match the sparse model's
               effective MACs: the iso-compute baseline

Effective MACs count only nonzero weights fed by nonzero inputs (active pixels times their
surviving outgoing weights, plus active hidden units times theirs), per test input, averaged.
Pixels are scaled to [0, 1]; MSE is per pixel on the held-out test split."""

EPILOG = """\
examples:
  neurosim train --dataset digits --out results/run1
  neurosim train --config experiments/train_mnist.toml --data-dir DIR --out results/mnist   (the MNIST run)
  neurosim train --config results/run1/config.toml --out results/run1b   (the same run again)
  neurosim train --config results/run1/config.toml --seed 1 --out results/seed1   (one flag changed)
outputs: RUN/dense.pt RUN/sparse.pt RUN/small_dense.pt RUN/metrics.json RUN/config.toml RUN/*.png"""


#: TrainConfig fields with a command-line flag (a flag not given keeps the config file's or the default value)
CONFIG_FLAGS = ("dataset", "data_dir", "hidden", "epochs", "weight_sparsity", "active_fraction", "gate_margin",
                "seed", "batch_size", "lr", "dense_lr", "threads", "max_train_samples", "max_test_samples")


def register(subparsers: argparse._SubParsersAction) -> None:
    from neurosim.training.config import TrainConfig

    d = TrainConfig()
    p = subparsers.add_parser("train", help="train dense and sparse autoencoders side by side",
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    # defaults of the run's settings are None here: a flag overrides the config file only when given
    p.add_argument("--config", metavar="TOML",
                   help="read the run's settings from this file (e.g. a previous run's config.toml); "
                        "flags given explicitly override it (default: none)")
    p.add_argument("--dataset", choices=("digits", "mnist"),
                   help="digits: scikit-learn's bundled 8x8 digits (offline, default); "
                        "mnist: IDX files from --data-dir")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder with the MNIST IDX files (raw or .gz); needed for --dataset mnist (default: none)")
    p.add_argument("--out", metavar="RUN", required=True, help="output folder (created if missing)")
    p.add_argument("--hidden", type=int, metavar="H",
                   help=f"hidden units of the dense and sparse models (default {d.hidden})")
    p.add_argument("--epochs", type=int, help=f"passes over the training set (default {d.epochs})")
    p.add_argument("--weight-sparsity", type=float, metavar="S",
                   help=f"final fraction of pruned weights in the sparse model (default {d.weight_sparsity})")
    p.add_argument("--active-fraction", type=float, metavar="A",
                   help="cap on the mean fraction of hidden units active per input in the sparse "
                        f"model (default {d.active_fraction}); the controller aims --gate-margin below it")
    p.add_argument("--gate-margin", type=float, metavar="M",
                   help="relative safety margin of the activity controller's set-point, "
                        f"A * (1 - M), so held-out inputs stay under A (default {d.gate_margin})")
    p.add_argument("--seed", type=int, help=f"random seed: same seed, same result (default {d.seed})")
    p.add_argument("--batch-size", type=int, help=f"mini-batch size (default {d.batch_size})")
    p.add_argument("--lr", type=float,
                   help=f"Adam learning rate of the sparse model, cosine-decayed to 0 (default {d.lr})")
    p.add_argument("--dense-lr", type=float, help=f"Adam learning rate of the dense models (default {d.dense_lr})")
    p.add_argument("--threads", type=int, help=f"CPU threads for torch (default {d.threads})")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--live", action="store_true",
                   help="follow training in a browser: serve loss curves and the activity map on "
                        "http://127.0.0.1:PORT/ while it runs (localhost only)")
    p.add_argument("--live-port", type=int, default=8765, metavar="PORT",
                   help="port of the --live page (default 8765; 0 picks a free one)")
    p.add_argument("--max-train-samples", type=int, metavar="N", help=argparse.SUPPRESS)
    p.add_argument("--max-test-samples", type=int, metavar="N", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    """The run's TrainConfig: defaults, then ``--config`` FILE's keys, then the flags given."""
    from dataclasses import replace

    from neurosim.training.config import TrainConfig, read_config

    config = read_config(args.config) if getattr(args, "config", None) else TrainConfig()
    given = {name: getattr(args, name) for name in CONFIG_FLAGS if getattr(args, name, None) is not None}
    return replace(config, **given).validate()


def check_out_dir(out: str | Path) -> Path:
    """``out`` must be a folder or not exist yet (checked before any training)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError(f"{out}: --out exists and is not a folder")
    return out


def run(args: argparse.Namespace) -> int:
    from neurosim.training.loop import train
    from neurosim.training.run import save_run, summary_lines

    config = config_from_args(args)
    out = check_out_dir(args.out)
    if args.live:
        from neurosim.training.live import LiveView, training_callback

        view = LiveView(port=args.live_port)
        print(f"live view: {view.start()}", flush=True)
        try:
            result = train(config, progress=not args.quiet, on_epoch=training_callback(view))
        finally:
            view.stop()
    else:
        result = train(config, progress=not args.quiet)
    written = save_run(result, out, plots=not args.no_plots)
    for line in summary_lines(result.metrics):
        print(line)
    print(f"wrote {', '.join(sorted(p.name for p in written.values()))} to {out}")
    return 0
