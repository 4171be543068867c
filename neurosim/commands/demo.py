"""``neurosim demo``: the whole pipeline on the embedded digits, one stage after another.

The demo is a list of stages (:data:`STAGES`). Each stage is a function
``stage(ctx: DemoContext) -> dict`` that reads what earlier stages left in ``ctx.results``,
writes its files under ``ctx.out / <stage name>``, prints a few lines for people and returns a
JSON-able summary, stored in ``ctx.results[<stage name>]`` and in ``DIR/demo.json``.
Later issues add stages (convert, simulate, report) by appending to :data:`STAGES`.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


@dataclass
class DemoContext:
    """What the stages share: the output folder, the CLI arguments and earlier results."""

    out: Path
    args: argparse.Namespace
    results: dict[str, Any] = field(default_factory=dict)
    #: in-memory objects for later stages (not written to demo.json)
    objects: dict[str, Any] = field(default_factory=dict)


def stage_train(ctx: DemoContext) -> dict[str, Any]:
    """Train dense, sparse and small dense autoencoders on digits with the defaults (DIR/train)."""
    from neurosim.training import TrainConfig, save_run, summary_lines, train

    config = TrainConfig(dataset="digits", seed=ctx.args.seed)
    result = train(config, progress=not ctx.args.quiet)
    run_dir = ctx.out / "train"
    save_run(result, run_dir)
    for line in summary_lines(result.metrics):
        print(line)
    ctx.objects["train_result"] = result
    m = result.metrics
    return {
        "dir": str(run_dir),
        "checkpoints": {k: str(run_dir / f"{k}.pt") for k in ("dense", "sparse", "small_dense")},
        "metrics": str(run_dir / "metrics.json"),
        "test_mse": {k: m[k]["test_mse"] for k in ("dense", "sparse", "small_dense")},
        "comparisons": m["comparisons"],
        "bars": m["bars"],
    }


#: (name, function) in pipeline order; later issues append their stages here
STAGES: list[tuple[str, Callable[[DemoContext], dict[str, Any]]]] = [
    ("train", stage_train),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo", help="run the whole pipeline on the embedded digits and write a report",
        description="Run the neurosim pipeline end to end on scikit-learn's bundled digits with the "
                    "default settings: " + ", ".join(name for name, _ in STAGES) + ". Each stage writes "
                    "into DIR/<stage>; DIR/demo.json summarises all of them.")
    p.add_argument("--out", metavar="DIR", default="results/demo", help="output folder (default results/demo)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from neurosim.commands.train import check_out_dir
    from neurosim.training import write_json

    out = check_out_dir(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(out=out, args=args)
    timings = {}
    t_all = time.perf_counter()
    for name, stage in STAGES:
        print(f"== demo stage: {name}")
        t0 = time.perf_counter()
        ctx.results[name] = stage(ctx)
        timings[name] = time.perf_counter() - t0
        print(f"== {name} done in {timings[name]:.1f} s")
    summary = {"stages": ctx.results, "wall_time_s": timings, "total_wall_time_s": time.perf_counter() - t_all}
    write_json(summary, out / "demo.json")
    print(f"demo finished in {summary['total_wall_time_s']:.1f} s; summary in {out / 'demo.json'}")
    return 0
