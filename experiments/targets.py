"""Compare measurements (a metrics.json, a summary JSON) with a section of experiments/targets.toml.

Usage::

    python experiments/targets.py RUN/metrics.json training.digits

prints one line per target (measured value, limit, met or missed, the reason) and exits 1 when
a target is missed. Experiment scripts import :func:`check` and :func:`load_section`.
"""
from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

TARGETS_FILE = Path(__file__).resolve().with_name("targets.toml")


def load_section(section: str, path: str | Path = TARGETS_FILE) -> dict[str, dict[str, Any]]:
    """The targets of one dotted section (``"training.digits"``): name -> table.

    Raises
    ------
    KeyError
        The section does not exist.
    ValueError
        A target lacks ``metric`` or ``reason``, or has neither or both of ``min`` and ``max``.
    """
    table: Any = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    for part in section.split("."):
        if not isinstance(table, dict) or part not in table:
            raise KeyError(f"{path}: no section [{section}]")
        table = table[part]
    for name, target in table.items():
        if not {"metric", "reason"} <= set(target) or ("min" in target) == ("max" in target):
            raise ValueError(f"{path}: [{section}.{name}] needs metric, reason and exactly one of min / max")
    return table


def measured(values: dict[str, Any], metric: str) -> float:
    """The value at dotted path ``metric`` in ``values``."""
    node: Any = values
    for part in metric.split("."):
        node = node[part]
    return float(node)


def check(values: dict[str, Any], targets: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per target: ``name``, ``metric``, ``value``, ``op`` (``<=`` or ``>=``), ``limit``,
    ``met`` and ``reason``."""
    rows = []
    for name, t in targets.items():
        value = measured(values, t["metric"])
        op, limit = ("<=", float(t["max"])) if "max" in t else (">=", float(t["min"]))
        met = value <= limit if op == "<=" else value >= limit
        rows.append({"name": name, "metric": t["metric"], "value": value, "op": op, "limit": limit,
                     "met": bool(met), "reason": t["reason"]})
    return rows


def format_rows(rows: list[dict[str, Any]]) -> list[str]:
    """Human lines: ``[met] metric = value (target <= limit)``."""
    return [f"  [{'met' if r['met'] else 'MISSED'}] {r['metric']} = {r['value']:.4g} (target {r['op']} {r['limit']:g})"
            for r in rows]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("measurements", help="JSON file of measurements, e.g. RUN/metrics.json")
    p.add_argument("section", help="dotted section of targets.toml, e.g. training.digits")
    args = p.parse_args(argv)
    rows = check(json.loads(Path(args.measurements).read_text()), load_section(args.section))
    for line, row in zip(format_rows(rows), rows):
        print(f"{line}: {row['reason']}")
    return 0 if all(r["met"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
