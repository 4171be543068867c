"""What a training run returns: :class:`TrainResult`, shared by the loop, the run writer and the plots."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
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

    @property
    def macs_per_inference(self) -> dict[str, float]:
        """Model -> effective MACs per held-out input (nonzero weights fed by nonzero values)."""
        return {k: float(self.metrics[k]["macs_per_inference"]) for k in MODEL_KINDS if k in self.metrics}

    @property
    def test_mse(self) -> dict[str, float]:
        """Model -> reconstruction MSE per pixel on the held-out split."""
        return {k: float(self.metrics[k]["test_mse"]) for k in MODEL_KINDS if k in self.metrics}

    def to_json(self) -> str:
        """``metrics.json`` as text."""
        import json

        from neurosim.fileio import json_default

        return json.dumps(self.metrics, indent=2, default=json_default) + "\n"

    def save(self, out: str | Path, plots: bool = True) -> dict[str, Path]:
        """Write the run folder (checkpoints, metrics.json, config.toml, figures): ``neurosim train --out``."""
        from neurosim.training.run import save_run

        return save_run(self, out, plots=plots)

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}: H={self.metrics[k].get('hidden')} MSE {self.metrics[k]['test_mse']:.4g} "
                          f"MACs {self.metrics[k]['macs_per_inference']:.4g}" for k in MODEL_KINDS if k in self.metrics)
        return f"TrainResult({self.config.dataset}, {self.config.epochs} epochs; {parts})"
