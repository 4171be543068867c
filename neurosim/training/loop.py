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

Recipe (defaults in :class:`~neurosim.training.config.TrainConfig`, tuned on digits, see docs/training.md)
-----------------------------------------------------------------------------------------------------
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
from dataclasses import asdict
from typing import Any, Callable

import torch

from neurosim import __version__
from neurosim.data import Dataset, load_dataset
from neurosim.training.checkpoints import checkpoint_payload
from neurosim.training.config import TrainConfig
from neurosim.training.gating import HomeostaticController, activity_spread_penalty
from neurosim.training.metrics import comparisons, evaluate, pca_reference
from neurosim.training.models import (DenseAutoencoder, DenseAutoencoderStack, SparseAutoencoder, dense_macs,
                                      init_autoencoder, iso_compute_hidden, macs_per_input, weight_density)
from neurosim.training.pruning import GradualMagnitudePruner
from neurosim.training.results import MODEL_KINDS, TrainResult

__all__ = ["TrainConfig", "TrainResult", "MODEL_KINDS", "train", "ladder_sizes", "layer_sparsities",
           "predicted_sparse_macs", "choose_small_dense", "random_shift"]

log = logging.getLogger(__name__)


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


def choose_small_dense(sizes: list[int], sparse_macs: float, input_dim: int) -> tuple[int, int, bool]:
    """The iso-compute baseline among the ladder's candidate sizes.

    The smallest size ``h`` with ``2 d h >= sparse_macs`` (the sparse model's mean effective
    MACs per test input); the largest candidate when none is big enough.

    Returns
    -------
    index : int
        Position of the chosen size in ``sizes``.
    needed : int
        The hidden size the sparse model's MACs call for (:func:`iso_compute_hidden`).
    matched : bool
        Whether a candidate had at least the sparse model's MACs.
    """
    needed = iso_compute_hidden(sparse_macs, input_dim)
    fits = [i for i, s in enumerate(sizes) if s >= needed]
    return (fits[0] if fits else len(sizes) - 1), needed, bool(fits)


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


def train(config: TrainConfig, progress: bool = True, on_epoch: Callable[..., None] | None = None) -> TrainResult:
    """Train dense, sparse and iso-compute small dense autoencoders side by side.

    Parameters
    ----------
    config : TrainConfig
    progress : bool
        Show a tqdm progress bar (on stderr) with the three models' training losses; the small
        dense model shown is the candidate the iso-compute rule picks at that epoch (the final
        one after the last epoch).
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

    progress_bar = None
    if progress:
        from tqdm import tqdm

        progress_bar = tqdm(total=config.epochs, desc="training dense | sparse | small_dense", unit="epoch",
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
            y_te, h_te = sparse(x_test)
            te_s = float(torch.mean((y_te - x_test) ** 2))
            te_l = torch.mean((stack(x_test)[0] - x_test[None]) ** 2, dim=(1, 2))
            # the candidate the iso-compute rule picks now; after the last epoch, the final model
            current, _, _ = choose_small_dense(stack.sizes, float(macs_per_input(sparse, x_test, h_te).mean()), d)
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
                hidden_now = {"dense": dense.encode(x_test).numpy(), "sparse": h_te.numpy()}
            on_epoch(epoch=epoch + 1, epochs=config.epochs,
                     history={"dense": history["dense"], "sparse": history["sparse"],
                              "small_dense": ladder_hist[stack.sizes[current]]},
                     hidden=hidden_now, labels=test_ds.y)
        if progress_bar is not None:
            progress_bar.set_postfix_str(
                f"{sums['dense'] / n:.4f} | {sums['sparse'] / n:.4f} | "
                f"{float(sums['ladder'][current]) / n:.4f} (small_dense H={stack.sizes[current]}) "
                f"w-density {history['sparse']['weight_density'][-1]:.3f} active {active_sum / n:.3f}",
                refresh=False)
            progress_bar.update(1)
    if progress_bar is not None:
        progress_bar.close()
    train_time = time.perf_counter() - t_start

    # the iso-compute baseline: the smallest candidate with at least the sparse model's test MACs
    with torch.no_grad():
        sparse_macs = float(macs_per_input(sparse, x_test).mean())
    chosen, want, matched = choose_small_dense(stack.sizes, sparse_macs, d)
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
        "matched": matched,
        "ladder_narrowed_at_step": ladder_narrowed_at,
        "ladder": [{"hidden": s, "macs_per_inference": dense_macs(d, s),
                    "test_mse": final_ladder.get(s, ladder_hist[s]["test_mse"][-1]),
                    "trained_epochs": len(ladder_hist[s]["test_mse"])}
                   for s in sizes],
        "pca_test_mse_at_small_dense_hidden": pca_reference(train_ds.x, test_ds.x, stack.sizes[chosen]),
    }
    metrics["comparisons"] = comparisons(metrics)
    metrics["train_time_s"] = train_time
    metrics["threads"] = config.threads
    metrics["versions"] = {"neurosim": __version__, "torch": torch.__version__,
                           "python": platform.python_version()}

    checkpoints = {kind: checkpoint_payload(kind, model, config, train_ds, metrics[kind])
                   for kind, model in models.items()}
    return TrainResult(config, models, metrics, checkpoints, train_ds, test_ds)
