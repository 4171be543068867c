"""PNG figures of a training run (matplotlib, Agg backend; no display needed).

Four figures, each with a title, labelled axes with units and a one-line caption:

``training_curves.png``
    Training loss and test MSE per epoch of the dense, sparse and iso-compute models side by
    side, with the sparse model's weight density and activation density over training.
``reconstructions.png``
    The same test digits (the first of each class) as input and as reconstructed by each model.
``hidden_activity.png``
    Sparse model: firing frequency of every hidden unit for every digit class (class x unit
    heatmap); units in :func:`neurosim.training.metrics.unit_order` (by preferred class, then
    by firing frequency; silent units last), the order of the live view and the demo report.
``class_overlap.png``
    Jaccard overlap between classes' active-unit sets (units active for > 50 % of a class).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from neurosim.fileio import write_atomic
from neurosim.reporting.palette import MODEL_COLORS as COLORS, SERIES_COLORS  # one palette for every figure
from neurosim.training.metrics import firing_frequency, unit_order
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


def _sparse_activity(result: TrainResult) -> tuple[np.ndarray, np.ndarray]:
    import torch

    with torch.no_grad():
        h = result.models["sparse"].encode(torch.from_numpy(result.test.x))
    classes = np.unique(result.test.y)
    return firing_frequency((h > 0).numpy(), result.test.y, classes), classes


def plot_hidden_activity(result: TrainResult, path: Path) -> Path:
    plt = _pyplot()
    freq, classes = _sparse_activity(result)
    order, _ = unit_order(freq)
    fig, ax = plt.subplots(figsize=(12, 4.4))
    im = ax.imshow(freq[:, order], aspect="auto", cmap="magma", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks(range(len(classes)))
    ax.set_yticklabels([str(int(c)) for c in classes])
    ax.set_ylabel("digit class")
    ax.set_xlabel("hidden unit (grouped by preferred class, most frequent first; silent units last)")
    cb = fig.colorbar(im, ax=ax)
    cb.set_label("firing frequency (fraction of class inputs, h > 0)")
    m = result.metrics["sparse"]
    ax.set_title(f"Sparse model: hidden activity per digit class (H={m['hidden']}, "
                 f"activation density {m['activation_density']:.3f})")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    caption = ("Each column is one hidden unit; a bright block on a row means the unit fires mostly for that "
               "class (class-selective code).")
    return _save(fig, path, caption)


def plot_class_overlap(result: TrainResult, path: Path) -> Path:
    plt = _pyplot()
    m = result.metrics["sparse"]
    jac = np.asarray(m["jaccard"])
    classes = list(m["per_class_active_units"])
    sizes = [len(m["per_class_active_units"][c]) for c in classes]
    fig, ax = plt.subplots(figsize=(6.6, 5.8))
    im = ax.imshow(jac, cmap="viridis", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, f"{jac[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if jac[i, j] < 0.6 else "black")
    ax.set_xticks(range(len(classes)))
    ax.set_yticks(range(len(classes)))
    ax.set_xticklabels(classes)
    ax.set_yticklabels([f"{c} ({n})" for c, n in zip(classes, sizes)])
    ax.set_xlabel("digit class")
    ax.set_ylabel("digit class (number of reliably active units)")
    cb = fig.colorbar(im, ax=ax)
    cb.set_label("Jaccard overlap |A∩B| / |A∪B| (dimensionless)")
    ax.set_title(f"Overlap of classes' active-unit sets (mean pairwise {m['mean_pairwise_jaccard']:.3f})")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    caption = "A class's set: the hidden units active (h > 0) for more than half of its test inputs."
    return _save(fig, path, caption)


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
