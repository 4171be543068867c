"""Dense, sparse and iso-compute autoencoders trained side by side in one loop.

Three models learn to reconstruct the same images, on the same mini-batches, in the same order,
from one seed:

``dense``
    :class:`~neurosim.training.models.DenseAutoencoder`, ``d -> H -> d``: the accuracy reference.
``sparse``
    :class:`~neurosim.training.models.SparseAutoencoder` of the same shape and the same initial weights:
    gradual magnitude pruning of both weight matrices (:mod:`neurosim.training.pruning`) and a
    homeostatic threshold gate on the hidden units (:mod:`neurosim.training.gating`).
``small_dense``
    the iso-compute baseline: a dense autoencoder whose MACs per inference (``2 d h``) match the
    sparse model's *effective* MACs (:func:`neurosim.training.models.macs_per_input`). That size is known
    only once the sparse model is trained, so a ladder of candidate sizes around the predicted
    one trains in the same loop (:class:`~neurosim.training.models.DenseAutoencoderStack`); the smallest
    candidate with at least the sparse model's measured test MACs is kept (every candidate's
    test MSE is recorded in ``metrics['iso_compute']['ladder']``).

Recipe (defaults in :class:`TrainConfig`, tuned on digits, see notes/issue-2.md)
------------------------------------------------------------------------------
* Loss: mean squared error over pixels (in [0, 1]) and batch; the sparse model adds the
  activity-spread penalty of :mod:`neurosim.training.gating`.
* Adam, one optimizer per model, cosine learning-rate decay to zero over the run. The sparse
  model uses its own (higher) learning rate ``lr``, the dense models ``dense_lr``; each was
  picked as the better of {3e-3, 1e-2, 2e-2} for its kind, so neither side is handicapped.
* Mini-batches: one random permutation per epoch; every model sees the same batches. Each
  image in a batch is shifted by a random -1..1 pixels per axis (``augment_shift``), identically
  for all models (it narrows the sparse model's train/test gap).
* Sparse model, at step ``t``: forward and backward; gradients of pruned weights zeroed; Adam
  step; pruned weights reset to exact zeros; the homeostatic controller moves the thresholds
  toward the target active fraction; at pruning steps the masks grow (Zhu & Gupta schedule from
  ``prune_begin`` to ``prune_end`` of training, fixed afterwards). Pruning is per hidden unit
  (``prune_scope='unit'``): every unit keeps the same number of input and output synapses, and
  the surviving-weight budget goes 1:3 to encoder:decoder (``encoder_share=0.25``), because an
  encoder weight costs a MAC for every nonzero pixel while a decoder weight costs one only when
  its unit is active (~10 % of inputs).
* Iso-compute ladder: once the masks are fixed, candidates far from the size the sparse model
  calls for (outside 0.8x..1.3x) stop training, to save time; the kept ones train to the end.

Deterministic for a seed: separate ``torch.Generator`` streams draw the initial weights, the
batch order and the augmentation; deterministic algorithms are on for the run and the thread
count is fixed (``threads``, default 1: these matrices are too small to gain from more).
"""
from __future__ import annotations

import logging
import math
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from neurosim import __version__
from neurosim.checkpoint import FORMAT, FORMAT_VERSION, save_checkpoint
from neurosim.data import Dataset, load_dataset
from neurosim.errors import ValidationError
from neurosim.fileio import write_json  # noqa: F401  (re-exported for the experiment scripts)
from neurosim.training.gating import HomeostaticController, activity_spread_penalty, check_fraction
from neurosim.training.models import (DenseAutoencoder, DenseAutoencoderStack, SparseAutoencoder, dense_macs,
                             init_autoencoder, iso_compute_hidden, macs_per_input, weight_density)
from neurosim.training.pruning import SCOPES, GradualMagnitudePruner

log = logging.getLogger(__name__)

#: percentile levels of the calibration statistics stored in checkpoints
CALIBRATION_PERCENTILES = (50.0, 90.0, 99.0, 99.9, 99.99, 100.0)
MODEL_KINDS = ("dense", "sparse", "small_dense")


@dataclass
class TrainConfig:
    """Everything that determines a training run (stored in checkpoints and metrics.json).

    ``prune_begin`` and ``prune_end`` are fractions of the total number of optimizer steps.
    The defaults are the tuned digits settings (see notes/issue-2.md for the sweeps).
    """

    dataset: str = "digits"
    data_dir: str | None = None
    #: hidden units H of the dense and sparse models
    hidden: int = 1024
    epochs: int = 450
    batch_size: int = 64
    #: Adam learning rate of the sparse model (cosine decay to 0)
    lr: float = 2e-2
    #: Adam learning rate of the dense models (same-shape and iso-compute); None: same as lr
    dense_lr: float | None = 3e-3
    #: final fraction of pruned weights over both matrices
    weight_sparsity: float = 0.9
    #: target (and cap) of the mean fraction of active hidden units per input
    active_fraction: float = 0.1
    seed: int = 0
    prune_begin: float = 0.05
    prune_end: float = 0.5
    #: optimizer steps between two mask updates (Zhu & Gupta's Delta t)
    prune_frequency: int = 10
    #: 'unit' (every hidden unit keeps the same fan-in and fan-out), 'layer' or 'global'
    prune_scope: str = "unit"
    #: share of the surviving weights that goes to the encoder (equal-sized matrices)
    encoder_share: float = 0.25
    #: homeostatic controller gain (threshold step per unit rate error, in running std of z)
    gate_gain: float = 0.3
    #: the controller aims this fraction below active_fraction, so held-out inputs stay under it
    gate_margin: float = 0.03
    #: weight lambda of the per-input activity-spread penalty (neurosim.training.gating)
    activity_penalty: float = 30.0
    surrogate_temperature: float = 1.0
    #: decoupled weight decay (AdamW) of the sparse model's weights; 0 = plain Adam
    weight_decay: float = 0.0
    #: random shifts of up to this many pixels (all models, same shifted batches); 0 = none
    augment_shift: int = 1
    #: iso-compute ladder: candidate hidden sizes from low to high times the predicted size
    ladder_low: float = 0.6
    ladder_high: float = 1.8
    threads: int = 1
    max_train_samples: int | None = None
    max_test_samples: int | None = None

    def validate(self) -> "TrainConfig":
        """Raise :class:`ValidationError` on the first out-of-range value; return self."""
        if self.hidden < 1:
            raise ValidationError(f"--hidden must be a positive number of units, got {self.hidden}")
        if self.epochs < 1:
            raise ValidationError(f"--epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValidationError(f"--batch-size must be >= 1, got {self.batch_size}")
        for name, lr in (("--lr", self.lr), ("--dense-lr", self.dense_lr)):
            if lr is not None and not (lr > 0 and math.isfinite(lr)):
                raise ValidationError(f"{name} must be a positive number, got {lr}")
        if not 0.0 <= self.weight_sparsity < 1.0:
            raise ValidationError(f"--weight-sparsity must be in [0, 1), got {self.weight_sparsity}")
        check_fraction("--active-fraction", self.active_fraction)
        if not 0.0 <= self.prune_begin <= self.prune_end <= 1.0:
            raise ValidationError(f"pruning window must satisfy 0 <= begin <= end <= 1, got "
                                  f"{self.prune_begin}..{self.prune_end}")
        if self.prune_scope not in SCOPES:
            raise ValidationError(f"prune scope must be one of {', '.join(SCOPES)}, got {self.prune_scope!r}")
        if not 0.0 < self.encoder_share < 1.0:
            raise ValidationError(f"encoder share must be in (0, 1), got {self.encoder_share}")
        if not 0.0 <= self.gate_margin < 1.0:
            raise ValidationError(f"--gate-margin must be in [0, 1), got {self.gate_margin}")
        if self.activity_penalty < 0 or self.surrogate_temperature <= 0:
            raise ValidationError("activity penalty must be >= 0 and surrogate temperature > 0")
        if self.augment_shift < 0:
            raise ValidationError(f"augment shift must be >= 0 pixels, got {self.augment_shift}")
        if not 0 < self.ladder_low <= 1.0 <= self.ladder_high:
            raise ValidationError("ladder bounds must satisfy 0 < low <= 1 <= high")
        if self.threads < 1:
            raise ValidationError(f"threads must be >= 1, got {self.threads}")
        for name in ("max_train_samples", "max_test_samples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValidationError(f"{name} must be positive, got {value}")
        return self


@dataclass
class TrainResult:
    """Trained models, their metrics and checkpoint payloads."""

    config: TrainConfig
    models: dict[str, DenseAutoencoder]
    metrics: dict[str, Any]
    checkpoints: dict[str, dict[str, Any]]
    train: Dataset
    test: Dataset


def _cosine_lr(step: int, total: int, base: float) -> float:
    return 0.5 * base * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))


def ladder_sizes(predicted_hidden: float, low: float, high: float) -> list[int]:
    """Every integer hidden size in ``[low * p, high * p]`` (at least 3 candidates, >= 1)."""
    lo = max(1, int(math.floor(low * predicted_hidden)))
    hi = max(lo + 2, int(math.ceil(high * predicted_hidden)))
    return list(range(lo, hi + 1))


def layer_sparsities(config: TrainConfig) -> dict[str, float] | float:
    """Final sparsity of each weight matrix: the kept-weight budget ``(1 - s) * 2 d H`` split
    ``encoder_share : 1 - encoder_share`` between encoder and decoder (equal-sized matrices)."""
    if config.prune_scope == "global":
        return config.weight_sparsity
    density = 1.0 - config.weight_sparsity
    enc = min(1.0, 2.0 * density * config.encoder_share)
    dec = min(1.0, 2.0 * density - enc)
    return {"encoder.weight": min(1.0 - enc, 0.999999), "decoder.weight": min(1.0 - dec, 0.999999)}


def predicted_sparse_macs(train_x: torch.Tensor, config: TrainConfig) -> float:
    """MACs a sparse model would use with its surviving weights spread uniformly (a prior
    guess, used only to centre the iso-compute ladder)."""
    d, h = train_x.shape[1], config.hidden
    sp = layer_sparsities(config)
    if not isinstance(sp, dict):
        sp = {"encoder.weight": sp, "decoder.weight": sp}
    nz_pixels = float((train_x != 0).float().sum(dim=1).mean())
    return (nz_pixels * (1 - sp["encoder.weight"]) * h
            + config.active_fraction * h * (1 - sp["decoder.weight"]) * d)


def train(config: TrainConfig, progress: bool = True, on_epoch: Callable[..., None] | None = None) -> TrainResult:
    """Train dense, sparse and iso-compute small dense autoencoders side by side.

    Parameters
    ----------
    config : TrainConfig
    progress : bool
        Show a tqdm progress bar (on stderr) with the three models' training losses.
    on_epoch : callable, optional
        Called after every epoch with keyword arguments ``epoch`` (1-based), ``epochs``,
        ``history`` (model -> curve name -> per-epoch values so far), ``hidden`` (``'dense'``
        and ``'sparse'`` -> hidden activations on the test inputs, numpy (N, H)) and ``labels``
        (test labels, (N,)). Used by the live view (:mod:`neurosim.training.live`).

    Returns
    -------
    TrainResult
        Models, ``metrics`` (the content of metrics.json) and checkpoint payloads.
    """
    config.validate()
    train_ds = load_dataset(config.dataset, "train", config.data_dir).subset(config.max_train_samples)
    test_ds = load_dataset(config.dataset, "test", config.data_dir).subset(config.max_test_samples)
    previous = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    try:
        return _train(config, train_ds, test_ds, progress, on_epoch)
    finally:
        torch.set_num_threads(previous[0])
        torch.use_deterministic_algorithms(previous[1])


def _train(config: TrainConfig, train_ds: Dataset, test_ds: Dataset, progress: bool,
           on_epoch: Callable[..., None] | None = None) -> TrainResult:
    t_start = time.perf_counter()
    # separate streams: initial weights, batch order, augmentation (changing one knob, e.g. the
    # ladder width, never changes the batches the others see)
    init_gen = torch.Generator().manual_seed(config.seed)
    order_gen = torch.Generator().manual_seed(config.seed + 1_000_003)
    aug_gen = torch.Generator().manual_seed(config.seed + 2_000_003)
    x_train = torch.from_numpy(train_ds.x)
    x_test = torch.from_numpy(test_ds.x)
    n, d = x_train.shape

    dense = init_autoencoder(DenseAutoencoder, d, config.hidden, init_gen)
    # same initial weights for dense and sparse (a controlled comparison); the gate starts as a
    # ReLU and the threshold replaces the encoder bias, held at zero (see neurosim.training.gating)
    sparse = init_autoencoder(SparseAutoencoder, d, config.hidden,
                              torch.Generator().manual_seed(config.seed))
    with torch.no_grad():
        sparse.encoder.bias.zero_()
    sparse.encoder.bias.requires_grad_(False)
    predicted = predicted_sparse_macs(x_train, config)
    sizes = ladder_sizes(predicted / (2 * d), config.ladder_low, config.ladder_high)
    stack = DenseAutoencoderStack(d, sizes, init_gen)

    steps_per_epoch = math.ceil(n / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    pruner = GradualMagnitudePruner(
        {k: v.data for k, v in sparse.weight_tensors().items()}, sparse.masks(),
        final_sparsity=layer_sparsities(config),
        unit_axes={"encoder.weight": 0, "decoder.weight": 1},
        begin_step=int(round(config.prune_begin * total_steps)),
        end_step=int(round(config.prune_end * total_steps)),
        frequency=max(1, config.prune_frequency), scope=config.prune_scope)
    controller = HomeostaticController(sparse.gate, config.active_fraction * (1.0 - config.gate_margin),
                                       config.gate_gain)
    dense_lr = config.lr if config.dense_lr is None else config.dense_lr
    base_lr = {"dense": dense_lr, "sparse": config.lr, "ladder": dense_lr}
    optims = {
        "dense": torch.optim.Adam(dense.parameters(), lr=dense_lr, foreach=True),
        # the thresholds follow the controller; the encoder bias is held at zero
        "sparse": torch.optim.AdamW([sparse.encoder.weight, sparse.decoder.weight, sparse.decoder.bias],
                                    lr=config.lr, weight_decay=config.weight_decay, foreach=True),
        "ladder": torch.optim.Adam(stack.parameters(), lr=dense_lr, foreach=True),
    }
    history: dict[str, dict[str, Any]] = {
        "dense": {"train_loss": [], "test_mse": []},
        "sparse": {"train_loss": [], "test_mse": [], "weight_density": [], "activation_density": []},
    }
    ladder_hist: dict[int, dict[str, list[float]]] = {s: {"train_loss": [], "test_mse": []} for s in sizes}
    ladder_narrowed_at = None

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=config.epochs, desc="training dense | sparse | small_dense", unit="epoch",
                   dynamic_ncols=True)
    step = 0
    masks = sparse.masks()
    for epoch in range(config.epochs):
        order = torch.randperm(n, generator=order_gen)
        sums = {"dense": 0.0, "sparse": 0.0, "ladder": torch.zeros(len(stack.sizes), dtype=torch.float64)}
        active_sum = 0.0
        for b in range(steps_per_epoch):
            idx = order[b * config.batch_size: (b + 1) * config.batch_size]
            x_clean = x_train[idx]
            xb = x_clean
            if config.augment_shift > 0:
                xb = random_shift(x_clean, train_ds.image_shape, config.augment_shift, aug_gen)
            for key, opt in optims.items():
                for group in opt.param_groups:
                    group["lr"] = _cosine_lr(step, total_steps, base_lr[key])
                opt.zero_grad(set_to_none=True)

            y_d, _ = dense(xb)
            loss_d = torch.mean((y_d - xb) ** 2)
            z_s = sparse.preactivation(xb)
            y_s = sparse.decode(sparse.activate(z_s))
            loss_s = torch.mean((y_s - xb) ** 2)
            # the controller watches the un-shifted images: the distribution the model is used on
            z_ctrl = z_s.detach()
            if xb is not x_clean:
                with torch.no_grad():
                    z_ctrl = sparse.preactivation(x_clean)
            scale = controller.observe(z_ctrl)
            penalty = activity_spread_penalty(z_s, sparse.gate.threshold, scale,
                                              config.surrogate_temperature)
            y_l, _ = stack(xb)
            loss_l = torch.mean((y_l - xb[None]) ** 2, dim=(1, 2))
            (loss_d + loss_s + config.activity_penalty * penalty + loss_l.sum()).backward()

            sparse.encoder.weight.grad.mul_(masks["encoder.weight"])
            sparse.decoder.weight.grad.mul_(masks["decoder.weight"])
            stack.mask_grads()
            for opt in optims.values():
                opt.step()
            sparse.apply_masks()
            rate = controller.update(z_ctrl)
            pruner.step(step)

            bs = len(idx)
            sums["dense"] += float(loss_d.detach()) * bs
            sums["sparse"] += float(loss_s.detach()) * bs
            sums["ladder"] += loss_l.detach().double() * bs
            active_sum += float(rate.mean()) * bs
            step += 1

            if ladder_narrowed_at is None and pruner.frozen(step) and len(stack.sizes) > 3:
                # masks are fixed: the sparse model's MACs are nearly settled; keep only the
                # candidates near the size they call for (saves compute; see module docstring)
                with torch.no_grad():
                    macs_now = float(macs_per_input(sparse, x_train).mean())
                want = iso_compute_hidden(macs_now, d)
                keep = [i for i, s in enumerate(stack.sizes) if 0.8 * want <= s <= 1.3 * want + 1]
                if keep:
                    sums["ladder"] = sums["ladder"][keep]
                    stack.narrow(keep, optims["ladder"])
                    ladder_narrowed_at = step

        with torch.no_grad():
            te_d = float(torch.mean((dense(x_test)[0] - x_test) ** 2))
            te_s = float(torch.mean((sparse(x_test)[0] - x_test) ** 2))
            te_l = torch.mean((stack(x_test)[0] - x_test[None]) ** 2, dim=(1, 2))
        history["dense"]["train_loss"].append(sums["dense"] / n)
        history["dense"]["test_mse"].append(te_d)
        history["sparse"]["train_loss"].append(sums["sparse"] / n)
        history["sparse"]["test_mse"].append(te_s)
        history["sparse"]["weight_density"].append(weight_density(sparse))
        history["sparse"]["activation_density"].append(active_sum / n)
        for i, size in enumerate(stack.sizes):
            ladder_hist[size]["train_loss"].append(float(sums["ladder"][i]) / n)
            ladder_hist[size]["test_mse"].append(float(te_l[i]))
        if on_epoch is not None:
            with torch.no_grad():
                hidden_now = {"dense": dense.encode(x_test).numpy(), "sparse": sparse.encode(x_test).numpy()}
            mid = len(stack.sizes) // 2
            on_epoch(epoch=epoch + 1, epochs=config.epochs,
                     history={"dense": history["dense"], "sparse": history["sparse"],
                              "small_dense": ladder_hist[stack.sizes[mid]]},
                     hidden=hidden_now, labels=test_ds.y)
        if bar is not None:
            mid = len(stack.sizes) // 2
            bar.set_postfix_str(
                f"{sums['dense'] / n:.4f} | {sums['sparse'] / n:.4f} | "
                f"{float(sums['ladder'][mid]) / n:.4f} (h={stack.sizes[mid]}) "
                f"w-density {history['sparse']['weight_density'][-1]:.3f} active {active_sum / n:.3f}",
                refresh=False)
            bar.update(1)
    if bar is not None:
        bar.close()
    train_time = time.perf_counter() - t_start

    # the iso-compute baseline: the smallest candidate with at least the sparse model's test MACs
    with torch.no_grad():
        sparse_macs = float(macs_per_input(sparse, x_test).mean())
    want = iso_compute_hidden(sparse_macs, d)
    fits = [i for i, s in enumerate(stack.sizes) if s >= want]
    chosen = fits[0] if fits else len(stack.sizes) - 1
    small = stack.extract(chosen)

    models = {"dense": dense, "sparse": sparse, "small_dense": small}
    histories = {"dense": history["dense"], "sparse": history["sparse"],
                 "small_dense": ladder_hist[stack.sizes[chosen]]}
    metrics: dict[str, Any] = {
        "dataset": train_ds.name,
        "data_note": train_ds.note,
        "num_train": len(train_ds),
        "num_test": len(test_ds),
        "input_dim": d,
        "config": asdict(config),
    }
    for kind, model in models.items():
        m = evaluate(model, test_ds)
        m["history"] = histories[kind]
        metrics[kind] = m
    final_ladder = {s: float(te_l[i]) for i, s in enumerate(stack.sizes)}
    metrics["iso_compute"] = {
        "rule": "small_dense hidden = smallest ladder size h with 2*d*h >= sparse macs_per_inference",
        "sparse_macs_per_inference": sparse_macs,
        "predicted_sparse_macs": predicted,
        "hidden_needed": want,
        "small_dense_hidden": stack.sizes[chosen],
        "matched": bool(fits),
        "ladder_narrowed_at_step": ladder_narrowed_at,
        "ladder": [{"hidden": s, "macs_per_inference": dense_macs(d, s),
                    "test_mse": final_ladder.get(s, ladder_hist[s]["test_mse"][-1]),
                    "trained_epochs": len(ladder_hist[s]["test_mse"])}
                   for s in sizes],
        "pca_test_mse_at_small_dense_hidden": pca_reference(train_ds.x, test_ds.x, stack.sizes[chosen]),
    }
    metrics["comparisons"] = comparisons(metrics)
    metrics["bars"] = check_bars(metrics)
    metrics["train_time_s"] = train_time
    metrics["threads"] = config.threads
    metrics["versions"] = {"neurosim": __version__, "torch": torch.__version__,
                           "python": platform.python_version()}

    checkpoints = {kind: checkpoint_payload(kind, model, config, train_ds, metrics[kind])
                   for kind, model in models.items()}
    return TrainResult(config, models, metrics, checkpoints, train_ds, test_ds)


def pca_reference(x_train: np.ndarray, x_test: np.ndarray, k: int) -> float:
    """Test MSE of the best rank-``k`` linear reconstruction (PCA on the training set, clipped
    to [0, 1]): a reference for how much a ``k``-unit bottleneck can keep, not a trained model."""
    mu = x_train.mean(axis=0)
    _, _, vt = np.linalg.svd(x_train - mu, full_matrices=False)
    v = vt[:k]
    rec = np.clip((x_test - mu) @ v.T @ v + mu, 0.0, 1.0)
    return float(np.mean((rec - x_test) ** 2))


def random_shift(x: torch.Tensor, image_shape: tuple[int, int], max_shift: int,
                 generator: torch.Generator) -> torch.Tensor:
    """Shift each image by a random whole number of pixels in [-max_shift, max_shift] along
    each axis (zero fill): a label-free augmentation the same for every model."""
    n = x.shape[0]
    h, w = image_shape
    img = x.reshape(n, h, w)
    pad = torch.nn.functional.pad(img, (max_shift, max_shift, max_shift, max_shift))
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, :, None].expand(n, h, w)
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, :].expand(n, h, w)
    out = pad[torch.arange(n)[:, None, None], rows, cols]
    return out.reshape(n, h * w)


def comparisons(metrics: dict[str, Any]) -> dict[str, float]:
    """Ratios the research claim is judged on."""
    d, s, sd = metrics["dense"], metrics["sparse"], metrics["small_dense"]
    return {
        "mac_reduction_vs_dense": d["macs_per_inference"] / max(s["macs_per_inference"], 1e-12),
        "mse_ratio_sparse_to_dense": s["test_mse"] / max(d["test_mse"], 1e-12),
        "mse_ratio_small_dense_to_sparse": sd["test_mse"] / max(s["test_mse"], 1e-12),
        "macs_ratio_small_dense_to_sparse": sd["macs_per_inference"] / max(s["macs_per_inference"], 1e-12),
    }


@torch.no_grad()
def evaluate(model: DenseAutoencoder, ds: Dataset) -> dict[str, Any]:
    """Test metrics of one model (see the module docstring of :mod:`neurosim.commands.train`)."""
    x = torch.from_numpy(ds.x)
    y, h = model(x)
    active = h > 0
    per_class = per_class_active_units(active.numpy(), ds.y)
    jac = jaccard_matrix(per_class)
    k = len(per_class)
    off = [jac[i][j] for i in range(k) for j in range(i + 1, k)]
    return {
        "hidden": model.hidden,
        "test_mse": float(torch.mean((y - x) ** 2)),
        "weight_density": weight_density(model),
        "activation_density": float(active.float().mean()),
        "macs_per_inference": float(macs_per_input(model, x, h).mean()),
        "dense_macs_per_inference": dense_macs(model.input_dim, model.hidden),
        "per_class_active_units": {str(c): units for c, units in per_class.items()},
        "mean_pairwise_jaccard": float(np.mean(off)) if off else 0.0,
        "jaccard": jac,
    }


def per_class_active_units(active: np.ndarray, labels: np.ndarray) -> dict[int, list[int]]:
    """For each class: the units active (h > 0) for more than half of that class's inputs."""
    out = {}
    for c in np.unique(labels):
        freq = active[labels == c].mean(axis=0)
        out[int(c)] = [int(u) for u in np.flatnonzero(freq > 0.5)]
    return out


def jaccard_matrix(sets: dict[int, list[int]]) -> list[list[float]]:
    """``|A ∩ B| / |A ∪ B|`` between every pair of classes' sets (1 on the diagonal; 0 if both empty)."""
    keys = sorted(sets)
    ss = [set(sets[k]) for k in keys]
    mat = []
    for a in ss:
        row = []
        for b in ss:
            union = len(a | b)
            row.append(len(a & b) / union if union else (1.0 if a is b else 0.0))
        mat.append(row)
    return mat


@torch.no_grad()
def calibration_stats(model: DenseAutoencoder, x: np.ndarray) -> dict[str, Any]:
    """Percentiles of the positive hidden activations and positive inputs on ``x``."""
    xt = torch.from_numpy(x)
    h = model.encode(xt)
    levels = torch.tensor(CALIBRATION_PERCENTILES, dtype=torch.float64)

    def pct(values: torch.Tensor) -> torch.Tensor:
        values = values[values > 0].double()
        if values.numel() == 0:
            return torch.zeros(len(levels), dtype=torch.float64)
        return torch.from_numpy(np.percentile(values.numpy(), levels.numpy())).to(torch.float64)

    return {"percentiles": levels, "hidden": pct(h), "input": pct(xt), "num_samples": int(x.shape[0])}


def checkpoint_payload(kind: str, model: DenseAutoencoder, config: TrainConfig, train_ds: Dataset,
                       metrics: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint dictionary of :mod:`neurosim.checkpoint` for one trained model."""
    sparse = isinstance(model, SparseAutoencoder)
    cfg = {
        "input_dim": model.input_dim,
        "hidden": model.hidden,
        "gate": model.gate_kind,
        "weight_sparsity": config.weight_sparsity if sparse else 0.0,
        "active_fraction": config.active_fraction if sparse else None,
        "output_activation": "sigmoid",
        "hidden_activation": "relu",
        "dataset": train_ds.name,
        "data_note": train_ds.note,
        "image_shape": list(train_ds.image_shape),
        "seed": config.seed,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "lr": config.lr if sparse or config.dense_lr is None else config.dense_lr,
        "neurosim_version": __version__,
        "test_mse": float(metrics["test_mse"]),
        "weight_density": float(metrics["weight_density"]),
        "activation_density": float(metrics["activation_density"]),
        "macs_per_inference": float(metrics["macs_per_inference"]),
    }
    if sparse:
        cfg.update({"prune_scope": config.prune_scope, "prune_begin": config.prune_begin,
                    "prune_end": config.prune_end, "encoder_share": config.encoder_share,
                    "gate_gain": config.gate_gain, "gate_margin": config.gate_margin,
                    "activity_penalty": config.activity_penalty})
        state = model.export_state()
        masks = {k: v.detach().clone() for k, v in model.masks().items()}
    else:
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        masks = {}
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": kind,
        "config": cfg,
        "state_dict": state,
        "calibration": calibration_stats(model, train_ds.x),
    }
    if masks:
        payload["masks"] = masks
    return payload


def save_run(result: TrainResult, out: str | Path, plots: bool = True) -> dict[str, Path]:
    """Write checkpoints, ``metrics.json`` and (optionally) the PNG plots into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind in MODEL_KINDS:
        written[kind] = save_checkpoint(result.checkpoints[kind], out / f"{kind}.pt")
    if plots:
        from neurosim.training.plots import write_plots

        written.update(write_plots(result, out))
        result.metrics["plots"] = {k: str(v.name) for k, v in written.items() if k not in MODEL_KINDS}
    written["metrics"] = write_json(result.metrics, out / "metrics.json")
    return written


#: the issue's bars: (name, metric path, comparison, threshold, datasets it applies to)
BARS = (
    ("sparse weight density <= 0.10", ("sparse", "weight_density"), "<=", 0.10, ("digits", "mnist")),
    ("sparse activation density <= 0.10", ("sparse", "activation_density"), "<=", 0.10, ("digits", "mnist")),
    ("MACs >= 20x fewer than same-shape dense", ("comparisons", "mac_reduction_vs_dense"), ">=", 20.0,
     ("digits", "mnist")),
    ("small_dense MSE >= 2x sparse MSE (iso-compute)", ("comparisons", "mse_ratio_small_dense_to_sparse"), ">=",
     2.0, ("digits", "mnist")),
    ("sparse test MSE <= 0.006", ("sparse", "test_mse"), "<=", 0.006, ("digits",)),
    ("mean pairwise Jaccard <= 0.5", ("sparse", "mean_pairwise_jaccard"), "<=", 0.5, ("digits",)),
)


def check_bars(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's bars that apply to this run's dataset, with the measured value and verdict."""
    rows = []
    for name, (section, key), op, bar, datasets in BARS:
        if metrics.get("dataset") not in datasets:
            continue
        value = float(metrics[section][key])
        ok = value <= bar if op == "<=" else value >= bar
        rows.append({"bar": name, "value": value, "threshold": bar, "op": op, "met": bool(ok)})
    return rows


def summary_lines(metrics: dict[str, Any]) -> list[str]:
    """A short human summary of a run (what ``neurosim train`` prints)."""
    d, s, sd, c = metrics["dense"], metrics["sparse"], metrics["small_dense"], metrics["comparisons"]
    lines = [
        f"dataset {metrics['dataset']}: {metrics['num_train']} train / {metrics['num_test']} test images "
        f"({metrics['data_note']})",
        f"{'model':<12} {'H':>5} {'test MSE':>9} {'w-density':>9} {'active':>7} {'MACs/inference':>15}",
    ]
    for kind, m in (("dense", d), ("sparse", s), ("small_dense", sd)):
        lines.append(f"{kind:<12} {m['hidden']:>5} {m['test_mse']:>9.5f} {m['weight_density']:>9.3f} "
                     f"{m['activation_density']:>7.3f} {m['macs_per_inference']:>15,.0f}")
    lines.append(f"sparse vs same-shape dense: {c['mac_reduction_vs_dense']:.1f}x fewer MACs, "
                 f"MSE ratio {c['mse_ratio_sparse_to_dense']:.2f}")
    lines.append(f"iso-compute: small_dense MSE / sparse MSE = {c['mse_ratio_small_dense_to_sparse']:.2f} "
                 f"(small_dense H={sd['hidden']}, {c['macs_ratio_small_dense_to_sparse']:.2f}x the sparse MACs; "
                 f"PCA with {sd['hidden']} components: MSE "
                 f"{metrics['iso_compute']['pca_test_mse_at_small_dense_hidden']:.5f})")
    lines.append(f"class overlap: mean pairwise Jaccard {s['mean_pairwise_jaccard']:.3f}; "
                 f"training took {metrics['train_time_s']:.1f} s on {metrics['threads']} thread(s)")
    for row in metrics.get("bars", []):
        lines.append(f"  [{'ok' if row['met'] else 'MISSED'}] {row['bar']}: {row['value']:.4g}")
    return lines
