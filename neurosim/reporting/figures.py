"""Figures of the side-by-side demo report (matplotlib, Agg backend, no display needed).

Every function here takes plain arrays and dictionaries (never a model object or a file
path) and returns a :class:`ReportFigure`: a matplotlib figure with a title, labelled axes
(with units) and a one-line caption saying what to see. :mod:`neurosim.reporting.demo`
gathers the inputs from the pipeline's outputs, renders each figure to PNG and embeds it.

Conventions
-----------
* Models are keyed ``"dense"`` (same shape as sparse, no pruning, no gate), ``"sparse"``
  (pruned weights and gated hidden layer) and ``"small_dense"`` (the iso-compute baseline).
* Hidden activations ``h`` are the ANN's gated activations,
  ``h = relu(x @ W_enc.T + b_enc - theta)`` (see :mod:`neurosim.checkpoint`); a unit is
  *active* for an input when ``h > 0`` (ANN) or when it emits at least one spike (SNN).
* Time is in simulation steps of ``dt_s`` seconds; energies in joules, latencies in
  seconds; MSE is the mean squared pixel error with pixels scaled to [0, 1].

:func:`record_spikes` (per-timestep spikes of every layer) lives here too: activity
records hold only spike counts, and the rasters need the time course.
"""
from __future__ import annotations

import inspect
import io
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

MODEL_COLORS = {"dense": "#4C72B0", "sparse": "#DD8452", "small_dense": "#55A868"}
MODEL_LABELS = {"dense": "dense (same shape)", "sparse": "sparse (pruned + gated)",
                "small_dense": "small dense (iso-compute)"}
CODING_STYLES = {"rate": "-", "graded": "--"}
#: a raster panel draws at most this many rows; more units are max-pooled in groups
MAX_RASTER_ROWS = 256


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


# --------------------------------------------------------------------------- spikes


def record_spikes(network, inputs: np.ndarray, timesteps: int, *, backend: str = "reference",
                  seed: int = 0) -> list[np.ndarray]:
    """Per-timestep spikes of every layer: a list of ``(N, T, n_l)`` uint8 arrays.

    If the backend's ``run`` accepts ``record_spikes=True`` and returns
    ``info["spike_trains"]`` (one ``(N, T, n_l)`` array per layer), that is used. Otherwise
    the trains are recovered from spike *counts* alone, which every backend returns: the
    semantics of :mod:`neurosim.network` are causal (what happens up to step ``k`` does not
    depend on ``T``), so ``spikes[k] = counts(T=k+1) - counts(T=k)``. That costs
    ``O(T^2)`` steps, fine for the ten example digits of a raster. Steps before the first
    allowed ``T`` (the network depth) are lumped into step ``depth - 1``.

    Parameters
    ----------
    network : neurosim.network.SpikingNetwork
    inputs : ndarray, shape (N, d_in)
    timesteps : int
        ``T``, the number of simulation steps of ``network.dt_s`` seconds each.
    """
    from neurosim.backends import get_backend

    inputs = np.asarray(inputs, dtype=np.float64)
    module = get_backend(backend)
    try:
        accepts = "record_spikes" in inspect.signature(module.run).parameters
    except (TypeError, ValueError):  # pragma: no cover
        accepts = False
    if accepts:
        result = module.run(network, inputs, int(timesteps), seed=seed, record_spikes=True)
        trains = result.info.get("spike_trains")
        if trains is not None:
            return [(np.asarray(t) != 0).astype(np.uint8) for t in trains]
    depth = len(network.layers)
    n, sizes = inputs.shape[0], [layer.size for layer in network.layers]
    trains = [np.zeros((n, int(timesteps), s), dtype=np.uint8) for s in sizes]
    prev = [np.zeros((n, s), dtype=np.int64) for s in sizes]
    for t_end in range(depth, int(timesteps) + 1):
        result = module.run(network, inputs, t_end, seed=seed)
        for l in range(depth):
            counts = np.asarray(result.spike_counts[l], dtype=np.int64)
            trains[l][:, t_end - 1, :] = np.clip(counts - prev[l], 0, None).astype(np.uint8)
            prev[l] = counts
    return trains


# --------------------------------------------------------------------------- orderings


def firing_frequency(active: np.ndarray, labels: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """``freq[c, j]`` = fraction of inputs of class ``c`` for which unit ``j`` is active."""
    active = np.asarray(active) > 0
    return np.stack([active[labels == c].mean(axis=0) if np.any(labels == c) else np.zeros(active.shape[1])
                     for c in classes])


def unit_order(freq: np.ndarray) -> tuple[np.ndarray, int]:
    """Order hidden units so that a class x unit map shows its block structure.

    Units are grouped by their preferred class (the class with the highest firing
    frequency), groups in class order, and sorted by decreasing frequency within a group;
    units that never fire go last. Returns the permutation and the number of silent units.
    """
    freq = np.asarray(freq, dtype=float)
    silent = freq.max(axis=0) <= 0
    pref = freq.argmax(axis=0)
    peak = freq.max(axis=0)
    key = np.lexsort((-peak, pref, silent))  # last key is the primary one
    return key, int(silent.sum())


def jaccard_matrix(sets: Sequence[Sequence[int]]) -> np.ndarray:
    """``J[a, b] = |A & B| / |A | B|`` (1 on the diagonal; 0 when both sets are empty)."""
    k = len(sets)
    out = np.zeros((k, k))
    for a in range(k):
        for b in range(k):
            sa, sb = set(sets[a]), set(sets[b])
            union = len(sa | sb)
            out[a, b] = len(sa & sb) / union if union else (1.0 if a == b else 0.0)
    return out


def mean_offdiag(m: np.ndarray) -> float:
    k = m.shape[0]
    return float((m.sum() - np.trace(m)) / (k * k - k)) if k > 1 else float("nan")


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


# --------------------------------------------------------------------------- activity


def activity_rasters(examples: np.ndarray, labels: np.ndarray, image_shape: Sequence[int],
                     spikes: dict[str, np.ndarray | None], ann_hidden: dict[str, np.ndarray],
                     orders: dict[str, tuple[np.ndarray, int]], dt_s: float = 1e-3,
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
        axes[r, 1].imshow((1 / (1 + np.exp(-drive))).reshape(image_shape), cmap="gray_r", vmin=0, vmax=1,
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
                        f"Mean fraction of hidden units active per input: {means}. Hatched bars: spiking network "
                        "(units with at least one spike), solid: the ANN (units with h > 0).", fig, "sparsity")


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
    coding_colors = {"rate": "#DD8452", "graded": "#8172B3"}
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
                       color=coding_colors.get(e.get("coding"), "0.4"),
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
    axes[4].legend(fontsize=7, loc="lower right")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=2 * len(models))
    title = "Energy and latency per inference on each hardware target (log scales)"
    _title(fig, title)
    return ReportFigure("energy_latency", title,
                        "Dense vs sparse on each target in both modes: solid = dynamic, hatched = static energy "
                        "(medians); the right panel is the saving with its 10–90 % interval, computed per "
                        "Monte-Carlo draw with the same hardware for both models (1x = none).", fig, "hardware")


def check_figure(rf: ReportFigure) -> list[str]:
    """Problems that break the report's figure bar (title, labelled axes, caption); [] if none.

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


def format_si(value: float | None, unit: str) -> str:
    """``format_si(2.5e-6, 'J') -> '2.5 µJ'``."""
    if value is None or not np.isfinite(value):
        return "–"
    if value == 0:
        return f"0 {unit}"
    prefixes = [(1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, ""), (1e3, "k"), (1e6, "M")]
    scale, prefix = prefixes[0]
    for s, p in prefixes:
        if abs(value) >= s:
            scale, prefix = s, p
    return f"{value / scale:.3g} {prefix}{unit}"


def format_count(value: float | None) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g} M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.3g} k"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.3g}"


__all__ = [
    "ReportFigure", "record_spikes", "firing_frequency", "unit_order", "jaccard_matrix", "mean_offdiag",
    "training_curves", "reconstructions", "activity_rasters", "class_unit_map", "jaccard_figure",
    "subnetwork_gallery", "weight_masks", "activation_density", "fidelity_vs_timesteps", "backend_agreement",
    "energy_latency", "check_figure", "format_si", "format_count",
]
