"""Figures of the digit-specific subnetworks: spike rasters, the class x unit map, overlaps,
what each subnetwork draws, and the ablation matrices (matplotlib, Agg backend; conventions
as in :mod:`neurosim.reporting.figures`).

Every function takes plain arrays and returns a
:class:`~neurosim.reporting.figures.ReportFigure`. Units appear in one order everywhere:
``(order, silent)`` of :class:`neurosim.analysis.subnetworks.Subnetworks` (grouped by the
digit they are most selective for, silent units last). Definitions of selectivity, hubs and
ablation are in :mod:`neurosim.analysis.subnetworks` and :mod:`neurosim.analysis.ablation`.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from neurosim.defaults import DT_S
from neurosim.reporting.figures import ReportFigure, _imgs, _plt, _title
from neurosim.reporting.hidden_figures import MAX_RASTER_ROWS, _pool_rows
from neurosim.reporting.palette import MODEL_COLORS, MODEL_LABELS
from neurosim.training.metrics import mean_offdiag

#: spikes are coloured by the unit's count on the example / its mean count, capped here
RATE_RATIO_CAP = 4.0


def _shown(order: np.ndarray, silent: int) -> np.ndarray:
    return order[: len(order) - silent] if silent < len(order) else order


def _clean(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[:].set_visible(False)


def activity_rasters(examples: np.ndarray, labels: np.ndarray, image_shape: Sequence[int],
                     spikes: dict[str, np.ndarray | None], ann_hidden: dict[str, np.ndarray],
                     orders: dict[str, tuple[np.ndarray, int]], mean_counts: dict[str, np.ndarray] | None = None,
                     dt_s: float = DT_S, coding: str = "rate") -> ReportFigure:
    """Hidden-layer spike rasters for one example per digit, beside the ANN's gated activations.

    One column per digit; rows: the input image, then per model a raster (time step on x,
    hidden units on y in the shared order, never-active units left out) and a thin strip
    with the ANN's activation ``h`` of the same units. Each spike is coloured by the unit's
    spike count on this example divided by its mean count over all test digits
    (``mean_counts[model]``, (H,)), capped at :data:`RATE_RATIO_CAP`: a unit firing at its
    usual rate is pale, one firing far above it (its own digit) dark, so a dense layer in
    which most units fire shows where the digit's own units are instead of a black block.
    ``spikes[model]``: (n_examples, T, H) 0/1 or None; ``ann_hidden[model]``: (n_examples, H).
    """
    plt = _plt()
    import matplotlib
    from matplotlib import gridspec

    models = [m for m in ("dense", "sparse") if m in ann_hidden]
    n = len(examples)
    fig = plt.figure(figsize=(1.22 * n + 2.4, 1.5 + 2.9 * len(models)))
    outer = gridspec.GridSpec(1, n, figure=fig, wspace=0.16, left=0.075, right=0.9, top=0.9, bottom=0.1)
    imgs = _imgs(examples, image_shape)
    spike_cmap = matplotlib.colormaps["magma_r"].with_extremes(bad="white")
    act_cmap = matplotlib.colormaps["viridis_r"].with_extremes(bad="#ececec")
    thumbs, spike_im, act_ims = [], None, {}
    for c in range(n):
        inner = gridspec.GridSpecFromSubplotSpec(1 + len(models), 2, subplot_spec=outer[c],
                                                 height_ratios=[0.9] + [2.9] * len(models),
                                                 width_ratios=[1, 0.16], wspace=0.06, hspace=0.22)
        ax = fig.add_subplot(inner[0, :])
        ax.imshow(imgs[c], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        _clean(ax)
        ax.set_title(f"digit {int(labels[c])}", fontsize=9, fontweight="bold")
        thumbs.append(ax)
        for r, model in enumerate(models):
            shown = _shown(*orders[model])
            group = max(1, math.ceil(len(shown) / MAX_RASTER_ROWS))
            ax_r = fig.add_subplot(inner[1 + r, 0])
            train = spikes.get(model)
            if train is not None:
                sp = np.asarray(train[c], dtype=float)[:, shown].T  # (units, T)
                steps = sp.shape[1]
                count = sp.sum(axis=1)
                base = (np.asarray(mean_counts[model], dtype=float)[shown] if mean_counts and model in mean_counts
                        else np.asarray(train, dtype=float).sum(axis=1).mean(axis=0)[shown])
                ratio = np.minimum(count / np.maximum(base, 1e-9), RATE_RATIO_CAP)
                val = _pool_rows(sp * ratio[:, None], group)
                spike_im = ax_r.imshow(np.ma.masked_less_equal(val, 0), aspect="auto", cmap=spike_cmap, vmin=0,
                                       vmax=RATE_RATIO_CAP, interpolation="nearest",
                                       extent=(-0.5, steps - 0.5, len(shown) - 0.5, -0.5))
                ax_r.set_title(f"{int((count > 0).sum())} fire", fontsize=7, pad=2, loc="left",
                               color=MODEL_COLORS[model])
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
                ax_r.set_ylabel(f"{MODEL_LABELS[model]}\nhidden units ({len(shown)} ever active{grouped})",
                                color=MODEL_COLORS[model], fontsize=8)
            thumbs.append(ax_r)
            hid = np.asarray(ann_hidden[model], dtype=float)
            vmax = float(np.percentile(hid[hid > 0], 99)) if np.any(hid > 0) else 1.0
            h = _pool_rows(hid[c][shown][:, None], group)
            ax_a = fig.add_subplot(inner[1 + r, 1])
            act_ims[model] = ax_a.imshow(np.ma.masked_less_equal(h, 0), aspect="auto", cmap=act_cmap, vmin=0,
                                         vmax=max(vmax, 1e-9), interpolation="nearest")
            _clean(ax_a)
            if r == 0:
                ax_a.set_title("ANN", fontsize=6, pad=2)
            thumbs.append(ax_a)
    bars = []
    if spike_im is not None:
        cax = fig.add_axes((0.925, 0.55, 0.012, 0.33), label="<colorbar>")
        cb = fig.colorbar(spike_im, cax=cax)
        cb.set_label(f"spike: unit's count on this digit ÷\nits mean count over all test digits (≥{RATE_RATIO_CAP:g} "
                     "dark)", fontsize=7)
        cb.ax.tick_params(labelsize=6)
        bars.append(cax)
    for k, (model, im) in enumerate(act_ims.items()):
        cax = fig.add_axes((0.925 + 0.045 * k, 0.12, 0.01, 0.33), label="<colorbar>")
        cb = fig.colorbar(im, cax=cax)
        cb.set_label(f"ANN h, {model}", fontsize=7, labelpad=1)
        cb.ax.tick_params(labelsize=6)
    title = "Which hidden units fire for each digit, over time"
    _title(fig, title)
    fig.supxlabel(f"per digit: spike raster of the hidden layer, time step ({dt_s * 1e3:g} ms each, {coding} coding) "
                  "on x; beside it (ANN) the gated activation h of the same units, grey = exactly 0", fontsize=8)
    fig.supylabel("hidden units, grouped by the digit they are most selective for (same order in every figure)",
                  fontsize=8)
    counts = {m: float(np.mean([(np.asarray(spikes[m][c]).sum(axis=0) > 0).sum() for c in range(n)]))
              for m in models if spikes.get(m) is not None}
    caption = ("Units are grouped by the digit they are most selective for, so a digit's own units sit in its band and "
               "the dark band moves down from 0 to 9; spikes are coloured by how far above its usual rate the unit "
               "fires.")
    if counts:
        caption += " Units that spike per digit: " + ", ".join(f"{m} {v:.0f}" for m, v in counts.items()) + "."
    return ReportFigure("activity_rasters", title, caption, fig, "activity", thumbnail_axes=thumbs)


def class_unit_map(freqs: dict[str, np.ndarray], orders: dict[str, tuple[np.ndarray, int]],
                   classes: Sequence[int], source: str = "ANN") -> ReportFigure:
    """Class x hidden-unit firing-frequency maps ``F[c, j]`` (fraction of class ``c``'s test
    inputs on which unit ``j`` is active), dense and sparse side by side, in the shared order.

    Units that never fire are left out (their number is in the title).
    """
    plt = _plt()
    models = list(freqs)
    fig, axes = plt.subplots(len(models), 1, figsize=(10.5, 2.1 * len(models) + 0.9), squeeze=False,
                             layout="constrained")
    im = None
    for ax, model in zip(axes[:, 0], models):
        order, silent = orders[model]
        total = freqs[model].shape[1]
        shown = _shown(order, silent)
        im = ax.imshow(freqs[model][:, shown], aspect="auto", cmap="viridis", vmin=0, vmax=1,
                       interpolation="nearest")
        ax.set_yticks(range(len(classes)))
        ax.set_yticklabels([str(c) for c in classes], fontsize=7)
        ax.set_ylabel("digit class")
        mean_active = float(freqs[model].mean(axis=1).mean()) * total
        ax.set_title(f"{MODEL_LABELS[model]}: {total} hidden units, {mean_active:.0f} active per input on average"
                     + (f"; {silent} never active (not shown)" if silent else ""),
                     color=MODEL_COLORS.get(model), loc="left")
        ax.set_xlabel(f"hidden unit ({len(shown)} shown, grouped by the digit they are most selective for, "
                      "most selective first)")
    cbar = fig.colorbar(im, ax=axes[:, 0].tolist(), fraction=0.025, pad=0.01)
    cbar.set_label("firing frequency\n(fraction of the class's test inputs)")
    title = f"Digit-specific subnetworks: how often each hidden unit fires for each digit ({source})"
    _title(fig, title)
    per_input = {m: float(f.mean(axis=1).mean()) * f.shape[1] for m, f in freqs.items()}
    caption = "Each bright block is a group of units that fires mostly for one digit. " + "; ".join(
        f"{m}: {v:.0f} of {freqs[m].shape[1]} units active per input" for m, v in per_input.items()) + "."
    return ReportFigure("class_unit_map", title, caption, fig, "subnetworks")


def overlap_figure(jaccard: dict[str, np.ndarray], cosine: dict[str, np.ndarray], sizes: dict[str, Sequence[int]],
                   hubs: dict[str, int], classes: Sequence[int], definition: str) -> ReportFigure:
    """Overlap between the digits' subnetworks, dense and sparse side by side.

    Top row: Jaccard index ``|S_a ∩ S_b| / |S_a ∪ S_b|`` of the subnetworks (tick labels give
    ``|S_c|``); bottom row: cosine similarity of the class-mean activation vectors (no
    threshold involved). ``hubs[model]``: number of units in at least three subnetworks.
    """
    plt = _plt()
    models = list(jaccard)
    fig, axes = plt.subplots(2, len(models), figsize=(4.3 * len(models) + 1.2, 8.6), squeeze=False,
                             layout="constrained")
    im = None
    for col, model in enumerate(models):
        for row, (mat, what) in enumerate(((jaccard[model], "Jaccard of subnetworks"),
                                           (cosine[model], "cosine of class-mean activity"))):
            ax = axes[row, col]
            m = np.asarray(mat, dtype=float)
            im = ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
            for a in range(m.shape[0]):
                for b in range(m.shape[1]):
                    txt = f"{m[a, b]:.2f}"
                    txt = "1" if txt == "1.00" else txt.lstrip("0") if m[a, b] >= 0 else txt
                    ax.text(b, a, txt, ha="center", va="center", fontsize=6,
                            color="white" if m[a, b] > 0.6 else "black")
            ax.set_xticks(range(len(classes)))
            ax.set_yticks(range(len(classes)))
            ax.set_xticklabels([str(c) for c in classes])
            ax.set_yticklabels([f"{c} ({n})" for c, n in zip(classes, sizes[model])] if row == 0
                               else [str(c) for c in classes], fontsize=7)
            ax.set_xlabel("digit class")
            ax.set_ylabel("digit class (units in its subnetwork)" if row == 0 else "digit class")
            ax.spines[:].set_visible(False)
            extra = f"; {hubs[model]} hub units" if row == 0 else ""
            ax.set_title(f"{model}: {what}\nmean between digits {mean_offdiag(m):.2f}{extra}",
                         color=MODEL_COLORS.get(model))
    cbar = fig.colorbar(im, ax=axes.ravel().tolist(), fraction=0.03, pad=0.02)
    cbar.set_label("overlap (0 = disjoint, 1 = the same)")
    title = "Overlap between the digits' subnetworks, dense vs sparse"
    _title(fig, title)
    text = "; ".join(f"{m}: Jaccard {mean_offdiag(jaccard[m]):.2f}, cosine {mean_offdiag(cosine[m]):.2f}, "
                     f"{hubs[m]} hubs" for m in models)
    return ReportFigure("jaccard", title,
                        f"Mean overlap between two digits: {text} (the dense model is the reference for 'not "
                        f"specific'). Definition: {definition}; a hub is a unit in at least three subnetworks.",
                        fig, "subnetworks")


def subnetwork_gallery(members: Mapping[int, Sequence[int]], drawn: Mapping[int, np.ndarray],
                       class_images: Mapping[int, np.ndarray], w_enc: np.ndarray,
                       dprime: Mapping[int, np.ndarray], image_shape: Sequence[int],
                       enc_mask: np.ndarray | None = None, empty: Mapping[int, str] | None = None,
                       threshold: float | None = None, per_class: int = 4, model: str = "sparse",
                       recognised: int | None = None) -> ReportFigure:
    """Per digit: its mean image, what its subnetwork draws, and its strongest units' receptive fields.

    ``members[c]``: the subnetwork, most selective unit first; ``drawn[c]``: what it draws alone
    (:func:`neurosim.analysis.subnetworks.drawings`); ``class_images[c]``: the digit's mean
    image; ``dprime[c]`` (H,) the selectivity. A receptive field is the unit's
    surviving encoder weights in pixel space (red +, blue −, grey pruned), scaled to its own
    largest weight. Every image is drawn at the data's own resolution, one screen block per pixel.
    ``recognised``: how many drawings correlate best with their own digit's mean image (for the caption).
    """
    plt = _plt()
    import matplotlib

    classes = sorted(members)
    empty = dict(empty or {})
    cols = 2 + per_class
    fig, axes = plt.subplots(len(classes), cols, figsize=(1.05 * cols + 1.4, 1.05 * len(classes) + 1.3),
                             squeeze=False)
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#d9d9d9")
    mask = enc_mask if enc_mask is not None else (w_enc != 0)
    for r, c in enumerate(classes):
        units = [int(j) for j in members[c]]
        axes[r, 0].imshow(np.asarray(class_images[c]).reshape(image_shape), cmap="gray_r", vmin=0, vmax=1,
                          interpolation="nearest")
        if units:
            axes[r, 1].imshow(np.asarray(drawn[c]).reshape(image_shape), cmap="gray_r", vmin=0, vmax=1,
                              interpolation="nearest")
        else:
            axes[r, 1].text(0.5, 0.5, "empty:\n" + empty.get(c, "no selective unit"), ha="center", va="center",
                            fontsize=5.5, wrap=True, transform=axes[r, 1].transAxes)
        axes[r, 0].set_ylabel(f"{c}\n({len(units)} unit{'' if len(units) == 1 else 's'})", rotation=0, ha="right",
                              va="center", fontsize=9)
        for k in range(per_class):
            ax = axes[r, 2 + k]
            if k < len(units):
                j = units[k]
                w, m = w_enc[j], mask[j]
                lim = float(np.abs(w[m]).max()) if m.any() else 1.0
                ax.imshow(np.ma.masked_array(w, mask=~m).reshape(image_shape), cmap=cmap, vmin=-lim, vmax=lim,
                          interpolation="nearest")
                dj = float(dprime[c][j])
                ax.set_title(f"#{j} d′={dj:.1f}" if dj < 100 else f"#{j} d′>100", fontsize=6.5, pad=2)
            else:
                ax.set_visible(False)
        if r == 0:
            axes[r, 0].set_title("digit mean", fontsize=7.5)
            axes[r, 1].set_title("its subnetwork\ndraws", fontsize=7.5)
        for ax in axes[r]:
            _clean(ax)
    title = f"What each digit's subnetwork draws ({model} model), beside the digit and its units' receptive fields"
    _title(fig, title)
    size = "x".join(str(s) for s in image_shape)
    fig.supxlabel(f"{size} pixels per image: the digit's mean test image; the decoder's output with only its subnetwork "
                  "active at its mean activation for the digit; input weights (receptive fields) of its most selective "
                  "units, red +, blue −, grey = pruned", fontsize=7.5, wrap=True)
    fig.supylabel("digit class (units in its subnetwork)", fontsize=9)
    fig.tight_layout(rect=(0.03, 0.04, 1, 0.97))
    sizes = ", ".join(f"{c}: {len(members[c])}" for c in classes)
    thr = f" (d′ > {threshold:.2f})" if threshold is not None else ""
    caption = (f"Subnetwork = units selective for the digit{thr}, the threshold set by a shuffled-label null; sizes "
               f"{sizes}. Each drawing uses only that digit's units, at their mean activation for it"
               + (f"; {recognised} of {len(classes)} drawings resemble their own digit's mean image more than any "
                  "other digit's (pixel correlation)." if recognised is not None else "."))
    if empty:
        caption += " Empty: " + "; ".join(f"{c} ({why})" for c, why in empty.items()) + "."
    return ReportFigure("subnetworks", title, caption, fig, "subnetworks", thumbnail_axes=list(axes.flat))


def ablation_figure(results: Mapping[tuple[str, str], Any], classes: Sequence[int]) -> ReportFigure:
    """Ablation matrices as heatmaps: rows = engine (ANN, SNN), columns = model x (subnetwork, random control).

    ``results[(model, engine)]`` is an :class:`~neurosim.analysis.ablation.AblationResult`
    (``matrix``, ``random``, ``ratio``, ``random_ratio``, ``samples``). Subnetwork and random
    control of one model and engine share a colour scale, so the control's faintness is real.
    """
    plt = _plt()
    engines = [e for e in ("ANN", "SNN") if any(k[1] == e for k in results)]
    models = [m for m in ("sparse", "dense") if any(k[0] == m for k in results)]
    fig, axes = plt.subplots(len(engines), 2 * len(models), figsize=(3.3 * 2 * len(models) + 0.6,
                                                                        3.3 * len(engines) + 1.2),
                             squeeze=False, layout="constrained")
    for r, engine in enumerate(engines):
        for k, model in enumerate(models):
            res = results.get((model, engine))
            for q, (mat, ratio, what) in enumerate(((None, None, "silenced: the digit's subnetwork"),
                                                    (None, None, "silenced: as many random units"))):
                ax = axes[r, 2 * k + q]
                if res is None:
                    ax.set_visible(False)
                    continue
                mat = res.matrix if q == 0 else res.random
                ratio = res.ratio if q == 0 else res.random_ratio
                vmax = max(float(np.nanmax(res.matrix)), float(np.nanmax(res.random)), 1e-9)
                im = ax.imshow(np.clip(mat, 0, None), cmap="magma_r", vmin=0, vmax=vmax)
                ax.set_xticks(range(len(classes)))
                ax.set_yticks(range(len(classes)))
                ax.set_xticklabels([str(c) for c in classes], fontsize=7)
                ax.set_yticklabels([str(c) for c in classes], fontsize=7)
                ax.set_xlabel("test digit")
                ax.set_ylabel("subnetwork silenced" if q == 0 else "random set of its size")
                ax.set_title(f"{model}, {engine}: {what.split(': ')[1]}\ndiagonal / off-diagonal = {ratio:.1f}",
                             color=MODEL_COLORS.get(model), fontsize=8.5)
                if q == 1:
                    cb = fig.colorbar(im, ax=axes[r, 2 * k:2 * k + 2].tolist(), fraction=0.04, pad=0.01)
                    cb.set_label("relative MSE increase", fontsize=7)
                    cb.ax.tick_params(labelsize=6)
    title = "Proof by ablation: silencing one digit's subnetwork hurts that digit"
    _title(fig, title)
    parts = []
    for model in models:
        for engine in engines:
            res = results.get((model, engine))
            if res is not None:
                parts.append(f"{model} {engine} {res.ratio:.1f} (random {res.random_ratio:.2f})")
    n = next(iter(results.values())).samples if results else 0
    caption = ("Relative increase of each test digit's reconstruction error (MSE) when one subnetwork is silenced, "
               f"ANN and spiking network on the same {n} test digits; diagonal / off-diagonal mean: "
               + "; ".join(parts) + ".")
    return ReportFigure("ablation", title, caption, fig, "subnetworks")


__all__ = ["RATE_RATIO_CAP", "activity_rasters", "class_unit_map", "overlap_figure",
           "subnetwork_gallery", "ablation_figure"]
