"""Checkpoint payloads of trained models, in the format of :mod:`neurosim.checkpoint`."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from neurosim import __version__
from neurosim.checkpoint import FORMAT, FORMAT_VERSION
from neurosim.data import Dataset
from neurosim.training.config import TrainConfig
from neurosim.training.models import DenseAutoencoder, SparseAutoencoder

#: percentile levels of the calibration statistics stored in checkpoints
CALIBRATION_PERCENTILES = (50.0, 90.0, 99.0, 99.9, 99.99, 100.0)


@torch.no_grad()
def calibration_stats(model: DenseAutoencoder, x: np.ndarray) -> dict[str, Any]:
    """Percentiles (:data:`CALIBRATION_PERCENTILES`) of the positive hidden activations and of
    the positive inputs on ``x`` (N, d): what ANN-to-SNN conversion normalises with."""
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
    """The checkpoint dictionary of :mod:`neurosim.checkpoint` for one trained model.

    Parameters
    ----------
    kind : str
        ``'dense'``, ``'sparse'`` or ``'small_dense'``.
    model : DenseAutoencoder
        The trained model (a :class:`SparseAutoencoder` adds masks and the gate's thresholds).
    config : TrainConfig
        The run's configuration.
    train_ds : Dataset
        The training split (calibration statistics are taken on it).
    metrics : dict
        The model's test metrics (:func:`neurosim.training.metrics.evaluate`).
    """
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
