"""The sparsity frontier: a grid of weight sparsity x activity target, each point trained,
converted, simulated and estimated on every hardware profile, on a Dask cluster.

::

    config = read_sweep_config("experiments/sweep_digits.toml")   # or SweepConfig(...)
    run_sweep(config, "results/sweep")      # points/<key>.json, resumable
    write_outputs("results/sweep")          # sweep.csv, sweep.json, figures/*.png, sweep.html

Modules: :mod:`~neurosim.sweep.grid` (settings and checks), :mod:`~neurosim.sweep.run`
(points on the cluster), :mod:`~neurosim.sweep.results` (the tidy table),
:mod:`~neurosim.sweep.figures`, :mod:`~neurosim.sweep.page` (the HTML page).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neurosim.sweep.grid import Point, SweepConfig, config_from_mapping, read_sweep_config
from neurosim.sweep.run import load_points, run_point, run_sweep

__all__ = ["Point", "SweepConfig", "config_from_mapping", "read_sweep_config", "run_point", "run_sweep",
           "load_points", "write_outputs", "sweep_figures"]


def write_outputs(out: str | Path, *, figures: bool = True) -> dict[str, Path]:
    """Write ``sweep.csv``, ``sweep.json``, ``figures/*.png`` and ``sweep.html`` of a sweep folder
    from its stored points; return name -> path."""
    from neurosim.sweep.results import write_results

    out = Path(out)
    config = read_sweep_config(out / "sweep.toml")
    written = write_results(out, load_points(out), config.to_dict())
    if figures:
        from neurosim.sweep.figures import figure_set, png_bytes
        from neurosim.fileio import write_atomic
        from neurosim.sweep.page import write_page

        results = json.loads(written["json"].read_text())
        pngs = {stem: png_bytes(fig) for stem, fig in figure_set(results["rows"]).items()}
        for stem, png in pngs.items():
            written[stem] = write_atomic(out / "figures" / f"{stem}.png", png)
        written["html"] = write_page(out / "sweep.html", results, pngs)
    return written


def sweep_figures(out: str | Path) -> dict[str, Any]:
    """Stem -> matplotlib figure of a finished sweep folder (read from its ``sweep.json``)."""
    from neurosim.errors import NeurosimError
    from neurosim.sweep.figures import figure_set

    path = Path(out) / "sweep.json"
    try:
        results = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NeurosimError(f"{path}: not a finished sweep ({type(exc).__name__})") from None
    if not isinstance(results, dict) or results.get("format") != "neurosim.sweep":
        raise NeurosimError(f"{path}: not a sweep results file")
    return figure_set(results["rows"])
