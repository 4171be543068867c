"""Figures of the side-by-side demo report (matplotlib, Agg backend, no display needed).

Every function here takes plain arrays and dictionaries (never a model object or a file
path) and returns a :class:`ReportFigure`: a matplotlib figure with a title, labelled axes
(with units) and a one-line caption saying what to see. This module holds the training,
conversion and hardware figures; :mod:`neurosim.reporting.hidden_figures` those of the hidden
layer (rasters, subnetworks, sparsity). :mod:`neurosim.reporting.gallery` gathers their inputs
from the pipeline's outputs; colours come from :mod:`neurosim.reporting.palette`.

Conventions
-----------
* Models are keyed ``"dense"`` (same shape as sparse, no pruning, no gate), ``"sparse"``
  (pruned weights and gated hidden layer) and ``"small_dense"`` (the iso-compute baseline).
* Hidden activations ``h`` are the ANN's gated activations,
  ``h = relu(x @ W_enc.T + b_enc - theta)`` (see :mod:`neurosim.checkpoint`); a unit is
  *active* for an input when ``h > 0`` (ANN) or when it emits at least one spike (SNN).
* Time is in simulation steps of ``dt_s`` seconds; energies in joules, latencies in
  seconds; MSE is the mean squared pixel error with pixels scaled to [0, 1].
* Class x unit analysis (firing frequencies, unit order, Jaccard overlaps) is
  :mod:`neurosim.training.metrics`.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from neurosim.reporting.palette import CODING_COLORS, CODING_STYLES, MODEL_COLORS, MODEL_LABELS


@dataclass
class ReportFigure:
    """One figure of the report.

    ``key`` names the PNG file (``figures/<key>.png``); ``title`` is drawn on the figure
    and repeated as the HTML heading; ``caption`` is one line saying what to see.
    ``thumbnail_axes`` lists axes that show pixel-space images or raster panels whose
    axes are described by the figure's shared labels (``fig.supxlabel``/``supylabel``).
    """

    key: str
    title: str
    caption: str
    fig: Any
    section: str = ""
    thumbnail_axes: list = field(default_factory=list)

    def png(self, dpi: int = 100) -> bytes:
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
        return buf.getvalue()

    def close(self) -> None:
        import matplotlib.pyplot as plt

        plt.close(self.fig)


def _plt():
    import matplotlib

    if matplotlib.get_backend().lower() != "agg":
        try:
            matplotlib.use("Agg", force=True)
        except Exception:  # pragma: no cover - backend already fixed by a GUI session
            pass
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9, "figure.titlesize": 12,
        "axes.spines.top": False, "axes.spines.right": False, "legend.fontsize": 8,
        "legend.frameon": False, "figure.dpi": 100,
    })
    return plt


def _title(fig, title: str) -> None:
    fig.suptitle(title, fontweight="bold")


def _imgs(rows: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    return np.asarray(rows, dtype=float).reshape(-1, *shape)


# --------------------------------------------------------------------------- training


def training_curves(histories: dict[str, dict[str, list[float]]]) -> ReportFigure:
    """Loss per epoch for each model, train and test, on a log scale.

    ``histories[model]`` maps a curve name (``train_loss``, ``test_loss``, ``test_mse``...)
    to per-epoch values.
    """
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
    kinds = [("train", "training set"), ("test", "held-out test set")]
    for ax, (kind, label) in zip(axes, kinds):
        for model, hist in histories.items():
            curve = _pick_curve(hist, kind)
            if curve is None:
                continue
            ax.plot(np.arange(1, len(curve) + 1), curve, color=MODEL_COLORS.get(model), lw=1.8,
                    label=MODEL_LABELS.get(model, model))
        ax.set_yscale("log")
        ax.set_xlabel("epoch (passes over the training set)")
        ax.set_title(f"loss on the {label}")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("reconstruction loss (MSE, pixel² in [0,1])")
    axes[0].legend()
    title = "Training side by side: loss per epoch"
    _title(fig, title)
    fig.tight_layout()
    finals = [f"{MODEL_LABELS.get(m, m).split(' (')[0]} {_pick_curve(h, 'test')[-1]:.4f}"
              for m, h in histories.items() if _pick_curve(h, "test")]
    return ReportFigure("training_curves", title,
                        "All models see the same batches in the same order from one seed; final test MSE: "
                        + ", ".join(finals) + ".", fig, "training")


def _pick_curve(hist: dict[str, Any], kind: str) -> list[float] | None:
    if not isinstance(hist, dict):
        return None
    names = {"train": ("train_loss", "train_mse", "loss", "train"),
             "test": ("test_loss", "test_mse", "val_loss", "test", "val")}[kind]
    for name in names:
        value = hist.get(name)
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, float)) for v in value):
            return [float(v) for v in value]
    return None


def reconstructions(inputs: np.ndarray, outputs: dict[str, np.ndarray], image_shape: Sequence[int],
                    labels: np.ndarray, mse: dict[str, float] | None = None) -> ReportFigure:
    """The same test digits (one per class) and each model's reconstruction."""
    plt = _plt()
    rows = [("input", inputs)] + [(m, o) for m, o in outputs.items()]
    n = len(inputs)
    fig, axes = plt.subplots(len(rows), n, figsize=(0.8 * n + 1.6, 0.85 * len(rows) + 0.9), squeeze=False)
    for r, (name, images) in enumerate(rows):
        imgs = _imgs(images, image_shape)
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(imgs[c], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(True)
            ax.spines[:].set_color("0.8")
            if r == 0:
                ax.set_title(f"digit {int(labels[c])}", fontsize=8)
        label = "input" if name == "input" else MODEL_LABELS.get(name, name).replace(" (", "\n(")
        if mse and name in mse and mse[name] is not None:
            label += f"\nMSE {mse[name]:.4f}"
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    title = "Reconstructions of the same test digits"
    _title(fig, title)
    fig.supxlabel("one held-out test image per digit class (8x8 pixels, ink 0-1)", fontsize=8)
    fig.tight_layout()
    return ReportFigure("reconstructions", title,
                        "Top row: the inputs; below, what each model draws back. MSE is over the whole test set.",
                        fig, "training", thumbnail_axes=list(axes.flat))


# --------------------------------------------------------------------------- conversion


def fidelity_vs_timesteps(rows: list[dict[str, Any]], ann_mse: dict[str, float], ann_macs: dict[str, float]) -> ReportFigure:
    """MSE and synaptic operations per inference vs timesteps, both codings, dense and sparse.

    ``rows``: dicts with ``model``, ``coding``, ``timesteps``, ``mse_vs_input``,
    ``synaptic_ops_per_inference``.
    """
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.9))
    for model in ("dense", "sparse"):
        for coding in ("rate", "graded"):
            pts = sorted((r["timesteps"], r["mse_vs_input"], r["synaptic_ops_per_inference"]) for r in rows
                         if r["model"] == model and r["coding"] == coding and r.get("mse_vs_input") is not None)
            if not pts:
                continue
            t, mse, ops = (np.array(v, dtype=float) for v in zip(*pts))
            kw = dict(color=MODEL_COLORS[model], ls=CODING_STYLES[coding], marker="o" if coding == "rate" else "s",
                      ms=4, lw=1.6, label=f"{model} SNN, {coding} coding")
            axes[0].plot(t, mse, **kw)
            axes[1].plot(t, ops, **kw)
    for model, value in ann_mse.items():
        if value is not None and model in MODEL_COLORS:
            axes[0].axhline(value, color=MODEL_COLORS[model], ls=":", lw=1.2, label=f"{model} ANN")
    for model, value in ann_macs.items():
        if value is not None and model in MODEL_COLORS:
            axes[1].axhline(value, color=MODEL_COLORS[model], ls=":", lw=1.2,
                            label=f"{model} ANN MACs" + (" (effective)" if model == "sparse" else ""))
    ts = sorted({int(r["timesteps"]) for r in rows})
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ts)
        ax.set_xticklabels([str(t) for t in ts])
        ax.set_xlabel("timesteps T (simulation steps per inference)")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("reconstruction MSE vs input (pixel²)")
    axes[0].set_title("fidelity: spiking reconstruction error")
    axes[1].set_ylabel("synaptic operations per inference (count)")
    axes[1].set_title("cost: synaptic operations (all layers, input spikes included)")
    handles, labels = axes[0].get_legend_handles_labels()
    h2, l2 = axes[1].get_legend_handles_labels()
    for h, l in zip(h2, l2):
        if l not in labels:
            handles.append(h)
            labels.append(l)
    fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.01))
    title = "ANN-to-SNN conversion: fidelity and cost vs timesteps"
    _title(fig, title)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    caption = ("Rate coding approaches the ANN's error as T grows and pays for it in spikes; graded coding sends "
               "about one event per active neuron.")
    sparse_rate = sorted((r["timesteps"], r["mse_vs_input"]) for r in rows
                         if r["model"] == "sparse" and r["coding"] == "rate" and r.get("mse_vs_input") is not None)
    if sparse_rate and ann_mse.get("sparse"):
        t_last, mse_last = sparse_rate[-1]
        caption += (f" Sparse, rate, T={t_last}: MSE {mse_last / ann_mse['sparse']:.3f}x the ANN's.")
    return ReportFigure("fidelity_vs_timesteps", title, caption, fig, "conversion")


def backend_agreement(entries: list[dict[str, Any]]) -> ReportFigure:
    """Spike counts of other backends against the reference engine, one panel per backend.

    ``entries``: dicts with ``backend``, ``model``, ``coding``, ``samples``, ``timesteps``,
    ``counts_reference`` and ``counts_backend`` (spike counts over all (sample, neuron)
    pairs of the spiking layers; absent when the backend did not run), ``identical_fraction``,
    ``max_abs_diff``, ``synops_rel_diff`` and ``note``.
    """
    plt = _plt()
    backends = list(dict.fromkeys(e["backend"] for e in entries))
    fig, axes = plt.subplots(1, len(backends), figsize=(4.6 * len(backends) + 0.4, 4.2), squeeze=False,
                             layout="constrained")
    for ax, backend in zip(axes[0], backends):
        ax.set_title(f"{backend} vs reference engine")
        ax.set_xlabel("spike count per (sample, neuron), reference (spikes)")
        ax.set_ylabel(f"same, {backend} (spikes)")
        lines, top = [], 1
        for e in (e for e in entries if e["backend"] == backend):
            label = f"{e.get('model', '')} SNN, {e.get('coding', '')} coding"
            if e.get("counts_reference") is None:
                lines.append(f"{label}: not run ({e.get('note') or 'unavailable'})")
                continue
            ref, other = np.asarray(e["counts_reference"]), np.asarray(e["counts_backend"])
            pairs, mult = np.unique(np.stack([ref, other], axis=1), axis=0, return_counts=True)
            top = max(top, int(pairs.max()))
            ax.scatter(pairs[:, 0], pairs[:, 1], s=12 + 14 * np.log10(mult), alpha=0.75, lw=0,
                       color=CODING_COLORS.get(e.get("coding"), "0.4"),
                       marker="o" if e.get("coding") == "rate" else "s", label=label)
            lines.append(f"{label}, {e.get('samples')} digits x {e.get('timesteps')} steps: "
                         f"{e['identical_fraction'] * 100:.2f}% identical, max |diff| {e['max_abs_diff']}, "
                         f"synaptic ops {e['synops_rel_diff'] * 100:+.2f}%")
        ax.plot([0, top], [0, top], color="0.3", lw=0.8, ls=":", zorder=0, label="perfect agreement")
        ax.set_xlim(-0.5, top + 0.5)
        ax.set_ylim(-0.5, top + 0.5)
        ax.set_aspect("equal", adjustable="box")
        # the diagonal runs from the lower left to the upper right: legend and numbers go in the empty corners
        if any(e.get("counts_reference") is not None for e in entries if e["backend"] == backend):
            ax.legend(loc="lower right", fontsize=7)
        ax.text(0.03, 0.97, "\n".join(_wrap_all(lines, 46)), transform=ax.transAxes, ha="left", va="top",
                fontsize=6.5, bbox=dict(facecolor="white", alpha=0.9, lw=0))
    title = "Backend agreement: the same spiking network on independent simulators"
    _title(fig, title)
    return ReportFigure("backend_agreement", title,
                        "Every dot on the diagonal means Brian2 or Lava emitted exactly the reference engine's spike "
                        "count for that neuron and digit (dot area grows with how many pairs share it).",
                        fig, "conversion")


def _wrap_all(lines: list[str], width: int) -> list[str]:
    out = []
    for line in lines:
        out += _wrap(line, width)
    return out


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


# --------------------------------------------------------------------------- hardware


def energy_latency(entries: list[dict[str, Any]]) -> ReportFigure:
    """Energy per inference split into dynamic and static, in both modes, per profile and model;
    latency; the work each target pays for; and the energy sparsity saves, with intervals.

    Bars: median dynamic (solid) and static (hatched) energy stacked on a log axis; the black
    line through a bar is the 10-90 % interval of the total. ``entries``: rows of
    :func:`neurosim.reporting.tables.hardware_rows` (``profile``, ``label``, ``model``,
    ``modes`` with interval dicts ``{median, p10, p90}``, ``ops``, ``ops_kind``, and
    ``savings`` on sparse rows).
    """
    plt = _plt()
    from matplotlib.ticker import NullFormatter

    profiles = list(dict.fromkeys(e["profile"] for e in entries))
    models = list(dict.fromkeys(e["model"] for e in entries))
    fig, axes = plt.subplots(1, 5, figsize=(16, 0.45 * len(profiles) + 2.3), sharey=True,
                             gridspec_kw=dict(width_ratios=[1.25, 1.25, 1, 0.9, 1.1]), layout="constrained")
    height = 0.36 / max(len(models), 1)
    energies, lats, ops = [], [], []
    every = [v for e in entries for m in e["modes"].values() for v in (m["energy_total_j"]["p10"],
             m["energy_dynamic_j"]["median"], m["energy_static_j"]["median"]) if v > 0 and np.isfinite(v)]
    floor = min(every, default=1e-12) / 2.5  # bars start at the axis' left edge
    for k, model in enumerate(models):
        color = MODEL_COLORS.get(model, "0.5")
        marker = {"dense": "o", "sparse": "D"}.get(model, "s")
        for p, profile in enumerate(profiles):
            e = next((x for x in entries if x["profile"] == profile and x["model"] == model), None)
            if e is None:
                continue
            y = p + (k - (len(models) - 1) / 2) * height * 1.1
            for ax, mode in ((axes[0], "latency"), (axes[1], "throughput")):
                m = e["modes"][mode]
                dyn, stat, tot = m["energy_dynamic_j"]["median"], m["energy_static_j"]["median"], m["energy_total_j"]
                ax.barh(y, dyn - floor if dyn > floor else 0, left=floor, height=height, color=color,
                        label=f"{MODEL_LABELS.get(model, model)}: dynamic" if p == 0 and mode == "latency" else None)
                ax.barh(y, stat, left=max(dyn, floor), height=height, color="white", edgecolor=color, hatch="////",
                        lw=0.6, label=f"{MODEL_LABELS.get(model, model)}: static" if p == 0 and mode == "latency"
                        else None)
                ax.plot([tot["p10"], tot["p90"]], [y, y], color="0.1", lw=1.0)
                energies += [tot["p10"], tot["p90"]]
            lt = e["modes"]["latency"]["latency_s"]
            axes[2].plot([lt["p10"], lt["p90"]], [y, y], color=color, lw=2.2, alpha=0.45, solid_capstyle="butt")
            axes[2].plot([lt["median"]], [y], marker=marker, color=color, ms=6, ls="none")
            lats += [lt["p10"], lt["p90"]]
            if e.get("ops"):
                axes[3].plot([e["ops"]], [y], marker=marker, color=color, ms=6, ls="none")
                axes[3].annotate(e.get("ops_kind") or "", xy=(e["ops"], y), xytext=(4, 0),
                                 textcoords="offset points", va="center", fontsize=6.5, color="0.3")
                ops.append(e["ops"])
    ratios = []
    for p, profile in enumerate(profiles):
        s = next((x for x in entries if x["profile"] == profile and x["model"] == "sparse"), None)
        if not s or not s.get("savings"):
            continue
        for j, (mode, col) in enumerate((("latency", MODEL_COLORS.get("sparse", "C1")), ("throughput", "0.45"))):
            r = s["savings"][mode]["energy_total"]
            y = p + (j - 0.5) * 0.3
            axes[4].plot([r["p10"], r["p90"]], [y, y], color=col, lw=2.2, alpha=0.6, solid_capstyle="butt")
            axes[4].plot([r["median"]], [y], marker="|" if mode == "latency" else "x", color=col, ms=8, ls="none",
                         label=f"{mode} mode" if p == 0 else None)
            axes[4].annotate(f"{r['median']:.3g}x", xy=(r["p90"], y), xytext=(3, 0), textcoords="offset points",
                             va="center", fontsize=7)
            ratios += [r["p10"], r["p90"]]
    for ax, values in ((axes[0], energies + [floor * 2.5]), (axes[1], energies + [floor * 2.5]), (axes[2], lats),
                       (axes[3], ops)):
        ax.set_xscale("log")
        values = [v for v in values if v and v > 0 and np.isfinite(v)]
        if values:
            lo, hi = min(values) / 2.5, max(values) * 4
            if hi / lo < 100:
                mid = math.sqrt(lo * hi)
                lo, hi = mid / 10, mid * 10
            ax.set_xlim(lo, hi)
        ax.xaxis.set_minor_formatter(NullFormatter())
    axes[4].set_xscale("log")
    finite = [r for r in ratios if np.isfinite(r) and r > 0]
    axes[4].set_xlim(min(0.5, min(finite, default=1) / 1.5), max(10.0, max(finite, default=1) * 4))
    axes[4].axvline(1.0, color="0.3", lw=0.8)
    axes[4].xaxis.set_minor_formatter(NullFormatter())
    for ax in axes:
        ax.grid(alpha=0.3, axis="x", which="major")
        for p in range(len(profiles)):
            if p % 2 == 0:
                ax.axhspan(p - 0.5, p + 0.5, color="0.95", zorder=0)
    labels = {e["profile"]: e.get("label", e["profile"]) for e in entries}
    axes[0].set_yticks(range(len(profiles)))
    axes[0].set_yticklabels([labels[p] for p in profiles])
    axes[0].set_ylim(len(profiles) - 0.5, -0.5)
    axes[0].set_ylabel("hardware profile (what runs on it)")
    axes[0].set_xlabel("energy per inference (J)")
    axes[1].set_xlabel("energy per inference (J)")
    axes[2].set_xlabel("latency of one inference (s)")
    axes[3].set_xlabel("work paid for per inference (count)")
    axes[4].set_xlabel("dense ÷ sparse total energy (x)")
    axes[0].set_title("latency mode (one inference alone):\ndynamic + static, line: 10–90 % of total", fontsize=8.5)
    axes[1].set_title("throughput mode (hardware kept busy):\ndynamic + static, line: 10–90 % of total", fontsize=8.5)
    axes[2].set_title("latency (dot: median, line: 10–90 %)", fontsize=8.5)
    axes[3].set_title("synaptic ops (SNN) or MACs (ANN)", fontsize=8.5)
    axes[4].set_title("energy saved by sparsity, per draw", fontsize=8.5)
    if axes[4].get_legend_handles_labels()[0]:
        axes[4].legend(fontsize=7, loc="lower right")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=2 * len(models))
    title = "Energy and latency per inference on each hardware target (log scales)"
    _title(fig, title)
    return ReportFigure("energy_latency", title,
                        "Dense vs sparse on each target in both modes: solid = dynamic, hatched = static energy "
                        "(medians); the right panel is the saving with its 10–90 % interval, computed per "
                        "Monte-Carlo draw with the same hardware for both models (1x = none).", fig, "hardware")


def check_figure(rf: ReportFigure) -> list[str]:
    """Problems that break the report's figure rules (title, labelled axes, caption); [] if none.

    Every visible axis that draws data must carry an x and a y label unless it is one of
    ``rf.thumbnail_axes`` and the figure has a shared x or y label describing them.
    """
    problems = []
    if not rf.title.strip() or rf.fig._suptitle is None or not rf.fig._suptitle.get_text().strip():
        problems.append(f"{rf.key}: no title")
    if not rf.caption.strip() or "\n" in rf.caption:
        problems.append(f"{rf.key}: caption must be one non-empty line")
    shared = bool((rf.fig._supxlabel and rf.fig._supxlabel.get_text()) or
                  (rf.fig._supylabel and rf.fig._supylabel.get_text()))
    thumbs = {id(a) for a in rf.thumbnail_axes}
    colorbars = {id(a) for a in rf.fig.axes if a.get_label() == "<colorbar>"}
    if any(ax.get_visible() for ax in rf.thumbnail_axes) and not shared:
        problems.append(f"{rf.key}: image panels without a shared axis label")
    for ax in rf.fig.axes:
        if not ax.get_visible() or id(ax) in colorbars or id(ax) in thumbs:
            continue
        if not ax.get_xlabel().strip():
            problems.append(f"{rf.key}: an axis ('{ax.get_title()}') has no x label")
        if not ax.get_ylabel().strip() and not _shares_labelled_y(ax, rf.fig):
            problems.append(f"{rf.key}: an axis ('{ax.get_title()}') has no y label")
    return problems


def _shares_labelled_y(ax, fig) -> bool:
    siblings = ax.get_shared_y_axes().get_siblings(ax)
    return any(s is not ax and s.get_ylabel().strip() for s in siblings)


__all__ = [
    "ReportFigure", "training_curves", "reconstructions", "fidelity_vs_timesteps", "backend_agreement", "energy_latency",
    "check_figure",
]
