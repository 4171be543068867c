"""PNG figures of a training run (matplotlib, Agg backend; no display needed).

Four figures, each with a title, labelled axes with units and a one-line caption:

``training_curves.png``
    Training loss and test MSE per epoch of the dense, sparse and iso-compute models side by
    side, with the sparse model's weight density and activation density over training.
``reconstructions.png``
    The same test digits (the first of each class) as input and as reconstructed by each model.
``hidden_activity.png``
    Dense and sparse: firing frequency of every hidden unit for every digit class on the test
    split (class x unit heatmap), units in the order of their digit-specific subnetworks
    (:mod:`neurosim.analysis.subnetworks`, found on the training split): the demo report's figure.
``class_overlap.png``
    Overlap between the digits' subnetworks, dense and sparse (Jaccard of the subnetworks and
    cosine of the class-mean activations): the demo report's figure.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from neurosim.fileio import write_atomic
from neurosim.reporting.palette import MODEL_COLORS as COLORS, SERIES_COLORS  # one palette for every figure
from neurosim.analysis.subnetworks import DEFINITION, find_subnetworks
from neurosim.reporting import subnetwork_figures as S
from neurosim.training.metrics import firing_frequency
from neurosim.training.results import TrainResult

LABELS = {"dense": "dense (same shape)", "sparse": "sparse", "small_dense": "small dense (iso-compute)"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path, caption: str) -> Path:
    fig.text(0.5, 0.01, caption, ha="center", va="bottom", fontsize=8, style="italic", wrap=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    write_atomic(path, buf.getvalue())
    _pyplot().close(fig)
    return path


def plot_training_curves(result: TrainResult, path: Path) -> Path:
    plt = _pyplot()
    m = result.metrics
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    for ax, key, title in ((axes[0], "train_loss", "training loss"), (axes[1], "test_mse", "test MSE")):
        for kind in ("dense", "sparse", "small_dense"):
            values = m[kind]["history"][key]
            label = LABELS[kind] + (f", H={m[kind]['hidden']}")
            ax.plot(np.arange(1, len(values) + 1), values, color=COLORS[kind], label=label)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean squared error per pixel (pixels in [0, 1])")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    hist = m["sparse"]["history"]
    ep = np.arange(1, len(hist["weight_density"]) + 1)
    axes[2].plot(ep, hist["weight_density"], color=SERIES_COLORS["weight_density"], label="weight density (nonzero / all)")
    axes[2].plot(ep, hist["activation_density"], color=SERIES_COLORS["activation_density"],
                 label="activation density (active units / H, training batches)")
    axes[2].axhline(result.config.active_fraction, color=SERIES_COLORS["activation_density"], ls=":", lw=1, label="target active fraction")
    axes[2].set_ylim(0, 1.05)
    axes[2].set_xlabel("epoch")
    axes[2].set_ylabel("fraction (dimensionless)")
    axes[2].set_title("sparse model: pruning and gating")
    axes[2].grid(alpha=0.3)
    axes[2].legend(fontsize=8)
    fig.suptitle(f"Dense and sparse autoencoders trained side by side ({m['dataset']}, seed {result.config.seed})")
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    c = m["comparisons"]
    caption = (f"Same batches for all models. Final test MSE: dense {m['dense']['test_mse']:.4f}, sparse "
               f"{m['sparse']['test_mse']:.4f}, small dense {m['small_dense']['test_mse']:.4f}; the sparse model "
               f"uses {c['mac_reduction_vs_dense']:.0f}x fewer MACs than the same-shape dense one.")
    return _save(fig, path, caption)


def plot_reconstructions(result: TrainResult, path: Path) -> Path:
    import torch

    plt = _pyplot()
    test = result.test
    picks = [int(np.flatnonzero(test.y == c)[0]) for c in np.unique(test.y)]
    x = torch.from_numpy(test.x[picks])
    rows = [("input", x.numpy())]
    with torch.no_grad():
        for kind in ("dense", "sparse", "small_dense"):
            rows.append((LABELS[kind], result.models[kind](x)[0].numpy()))
    h, w = test.image_shape
    fig, axes = plt.subplots(len(rows), len(picks), figsize=(1.2 * len(picks) + 1.5, 1.25 * len(rows) + 0.9),
                             squeeze=False)
    for r, (name, imgs) in enumerate(rows):
        for col, img in enumerate(imgs):
            ax = axes[r][col]
            ax.imshow(img.reshape(h, w), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"class {int(test.y[picks[col]])}", fontsize=8)
            if col == 0:
                ax.set_ylabel(name, fontsize=8)
        mse = float(np.mean((imgs - rows[0][1]) ** 2))
        axes[r][-1].yaxis.set_label_position("right")
        if r > 0:
            axes[r][-1].set_ylabel(f"MSE {mse:.4f}", fontsize=7)
    fig.suptitle(f"The same test digits reconstructed by each model ({h}x{w} pixels, intensity 0-1)")
    fig.tight_layout(rect=(0, 0.06, 1, 0.93))
    caption = "Rows: input and reconstructions; columns: the first test image of each class (pixel intensity 0 white to 1 black)."
    return _save(fig, path, caption)


def _subnetworks(result: TrainResult) -> dict:
    """Dense and sparse subnetworks (on the training split) and test-split firing frequencies, computed once per run."""
    import torch

    key = id(result)
    if key not in _CACHE:
        subs, freqs = {}, {}
        classes = [int(c) for c in np.unique(result.train.y)]
        for kind in ("dense", "sparse"):
            model = result.models[kind]
            with torch.no_grad():
                h_train = model.encode(torch.from_numpy(result.train.x)).double().numpy()
                h_test = model.encode(torch.from_numpy(result.test.x)).double().numpy()
            subs[kind] = find_subnetworks(h_train, result.train.y, classes)
            freqs[kind] = firing_frequency(h_test > 0, result.test.y, classes)
        _CACHE.clear()  # one run at a time
        _CACHE[key] = (subs, freqs, classes)
    return _CACHE[key]


_CACHE: dict[int, tuple] = {}


def _save_report_figure(rf, path: Path) -> Path:
    try:
        write_atomic(path, rf.png(dpi=110))
    finally:
        rf.close()
    return path


def plot_hidden_activity(result: TrainResult, path: Path) -> Path:
    """The class x unit firing map of the demo report (:func:`neurosim.reporting.subnetwork_figures.class_unit_map`),
    dense and sparse, in the subnetworks' unit order."""
    subs, freqs, classes = _subnetworks(result)
    orders = {k: (s.order, s.silent) for k, s in subs.items()}
    return _save_report_figure(S.class_unit_map(freqs, orders, classes), path)


def plot_class_overlap(result: TrainResult, path: Path) -> Path:
    """The subnetworks' overlap figure of the demo report (:func:`neurosim.reporting.subnetwork_figures.overlap_figure`)."""
    subs, _, classes = _subnetworks(result)
    return _save_report_figure(S.overlap_figure({k: s.jaccard for k, s in subs.items()},
                                                {k: s.cosine for k, s in subs.items()},
                                                {k: s.sizes for k, s in subs.items()},
                                                {k: len(s.hubs) for k, s in subs.items()}, classes, DEFINITION), path)


PLOTS = {
    "training_curves": plot_training_curves,
    "reconstructions": plot_reconstructions,
    "hidden_activity": plot_hidden_activity,
    "class_overlap": plot_class_overlap,
}


def write_plots(result: TrainResult, out: str | Path) -> dict[str, Path]:
    """Write every figure of :data:`PLOTS` into ``out``; return name -> path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return {name: fn(result, out / f"{name}.png") for name, fn in PLOTS.items()}
