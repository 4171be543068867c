"""``neurosim report ACT [ACT ...] --profile loihi2 [--profile ...|all] --format text|json|md|html``.

Estimates energy and latency per inference of each activity record on each hardware
profile and prints the report (or writes it with ``-o FILE``). The JSON list of estimates is
always written too: beside ``-o FILE`` (same stem, ``.json``), else beside the first record
(``<record>.report.json``), or where ``--json`` says.

An ``ACT`` may also be a NIR file (neurosim's or another tool's, e.g. snnTorch's): it is simulated
on the reference engine first, on the samples the ``simulate`` options pick (``--dataset``,
``--inputs``, ``--samples``, ``--timesteps``, ``--dt``; see ``neurosim simulate``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurosim.errors import ValidationError
from neurosim.reporting.energy_report import FORMATS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="energy and latency report of an activity record on hardware profiles",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("records", nargs="+", metavar="ACT",
                   help="activity record(s): NAME, NAME.json or NAME.npz (e.g. the dense and the sparse run)")
    p.add_argument("--profile", "-p", action="append", default=None, metavar="NAME|PATH",
                   help="hardware profile name or TOML path; repeat for several, 'all' for every bundled one "
                        "(default: all)")
    p.add_argument("--format", "-f", choices=FORMATS, default="text", help="report format (default: text)")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="write the report to FILE instead of printing it (default: print)")
    p.add_argument("--json", metavar="FILE", default=None,
                   help="where to write the JSON estimates (default: beside -o FILE, else beside the first record)")
    p.add_argument("--batch-size", type=int, default=64, metavar="N",
                   help="batch of the throughput mode on GPUs and CPUs (the latency mode is batch 1; default: 64)")
    p.add_argument("--deployment", choices=("bare", "host_driven"), default="bare",
                   help="bare hardware, or host-driven: a framework call per batch on GPUs/CPUs and host I/O every "
                        "timestep on neuromorphic chips, where the profile states those figures (default: bare)")
    p.add_argument("--draws", type=int, default=4000, metavar="N",
                   help="Monte-Carlo draws of the profiles' uncertain figures (default: 4000)")
    p.add_argument("--draw-seed", type=int, default=0, metavar="N",
                   help="seed of the Monte-Carlo draws of the profiles' figures (default: 0)")
    p.add_argument("--strict", action="store_true",
                   help="fail (exit 2) when a network does not fit a profile instead of flagging it "
                        "(default: flag it and estimate anyway)")
    from neurosim.commands.simulate import add_input_options

    group = p.add_argument_group("when an ACT is a NIR file (simulated on the reference engine first)")
    add_input_options(group)
    p.set_defaults(func=run)


def is_nir_file(path: str) -> bool:
    """A NIR file is HDF5: true when ``path`` is a file that starts with the HDF5 signature."""
    try:
        with open(path, "rb") as f:
            return f.read(8) == b"\x89HDF\r\n\x1a\n"
    except OSError:
        return False


def _stem(path: str | Path) -> Path:
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".json", ".npz", ".nir") else path


def default_json_path(records: list[str], output: str | None, fmt: str) -> Path:
    """Beside ``-o FILE`` (``FILE.json``), else ``<first record>.report.json``; never a record's own file."""
    taken = {_stem(r).with_suffix(".json").resolve() for r in records}
    if output:
        out = Path(output)
        candidate = out if fmt == "json" else out.with_suffix(".json")
        if candidate.resolve() not in taken:
            return candidate
        return out.with_name(out.stem + ".report.json")
    stem = _stem(records[0])
    return stem.with_name(stem.name + ".report.json")


def run(args: argparse.Namespace) -> int:
    from neurosim.fileio import write_atomic
    from neurosim.hardware.profile import load_profiles
    from neurosim.metrics import label_estimates
    from neurosim.pipeline import estimate, load_record, report
    from neurosim.results import Estimates

    from neurosim.commands.simulate import record_from_args

    profiles = load_profiles(args.profile or ["all"])
    records = [record_from_args(r, args) if is_nir_file(r) else load_record(r) for r in args.records]
    estimates = Estimates([e for rec, src in zip(records, args.records)
                           for e in estimate(rec, profiles, strict=args.strict, source=str(src),
                                             batch_size=args.batch_size, draws=args.draws, seed=args.draw_seed,
                                             deployment=args.deployment)])
    label_estimates(estimates, records, args.records)  # the NeuroBench-named metrics of each record
    text = report(estimates, args.format)
    json_path = Path(args.json) if args.json else default_json_path(args.records, args.output, args.format)
    protected = {_stem(r).with_suffix(sfx).resolve() for r in args.records for sfx in (".json", ".npz")}
    for target in filter(None, (args.output, json_path)):
        if Path(target).resolve() in protected:
            raise ValidationError(f"{target}: would overwrite an input activity record; choose another path")
    if args.output:
        write_atomic(args.output, text)
        print(f"report written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if not (args.output and args.format == "json" and Path(args.output) == json_path):
        estimates.save(json_path)
        print(f"JSON estimates written to {json_path}", file=sys.stderr)
    return 0

