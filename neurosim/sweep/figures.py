"""The sweep's figures, from its tidy rows (:mod:`neurosim.sweep.results`).

* :func:`mse_vs_energy`: reconstruction MSE vs energy per inference, one panel per target (and
  code), the Pareto front marked, for one operating mode;
* :func:`mse_vs_synops`: MSE vs synaptic operations (SNN) or effective MACs (ANN) per inference;
* :func:`saving_heatmaps`: per target, ``E_dense / E_point`` over the grid (weight sparsity x
  activity target) on a log colour scale, with the break-even contour ``E_point = E_dense``;
* :func:`break_even_plot`: per neuromorphic target, the saving vs events per synapse (synaptic
  operations per inference / synapses of the dense network, which does one MAC per synapse),
  the break-even line at 1 and the fitted crossing.

Every function returns a :class:`matplotlib.figure.Figure`; :func:`write_figures` saves them all.
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from neurosim.fileio import write_atomic
from neurosim.reporting.palette import CODING_COLORS, MODEL_COLORS
from neurosim.sweep.results import break_even, frontier_groups, pareto_front

#: activity target -> marker of the scatter plots
_MARKERS = "os^Dv<>ph*"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _title(group: tuple[str, str, int | None]) -> str:
    profile, coding, t = group
    what = "ANN" if coding == "ann" else (f"SNN rate T={t}" if coding == "rate" else "SNN graded")
    return f"{profile} ({what})"


def _panels(n: int, width: float = 3.6, height: float = 3.0, constrained: bool = False):
    plt = _plt()
    cols = min(4, max(n, 1))
    rows = math.ceil(max(n, 1) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False,
                             layout="constrained" if constrained else None)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def _grid_values(rows: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    ws = sorted({r["weight_sparsity"] for r in rows if r["model"] == "sparse"})
    act = sorted({r["activity_target"] for r in rows if r["model"] == "sparse"}, reverse=True)
    return ws, act


def _style(rows: list[dict[str, Any]]):
    """weight sparsity -> colour, activity target -> marker."""
    plt = _plt()
    ws, act = _grid_values(rows)
    cmap = plt.get_cmap("viridis")
    colors = {s: cmap(i / max(len(ws) - 1, 1)) for i, s in enumerate(ws)}
    markers = {a: _MARKERS[i % len(_MARKERS)] for i, a in enumerate(act)}
    return colors, markers


def _legend(fig, rows: list[dict[str, Any]]) -> None:
    from matplotlib.lines import Line2D

    colors, markers = _style(rows)
    handles = [Line2D([], [], ls="", marker="o", color=c, label=f"weight sparsity {s:g}") for s, c in colors.items()]
    handles += [Line2D([], [], ls="", marker=m, color="0.4", label=f"activity target {a:g}")
                for a, m in markers.items()]
    handles += [Line2D([], [], ls="", marker="*", ms=12, color=MODEL_COLORS["dense"], label="dense ANN"),
                Line2D([], [], ls="-", color="k", label="Pareto front")]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 7), fontsize=8, frameon=False)


def _log_axis(ax, values: list[float], axis: str = "x") -> None:
    """Log scale when the values span a decade or more, else linear in scientific notation."""
    v = [x for x in values if x and x > 0]
    log = bool(v) and max(v) / min(v) >= 10
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log" if log else "linear")
    if not log:
        ax.ticklabel_format(axis=axis, style="sci", scilimits=(0, 0))


def _dense_for(rows: list[dict[str, Any]], group: tuple[str, str, int | None], mode: str) -> list[dict[str, Any]]:
    """The dense ANN's row on the panel's target and mode (in the code it runs there)."""
    found = [r for r in rows if r["model"] == "dense" and r.get("profile") == group[0] and r.get("mode") == mode]
    same = [r for r in found if r["coding"] == group[1] and r["timesteps"] == group[2]]
    return same or found[:1]


def mse_vs_energy(rows: list[dict[str, Any]], mode: str = "latency"):
    """MSE vs energy per inference, one panel per (target, code); Pareto front as a line."""
    groups = frontier_groups([r for r in rows if r.get("mode") == mode])
    fig, axes = _panels(len(groups))
    colors, markers = _style(rows)
    for ax, (group, rs) in zip(axes, sorted(groups.items(), key=lambda kv: str(kv[0]))):
        rs = [r for r in rs if r["model"] == "sparse"] + _dense_for(rows, group, mode)
        sparse = [r for r in rs if r["model"] == "sparse"]
        for r in sparse:
            ax.scatter(r["energy_j"], r["mse"], color=colors[r["weight_sparsity"]],
                       marker=markers[r["activity_target"]], s=28, alpha=0.9, linewidths=0)
        for r in rs:
            if r["model"] == "dense":
                ax.scatter(r["energy_j"], r["mse"], marker="*", s=160, color=MODEL_COLORS["dense"], zorder=3)
        if sparse:
            e = np.array([r["energy_j"] for r in sparse] + [r["energy_j"] for r in rs if r["model"] == "dense"])
            m = np.array([r["mse"] for r in sparse] + [r["mse"] for r in rs if r["model"] == "dense"])
            f = pareto_front(e, m)
            ax.plot(e[f], m[f], "k-", lw=1, zorder=2)
        _log_axis(ax, [r["energy_j"] for r in rs])
        ax.set_yscale("log")
        ax.set_title(_title(group), fontsize=9)
        ax.set_xlabel("energy per inference (J)", fontsize=8)
        ax.set_ylabel("reconstruction MSE", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"MSE vs energy per inference, {mode} mode", fontsize=11)
    _legend(fig, rows)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    return fig


def mse_vs_synops(rows: list[dict[str, Any]]):
    """MSE vs work per inference: synaptic ops of each simulated code, effective MACs of the ANN."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    seen = set()
    series: dict[str, list[tuple[float, float, str]]] = {}
    for r in rows:
        if r["status"] != "done" or not r.get("profile"):
            continue
        for label, x, y in ((f"SNN {r['coding']}" + (f" T={r['timesteps']}" if r["coding"] == "rate" else ""),
                             r["synaptic_ops_per_inference"], r["mse"]) if r["coding"] != "ann" else
                            ("ANN (effective MACs)", r["macs_per_inference"], r["ann_mse"]),):
            key = (r["point"], label)
            if key not in seen:
                seen.add(key)
                series.setdefault(label, []).append((x, y, r["model"]))
    styles = {"ANN (effective MACs)": "0.25"}
    for label, pts in sorted(series.items()):
        color = styles.get(label) or CODING_COLORS.get("graded" if "graded" in label else "rate")
        xs = [p[0] for p in pts if p[2] == "sparse"]
        ys = [p[1] for p in pts if p[2] == "sparse"]
        ax.scatter(xs, ys, s=22, color=color, alpha=0.8, label=label,
                   marker="o" if "ANN" in label else ("s" if "graded" in label else "^"))
        for x, y, model in pts:
            if model == "dense":
                ax.scatter(x, y, marker="*", s=200, color=color, edgecolors="k", zorder=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("synaptic operations (SNN) or effective MACs (ANN) per inference")
    ax.set_ylabel("reconstruction MSE")
    ax.set_title("MSE vs work per inference (stars: the dense model)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def saving_heatmaps(rows: list[dict[str, Any]], mode: str = "latency"):
    """Per (target, code): ``E_dense / E_point`` over the grid; the black line is break-even."""
    from matplotlib.colors import TwoSlopeNorm

    groups = frontier_groups([r for r in rows if r.get("mode") == mode])
    ws, act = _grid_values(rows)
    fig, axes = _panels(len(groups), 3.6, 3.4, constrained=True)
    span = 1.0
    grids = {}
    for group, rs in groups.items():
        g = np.full((len(ws), len(act)), np.nan)
        for r in rs:
            if r["model"] == "sparse" and r.get("saving_vs_dense"):
                g[ws.index(r["weight_sparsity"]), act.index(r["activity_target"])] = math.log10(r["saving_vs_dense"])
        grids[group] = g
        if np.isfinite(g).any():
            span = max(span, float(np.nanmax(np.abs(g))))
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-span, vmax=span)
    image = None
    for ax, group in zip(axes, sorted(groups, key=str)):
        g = grids[group]
        image = ax.imshow(g, cmap="RdBu", norm=norm, origin="lower", aspect="auto")
        for i in range(len(ws)):
            for j in range(len(act)):
                if np.isfinite(g[i, j]):
                    ax.text(j, i, f"{10 ** g[i, j]:.2g}", ha="center", va="center", fontsize=6,
                            color="k" if abs(g[i, j]) < 0.6 * span else "w")
        if np.isfinite(g).all() and g.min() < 0 < g.max() and min(g.shape) > 1:
            ax.contour(np.arange(len(act)), np.arange(len(ws)), g, levels=[0.0], colors="k", linewidths=1.5)
        ax.set_xticks(range(len(act)), [f"{a:g}" for a in act], fontsize=7)
        ax.set_yticks(range(len(ws)), [f"{s:g}" for s in ws], fontsize=7)
        ax.set_xlabel("activity target", fontsize=8)
        ax.set_ylabel("weight sparsity", fontsize=8)
        ax.set_title(_title(group), fontsize=9)
    if image is not None:
        cb = fig.colorbar(image, ax=[a for a in axes if a.get_visible()], shrink=0.8)
        cb.set_label("log10 (E dense ANN / E point); > 0: the point saves", fontsize=8)
    fig.suptitle(f"Energy saved vs the dense ANN on the same target, {mode} mode "
                 "(black line: break-even)", fontsize=11)
    return fig


def break_even_plot(rows: list[dict[str, Any]], mode: str = "latency"):
    """Neuromorphic targets: saving vs events per synapse; break-even at 1 and its fitted crossing."""
    groups = {g: rs for g, rs in frontier_groups([r for r in rows if r.get("mode") == mode]).items()
              if rs[0]["kind"] == "neuromorphic"}
    crossings = {(b["profile"], b["coding"], b["timesteps"]): b for b in break_even(rows) if b["mode"] == mode}
    fig, axes = _panels(len(groups))
    colors, markers = _style(rows)
    for ax, (group, rs) in zip(axes, sorted(groups.items(), key=lambda kv: str(kv[0]))):
        for r in rs:
            if r["model"] == "sparse" and r.get("saving_vs_dense"):
                ax.scatter(r["events_per_dense_synapse"], r["saving_vs_dense"], color=colors[r["weight_sparsity"]],
                           marker=markers[r["activity_target"]], s=28, linewidths=0)
        ax.axhline(1.0, color="k", lw=1)
        _log_axis(ax, [r["saving_vs_dense"] for r in rs if r.get("saving_vs_dense")] + [1.0], "y")
        ax.axvspan(1.0, 2.0, color="0.85", zorder=0, label="1-2 events/synapse")
        b = crossings.get(group)
        if b and b["events_per_synapse_at_break_even"]:
            ax.axvline(b["events_per_synapse_at_break_even"], color="C3", ls="--", lw=1,
                       label=f"fitted break-even {b['events_per_synapse_at_break_even']:.2g}")
        ax.set_xscale("log")
        ax.set_title(_title(group), fontsize=9)
        ax.set_xlabel("synaptic events per dense-network synapse per inference", fontsize=8)
        ax.set_ylabel("E dense ANN / E point", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    fig.suptitle(f"Where the spiking network stops beating the dense ANN on the same chip, {mode} mode", fontsize=11)
    _legend(fig, rows)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    return fig


def figure_set(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """File stem -> figure, every figure of a sweep."""
    figs = {"mse_vs_synops": mse_vs_synops(rows)}
    for mode in ("latency", "throughput"):
        figs[f"mse_vs_energy_{mode}"] = mse_vs_energy(rows, mode)
        figs[f"saving_heatmap_{mode}"] = saving_heatmaps(rows, mode)
        figs[f"break_even_{mode}"] = break_even_plot(rows, mode)
    return figs


def png_bytes(fig, dpi: int = 90) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    _plt().close(fig)
    return buf.getvalue()


def write_figures(rows: list[dict[str, Any]], folder: str | Path, dpi: int = 90) -> dict[str, Path]:
    """Save :func:`figure_set` as PNG files in ``folder``; return stem -> path."""
    folder = Path(folder)
    return {stem: write_atomic(folder / f"{stem}.png", png_bytes(fig, dpi)) for stem, fig in figure_set(rows).items()}


def report_figures(sweep_dir: str | Path) -> list[Any]:
    """The sweep's figures as demo-report figures (``neurosim demo --sweep DIR``), hardware section.

    Raises :class:`~neurosim.errors.NeurosimError` when ``sweep_dir`` holds no finished sweep.
    """
    from neurosim.reporting.figures import ReportFigure
    from neurosim.sweep import sweep_figures
    from neurosim.sweep.page import CAPTIONS

    titles = {"mse_vs_synops": "Sweep: MSE vs work per inference",
              "mse_vs_energy_latency": "Sweep: MSE vs energy per inference (latency mode)",
              "mse_vs_energy_throughput": "Sweep: MSE vs energy per inference (throughput mode)",
              "saving_heatmap_latency": "Sweep: energy saved vs the dense ANN (latency mode)",
              "saving_heatmap_throughput": "Sweep: energy saved vs the dense ANN (throughput mode)",
              "break_even_latency": "Sweep: break-even vs events per synapse (latency mode)",
              "break_even_throughput": "Sweep: break-even vs events per synapse (throughput mode)"}
    return [ReportFigure(f"sweep_{stem}", titles.get(stem, stem), CAPTIONS.get(stem, stem), fig, section="hardware")
            for stem, fig in sweep_figures(sweep_dir).items()]
