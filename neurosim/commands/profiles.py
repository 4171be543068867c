"""``neurosim profiles``: the hardware targets, every figure with its source and confidence.

Prints each bundled profile (or the ones named with ``--profile``, names or TOML paths);
``-o FILE`` also writes the listing as JSON (nothing is written without it). ``--brief``
prints one line per profile.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("profiles", help="list hardware profiles and their sources",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", "-p", action="append", default=None, metavar="NAME|PATH",
                   help="show only these profiles (repeatable; default: all bundled ones)")
    p.add_argument("--format", "-f", choices=("text", "json"), default="text",
                   help="printed format (default %(default)s)")
    p.add_argument("--brief", action="store_true", help="one line per profile (default: every figure)")
    p.add_argument("-o", "--out", "--json", dest="out", metavar="FILE", default=None,
                   help="also write the JSON listing to FILE (default: write nothing)")
    p.set_defaults(func=run)


def _value(fig: dict) -> str:
    from neurosim.reporting.energy_report import si

    unit = fig.get("unit", "")
    if "value" in fig:
        v = fig["value"]
        if isinstance(v, bool):
            return "yes" if v else "no"
        return si(v, unit) if unit in ("J", "W", "s", "B", "FLOP/s", "B/s") else f"{v:g} {unit}".strip()
    fmt = (lambda x: si(x, unit)) if unit in ("J", "W", "s", "B", "FLOP/s", "B/s") else (lambda x: f"{x:g}")
    bounds = "10-90 %" if fig.get("distribution") == "lognormal" else "bounds"
    return f"{fmt(fig['typical'])} [{fmt(fig['low'])} - {fmt(fig['high'])}] ({fig.get('distribution')}, {bounds})"


def format_profiles(summaries: list[dict], brief: bool) -> str:
    out = []
    for s in summaries:
        conf: dict[str, int] = {}
        for f in s["figures"]:
            conf[f["confidence"]] = conf.get(f["confidence"], 0) + 1
        labels = ", ".join(f"{k} {v}" for k, v in sorted(conf.items()))
        out.append(f"{s['name']:15s} {s['kind']:13s} {s['title']}  [{len(s['figures'])} figures: {labels}]")
        if brief:
            continue
        out.append(f"    {s['description']}")
        for f in s["figures"]:
            out.append(f"    {f['key']} = {_value(f)}  ({f['confidence']})")
            out.append(f"        source: {f['source']}")
            if f.get("derivation"):
                out.append(f"        derivation: {f['derivation']}")
        for note in s.get("notes", []):
            out.append(f"    note: {note}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def run(args: argparse.Namespace) -> int:
    from neurosim.hardware import load_profiles
    from neurosim.fileio import json_default, write_atomic

    summaries = [p.summary() for p in load_profiles(args.profile or ["all"])]
    text = json.dumps(summaries, indent=2, default=json_default) + "\n"
    sys.stdout.write(text if args.format == "json" else format_profiles(summaries, args.brief))
    if args.out:
        write_atomic(Path(args.out), text)
        print(f"JSON listing written to {args.out}", file=sys.stderr)
    return 0
