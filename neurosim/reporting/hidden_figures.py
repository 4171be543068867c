"""Figures of what the hidden layer does: spike rasters, digit-specific subnetworks, and the
two kinds of sparsity (matplotlib, Agg backend; conventions as in :mod:`neurosim.reporting.figures`).

Every function takes plain arrays and dictionaries and returns a
:class:`~neurosim.reporting.figures.ReportFigure`.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from neurosim.defaults import DT_S
from neurosim.mathutil import sigmoid
from neurosim.reporting.figures import ReportFigure, _imgs, _plt, _title
from neurosim.training.metrics import mean_offdiag
from neurosim.reporting.palette import MODEL_COLORS, MODEL_LABELS

#: a raster panel draws at most this many rows; more units are max-pooled in groups
MAX_RASTER_ROWS = 256


def activity_rasters(examples: np.ndarray, labels: np.ndarray, image_shape: Sequence[int],
                     spikes: dict[str, np.ndarray | None], ann_hidden: dict[str, np.ndarray],
                     orders: dict[str, tuple[np.ndarray, int]], dt_s: float = DT_S,
                     coding: str = "rate") -> ReportFigure:
    """Hidden-layer spike rasters for one example per digit, beside the ANN's gated activations.

    One column per digit; rows: the input image, then per model a raster (time on x, hidden
    units on y, ordered as in the class map, units that never fire on the test set left
    out) and a thin strip with the ANN's gated activation ``h`` of the same units.
    ``spikes[model]`` is ``(n_examples, T, H)`` 0/1 (None when no simulation ran),
    ``ann_hidden[model]`` ``(n_examples, H)``, ``orders[model]`` = ``(order, n_silent)``
    from :func:`unit_order`.
    """
    plt = _plt()
    from matplotlib import gridspec

    models = [m for m in ("dense", "sparse") if m in ann_hidden]
    n = len(examples)
    fig = plt.figure(figsize=(1.22 * n + 1.3, 1.3 + 2.9 * len(models)))
    outer = gridspec.GridSpec(1, n, figure=fig, wspace=0.16, left=0.075, right=0.995, top=0.9, bottom=0.1)
    imgs = _imgs(examples, image_shape)
    thumbs = []
    for c in range(n):
        inner = gridspec.GridSpecFromSubplotSpec(1 + len(models), 2, subplot_spec=outer[c],
                                                 height_ratios=[0.9] + [2.9] * len(models),
                                                 width_ratios=[1, 0.16], wspace=0.06, hspace=0.22)
        ax = fig.add_subplot(inner[0, :])
        ax.imshow(imgs[c], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"digit {int(labels[c])}", fontsize=9, fontweight="bold")
        ax.spines[:].set_visible(False)
        thumbs.append(ax)
        for r, model in enumerate(models):
            order, silent = orders[model]
            shown = order[: len(order) - silent] if silent < len(order) else order
            group = max(1, math.ceil(len(shown) / MAX_RASTER_ROWS))
            h = _pool_rows(np.asarray(ann_hidden[model][c])[shown][:, None], group)
            vmax = float(np.percentile(ann_hidden[model][ann_hidden[model] > 0], 99)) \
                if np.any(ann_hidden[model] > 0) else 1.0
            ax_r = fig.add_subplot(inner[1 + r, 0])
            train = spikes.get(model)
            if train is not None:
                sp = np.asarray(train[c])[:, shown].T  # (units, T)
                steps = sp.shape[1]
                active = int((sp.sum(axis=1) > 0).sum())
                ax_r.imshow(_pool_rows(sp, group), aspect="auto", cmap="Greys", vmin=0, vmax=1,
                            interpolation="nearest", extent=(-0.5, steps - 0.5, len(shown) - 0.5, -0.5))
                ax_r.set_title(f"{active} fire", fontsize=7, pad=2, loc="left", color=MODEL_COLORS[model])
                ax_r.set_xticks([0, steps // 2, steps - 1] if steps > 2 else [0])
                ax_r.tick_params(labelsize=6, length=2)
            else:
                ax_r.set_xticks([])
                if c == 0:
                    ax_r.text(0.05, 0.5, "no spiking\nsimulation", transform=ax_r.transAxes, fontsize=7,
                              color="0.4", va="center")
            ax_r.set_yticks([])
            for side in ("top", "right"):
                ax_r.spines[side].set_visible(True)
            if c == 0:
                grouped = f",\n{group} per row" if group > 1 else ""
                ax_r.set_ylabel(f"{MODEL_LABELS[model]}\nhidden units ({len(shown)} that ever fire{grouped})",
                                color=MODEL_COLORS[model], fontsize=8)
            thumbs.append(ax_r)
            ax_a = fig.add_subplot(inner[1 + r, 1])
            ax_a.imshow(np.ma.masked_less_equal(h, 0), aspect="auto", cmap="magma_r", vmin=0,
                        vmax=max(vmax, 1e-9), interpolation="nearest")
            ax_a.set_facecolor("#ececec")
            ax_a.set_xticks([])
            ax_a.set_yticks([])
            if r == 0:
                ax_a.set_title("ANN", fontsize=6, pad=2)
            thumbs.append(ax_a)
    title = "Which hidden units fire for each digit, over time"
    _title(fig, title)
    fig.supxlabel(f"per digit: spike raster of the hidden layer, time step ({dt_s * 1e3:g} ms each, {coding} coding) "
                  "on x; beside it (ANN) the gated activation h of the same units, dark = large, grey = exactly 0",
                  fontsize=8)
    fig.supylabel("hidden units, grouped by preferred digit (same order in every panel)", fontsize=8)
    counts = {m: float(np.mean([(np.asarray(spikes[m][c]).sum(axis=0) > 0).sum() for c in range(n)]))
              for m in models if spikes.get(m) is not None}
    caption = ("Units are grouped by the digit they prefer, so a digit's own units sit in its band and the band moves "
               "down from 0 to 9; spikes appear exactly where the ANN's gate is open.")
    if counts:
        caption += " Units that spike per digit: " + ", ".join(f"{m} {v:.0f}" for m, v in counts.items()) + "."
    return ReportFigure("activity_rasters", title, caption, fig, "activity", thumbnail_axes=thumbs)


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


def class_unit_map(freqs: dict[str, np.ndarray], orders: dict[str, tuple[np.ndarray, int]],
                   classes: Sequence[int], source: str = "ANN") -> ReportFigure:
    """Class x hidden-unit firing-frequency maps, dense and sparse side by side.

    Units that never fire on the test set are left out (their number is in the title).
    """
    plt = _plt()
    models = list(freqs)
    fig, axes = plt.subplots(len(models), 1, figsize=(10.5, 2.1 * len(models) + 0.9), squeeze=False,
                             layout="constrained")
    im = None
    for ax, model in zip(axes[:, 0], models):
        order, silent = orders[model]
        total = freqs[model].shape[1]
        shown = order[: total - silent] if silent < total else order
        f = freqs[model][:, shown]
        im = ax.imshow(f, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_yticks(range(len(classes)))
        ax.set_yticklabels([str(c) for c in classes], fontsize=7)
        ax.set_ylabel("digit class")
        mean_active = float(freqs[model].mean(axis=1).mean()) * total
        ax.set_title(f"{MODEL_LABELS[model]}: {total} hidden units, {mean_active:.0f} active per input on average"
                     + (f"; {silent} never fire (not shown)" if silent else ""),
                     color=MODEL_COLORS.get(model), loc="left")
        ax.set_xlabel(f"hidden unit ({len(shown)} shown, grouped by preferred digit, most selective first)")
    cbar = fig.colorbar(im, ax=axes[:, 0].tolist(), fraction=0.025, pad=0.01)
    cbar.set_label("firing frequency\n(fraction of the class's test inputs)")
    title = f"Digit-specific subnetworks: how often each hidden unit fires for each digit ({source})"
    _title(fig, title)
    per_input = {m: float(f.mean(axis=1).mean()) * f.shape[1] for m, f in freqs.items()}
    caption = "Each bright block is a group of units that fires mostly for one digit. " + "; ".join(
        f"{m}: {v:.0f} of {freqs[m].shape[1]} units active per input" for m, v in per_input.items()) + "."
    return ReportFigure("class_unit_map", title, caption, fig, "subnetworks")


def jaccard_figure(matrices: dict[str, np.ndarray], classes: Sequence[int]) -> ReportFigure:
    """Jaccard overlap between the classes' active-unit sets, one panel per model."""
    plt = _plt()
    models = list(matrices)
    fig, axes = plt.subplots(1, len(models), figsize=(4.4 * len(models) + 0.9, 4.6), squeeze=False,
                             layout="constrained")
    im = None
    for ax, model in zip(axes[0], models):
        m = matrices[model]
        im = ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
        for a in range(m.shape[0]):
            for b in range(m.shape[1]):
                txt = f"{m[a, b]:.2f}"
                txt = "1" if txt == "1.00" else txt.lstrip("0")
                ax.text(b, a, txt, ha="center", va="center", fontsize=6.5,
                        color="white" if m[a, b] > 0.6 else "black")
        ax.set_xticks(range(len(classes)))
        ax.set_yticks(range(len(classes)))
        ax.set_xticklabels([str(c) for c in classes])
        ax.set_yticklabels([str(c) for c in classes])
        ax.set_xlabel("digit class")
        ax.set_ylabel("digit class")
        ax.spines[:].set_visible(False)
        ax.set_title(f"{MODEL_LABELS[model]}\nmean overlap between classes {mean_offdiag(m):.2f}",
                     color=MODEL_COLORS.get(model))
    cbar = fig.colorbar(im, ax=axes[0].tolist(), fraction=0.03, pad=0.02)
    cbar.set_label("Jaccard overlap |A∩B| / |A∪B| (0-1)")
    title = "Overlap between the digits' active-unit sets (Jaccard)"
    _title(fig, title)
    means = "; ".join(f"{m} {mean_offdiag(v):.2f}" for m, v in matrices.items())
    return ReportFigure("jaccard", title,
                        f"Mean overlap between two digits' sets: {means} (1 = the same units, 0 = disjoint); a unit is "
                        "in a digit's set when it is active for more than half of that digit's test inputs.",
                        fig, "subnetworks")


def subnetwork_gallery(w_enc: np.ndarray, w_dec: np.ndarray, b_dec: np.ndarray, class_units: dict[int, list[int]],
                       class_strength: dict[int, np.ndarray], class_means: dict[int, np.ndarray],
                       image_shape: Sequence[int], masks: tuple[np.ndarray, np.ndarray] | None = None,
                       per_class: int = 5, model: str = "sparse") -> ReportFigure:
    """For each class, its subnetwork: its most specific units' surviving input and output weights.

    ``class_units[c]``: the class's active-unit set; ``class_strength[c]`` (H,) the mean
    activation ``hbar_c`` of every unit over the class's inputs; ``class_means[c]`` the mean
    input image of the class. Units are ranked by specificity to the class,
    ``hbar_c[j] - mean_{c' != c} hbar_c'[j]`` (units that fire for every digit come last).
    Each weight image is scaled to its own largest surviving weight; pruned weights are
    grey. The second column is what the whole set draws through its output weights,
    ``sigmoid(b_dec + sum_{j in set} hbar_c[j] W_dec[:, j])``.
    """
    plt = _plt()
    import matplotlib

    classes = sorted(class_units)
    cols = 2 + 2 * per_class
    fig, axes = plt.subplots(len(classes), cols, figsize=(0.8 * cols + 1.2, 0.9 * len(classes) + 1.3),
                             squeeze=False)
    enc_mask = masks[0] if masks is not None else (w_enc != 0)
    dec_mask = masks[1] if masks is not None else (w_dec != 0)
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#d9d9d9")
    strengths = np.stack([np.asarray(class_strength[c], dtype=float) for c in classes])
    for r, c in enumerate(classes):
        strength = strengths[r]
        others = np.delete(strengths, r, axis=0).mean(axis=0) if len(classes) > 1 else np.zeros_like(strength)
        specificity = strength - others
        members = list(class_units[c])
        units = sorted(members, key=lambda j: -specificity[j])[:per_class]
        axes[r, 0].imshow(np.asarray(class_means[c]).reshape(image_shape), cmap="gray_r", vmin=0, vmax=1,
                          interpolation="nearest")
        drive = b_dec + (w_dec[:, members] @ strength[members] if members else 0.0)
        axes[r, 1].imshow(sigmoid(drive).reshape(image_shape), cmap="gray_r", vmin=0, vmax=1,
                          interpolation="nearest")
        axes[r, 0].set_ylabel(f"{c}\n({len(members)} unit{'' if len(members) == 1 else 's'})", rotation=0, ha="right", va="center", fontsize=9)
        for k in range(per_class):
            ax_i, ax_o = axes[r, 2 + 2 * k], axes[r, 3 + 2 * k]
            if k < len(units):
                j = units[k]
                for ax, w, m, tag in ((ax_i, w_enc[j], enc_mask[j], "in"), (ax_o, w_dec[:, j], dec_mask[:, j], "out")):
                    lim = float(np.abs(w[m]).max()) if m.any() else 1.0
                    ax.imshow(np.ma.masked_array(w, mask=~m).reshape(image_shape), cmap=cmap, vmin=-lim, vmax=lim,
                              interpolation="nearest")
                    ax.set_title(f"#{j} {tag}", fontsize=6.5, pad=2)
            else:
                ax_i.set_visible(False)
                ax_o.set_visible(False)
        if r == 0:
            axes[r, 0].set_title("digit mean", fontsize=7)
            axes[r, 1].set_title("its set draws", fontsize=7)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)
    title = f"Each digit's subnetwork ({model} model): its most specific units' weights in pixel space"
    _title(fig, title)
    fig.supxlabel("per unit, 8x8 pixels: input weights ('in', what it looks for) and output weights ('out', what it "
                  "draws); red +, blue −, each image scaled to its largest weight; grey = pruned synapse", fontsize=8)
    fig.supylabel("digit class (units in its active set)", fontsize=9)
    fig.tight_layout(rect=(0.02, 0.02, 1, 0.99))
    return ReportFigure("subnetworks", title,
                        f"For each digit, the {per_class} units of its set that fire most for it and least for other "
                        "digits; 'its set draws' is what the digit's whole set paints through its surviving output "
                        "weights.", fig, "subnetworks", thumbnail_axes=list(axes.flat))


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




__all__ = ["MAX_RASTER_ROWS", "activity_rasters", "class_unit_map", "jaccard_figure", "subnetwork_gallery",
           "weight_masks", "activation_density"]
