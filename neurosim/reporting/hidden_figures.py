"""Figures of the two kinds of sparsity in the hidden layer (matplotlib, Agg backend; conventions
as in :mod:`neurosim.reporting.figures`); spike rasters and the digit-specific subnetworks are in
:mod:`neurosim.reporting.subnetwork_figures`.

Every function takes plain arrays and dictionaries and returns a
:class:`~neurosim.reporting.figures.ReportFigure`.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from neurosim.reporting.figures import ReportFigure, _plt, _title
from neurosim.reporting.palette import MODEL_COLORS, MODEL_LABELS

#: a raster panel draws at most this many rows; more units are max-pooled in groups
MAX_RASTER_ROWS = 256


def _pool_rows(a: np.ndarray, group: int, reduce: str = "max") -> np.ndarray:
    """Max (or mean) over consecutive groups of ``group`` rows, so that no spike disappears
    when a raster has more units than the figure has pixel rows."""
    if group <= 1:
        return a
    n = a.shape[0]
    pad = (-n) % group
    if pad:
        a = np.concatenate([a, np.zeros((pad,) + a.shape[1:], dtype=a.dtype)])
    blocks = a.reshape(-1, group, *a.shape[1:])
    return blocks.max(axis=1) if reduce == "max" else blocks.mean(axis=1)


def weight_masks(layers: dict[str, dict[str, np.ndarray]], densities: dict[str, dict[str, float]],
                 order: np.ndarray | None = None, image_shape: Sequence[int] | None = None) -> ReportFigure:
    """Surviving synapses of the sparse model, where they are in pixel space, and weight
    density per layer for every model.

    ``layers[name]`` = ``{"mask": bool (d, H), "ylabel": str}`` in pixel x unit layout
    (the encoder transposed); the first layer's mask also gives the synapses kept per input
    pixel (drawn as an image when ``image_shape`` is given). ``densities[model][layer]`` =
    fraction of nonzero weights, layers named ``encoder`` and ``decoder``.
    """
    plt = _plt()
    from matplotlib import gridspec

    extra = image_shape is not None and layers
    ratios = [3] * len(layers) + ([1.25] if extra else []) + [1.9]
    fig = plt.figure(figsize=(13.5 if extra else 11.5, 3.9))
    gs = gridspec.GridSpec(1, len(ratios), figure=fig, width_ratios=ratios, wspace=0.38,
                           left=0.05, right=0.99, top=0.8, bottom=0.16)
    first_mask = None
    for i, (name, entry) in enumerate(layers.items()):
        ax = fig.add_subplot(gs[0, i])
        mask = np.asarray(entry["mask"], dtype=bool)
        if first_mask is None:
            first_mask = mask
        if order is not None:
            mask = mask[:, order]
        group = max(1, math.ceil(mask.shape[1] / MAX_RASTER_ROWS))
        shown = _pool_rows(mask.T.astype(float), group, reduce="mean").T
        ax.imshow(shown, aspect="auto", cmap="Greys", vmin=0, vmax=1, interpolation="nearest",
                  extent=(-0.5, mask.shape[1] - 0.5, mask.shape[0] - 0.5, -0.5))
        ax.set_title(f"{name}\n{mask.mean() * 100:.1f}% of {mask.size:,} synapses survive")
        ax.set_xlabel("hidden unit (same order as the class map)"
                      + (f", {group} per column" if group > 1 else ""))
        ax.set_ylabel(entry.get("ylabel", "pixel (row-major index)"))
    if extra:
        ax = fig.add_subplot(gs[0, len(layers)])
        per_pixel = first_mask.sum(axis=1).reshape(image_shape)
        im = ax.imshow(per_pixel, cmap="Greys", vmin=0, interpolation="nearest")
        ax.set_title("input synapses kept\nper pixel")
        ax.set_xlabel("pixel column")
        ax.set_ylabel("pixel row")
        cb = fig.colorbar(im, ax=ax, orientation="horizontal", fraction=0.08, pad=0.28)
        cb.set_label("synapses (count)", fontsize=7)
        cb.ax.tick_params(labelsize=6)
    ax = fig.add_subplot(gs[0, -1])
    models = list(densities)
    layer_names = [l for l in ("encoder", "decoder") if any(l in d for d in densities.values())]
    width = 0.8 / max(len(models), 1)
    for k, model in enumerate(models):
        vals = [densities[model].get(l, np.nan) for l in layer_names]
        xs = np.arange(len(layer_names)) + (k - (len(models) - 1) / 2) * width
        ax.bar(xs, vals, width, color=MODEL_COLORS.get(model), label=MODEL_LABELS.get(model, model).split(" (")[0])
        for x, v in zip(xs, vals):
            if np.isfinite(v):
                ax.text(x, v + 0.01, f"{v:.2f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(layer_names)))
    ax.set_xticklabels(layer_names)
    ax.set_ylim(0, 1.3)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel("layer")
    ax.set_ylabel("weight density (nonzero / all)")
    ax.set_title("weight density per layer")
    ax.legend(loc="upper center", ncol=len(models), fontsize=6.5, handlelength=1, columnspacing=0.8)
    title = "Static weight sparsity: which synapses the sparse model keeps"
    _title(fig, title)
    caption = ("Dark = surviving synapses of the sparse model (grey where a pixel column averages several units); "
               "units that never fire (right) keep few.")
    if extra:
        per_pixel = first_mask.sum(axis=1).reshape(image_shape)
        border = np.ones(tuple(image_shape), dtype=bool)
        border[1:-1, 1:-1] = False
        caption += (f" Pixels on the image border keep {per_pixel[border].mean():.1f} input synapses on average, "
                    f"inner pixels {per_pixel[~border].mean():.1f}: pruning spends synapses where digits have ink.")
    return ReportFigure("weight_masks", title, caption, fig, "sparsity")


def activation_density(classes: Sequence[int], series: dict[str, np.ndarray], target: float | None = None) -> ReportFigure:
    """Fraction of hidden units active per input, averaged within each digit class.

    ``series[label]`` (n_classes,) values; labels like ``"sparse ANN"``, ``"sparse SNN"``.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 3.4))
    labels = list(series)
    width = 0.8 / max(len(labels), 1)
    for k, label in enumerate(labels):
        model = "sparse" if label.startswith("sparse") else "small_dense" if label.startswith("small") else "dense"
        snn = "SNN" in label
        xs = np.arange(len(classes)) + (k - (len(labels) - 1) / 2) * width
        ax.bar(xs, series[label], width, color=MODEL_COLORS[model], alpha=0.55 if snn else 1.0,
               hatch="//" if snn else None, edgecolor="white" if not snn else MODEL_COLORS[model], label=label)
    if target is not None:
        ax.axhline(target, color="black", ls=":", lw=1)
        ax.text(len(classes) - 0.5, target, f" target ≤ {target:.2f}", va="bottom", ha="right", fontsize=8)
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels([str(c) for c in classes])
    ax.set_xlabel("digit class")
    ax.set_ylabel("active hidden units (fraction per input)")
    ax.set_ylim(0, 1.05)
    ax.legend(ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    title = "Dynamic activity sparsity: hidden units active per input, by digit"
    _title(fig, title)
    fig.tight_layout()
    means = "; ".join(f"{k} {np.mean(v) * 100:.0f}%" for k, v in series.items())
    return ReportFigure("activation_density", title,
                        f"Mean fraction of hidden units active per input: {means}. Hatched: spiking network "
                        "(units with at least one spike), solid: the ANN (units with h > 0).", fig, "sparsity")




__all__ = ["MAX_RASTER_ROWS", "weight_masks", "activation_density"]
