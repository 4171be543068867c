"""What a training run returns: :class:`TrainResult`, shared by the loop, the run writer and the plots."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neurosim.data import Dataset
from neurosim.training.config import TrainConfig
from neurosim.training.models import DenseAutoencoder

#: the three models of every run, in the order they are reported
MODEL_KINDS = ("dense", "sparse", "small_dense")


@dataclass
class TrainResult:
    """Trained models, their metrics and checkpoint payloads.

    Attributes
    ----------
    config : TrainConfig
        The configuration the run used.
    models : dict
        ``'dense'``, ``'sparse'``, ``'small_dense'`` -> trained autoencoder.
    metrics : dict
        The content of ``metrics.json`` (measurements only, see :mod:`neurosim.training.metrics`).
    checkpoints : dict
        Model kind -> checkpoint payload (:mod:`neurosim.training.checkpoints`).
    train, test : Dataset
        The training and held-out splits the run used.
    """

    config: TrainConfig
    models: dict[str, DenseAutoencoder]
    metrics: dict[str, Any]
    checkpoints: dict[str, dict[str, Any]]
    train: Dataset
    test: Dataset
