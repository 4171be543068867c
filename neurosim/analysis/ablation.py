"""Ablation of digit-specific subnetworks, in the ANN and in the spiking network.

Silencing class ``c``'s subnetwork (its hidden units held at zero activity) and measuring the
reconstruction error of every test digit gives the **ablation matrix**

.. math::

    A_{cd} = \\frac{\\mathrm{MSE}_d(\\text{without } S_c) - \\mathrm{MSE}_d}{\\mathrm{MSE}_d},

the relative increase of the mean squared error (per pixel, images in [0, 1]) over the test
inputs of digit ``d``. If each digit runs through its own subnetwork, the diagonal dominates:
the **diagonal ratio** ``mean_c A_cc / mean_{c != d} A_cd`` is large. The **random control**
silences, for each ``c``, the same number ``|S_c|`` of units drawn at random from the units
that are ever active (mean over :data:`RANDOM_DRAWS` draws); its ratio is expected near 1.

In the ANN the silenced units' activation is set to 0 before the decoder. In the spiking
network (:func:`silence`) their incoming synapses and bias and their outgoing synapses are
removed, so they never spike and nothing they would send arrives.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

#: random sets drawn per class for the control
RANDOM_DRAWS = 5


def relative_increase(err: np.ndarray, base: np.ndarray, labels: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """``(mean err - mean base) / mean base`` over each class's samples: (C,) (NaN for a class without samples)."""
    out = np.full(len(classes), np.nan)
    for i, c in enumerate(classes):
        sel = labels == c
        if sel.any():
            b = float(base[sel].mean())
            out[i] = (float(err[sel].mean()) - b) / max(b, 1e-300)
    return out


def diagonal_ratio(m: np.ndarray) -> float:
    """Mean of the diagonal over mean of the off-diagonal entries (NaN values ignored)."""
    m = np.asarray(m, dtype=float)
    off = ~np.eye(m.shape[0], dtype=bool)
    offd = float(np.nanmean(m[off]))
    return float(np.nanmean(np.diag(m)) / offd) if offd != 0 else float("inf")


@dataclass
class AblationResult:
    """Ablation matrices of one model on one engine (``matrix``, ``random`` (C, C)), with their ratios.

    ``baseline_mse`` (C,): per-class MSE of the intact network on the same samples.
    """

    engine: str
    classes: list[int]
    sizes: list[int]
    matrix: np.ndarray
    random: np.ndarray
    baseline_mse: np.ndarray
    samples: int

    @property
    def ratio(self) -> float:
        return diagonal_ratio(self.matrix)

    @property
    def random_ratio(self) -> float:
        return diagonal_ratio(self.random)

    def as_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "samples": self.samples, "sizes": self.sizes,
                "diagonal_ratio": self.ratio, "random_diagonal_ratio": self.random_ratio,
                "matrix": np.round(self.matrix, 5).tolist(), "random": np.round(self.random, 5).tolist(),
                "baseline_mse": np.round(self.baseline_mse, 7).tolist()}


def ablation_matrices(errors: Callable[[np.ndarray], np.ndarray], members: Sequence[np.ndarray],
                      labels: np.ndarray, classes: Sequence[int], pool: np.ndarray, engine: str,
                      draws: int = RANDOM_DRAWS, seed: int = 0) -> AblationResult:
    """Run the ablations through ``errors(units) -> per-sample MSE (N,)`` (``units`` empty: intact).

    ``pool``: the units the random control draws from (without replacement, capped at its size).
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    base = errors(np.array([], dtype=int))
    matrix = np.stack([relative_increase(errors(np.asarray(m, dtype=int)), base, labels, classes) for m in members])
    rand = []
    for m in members:
        k = min(len(m), len(pool))
        rows = [relative_increase(errors(rng.choice(pool, k, replace=False)), base, labels, classes)
                for _ in range(draws)] if k else [np.zeros(len(classes))]
        rand.append(np.mean(rows, axis=0))
    baseline = np.array([float(base[labels == c].mean()) if np.any(labels == c) else np.nan for c in classes])
    return AblationResult(engine, list(classes), [int(len(m)) for m in members], matrix, np.stack(rand),
                          baseline, int(len(labels)))


def ann_errors(model, x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Per-sample MSE of the trained autoencoder with the given hidden units' activation set to 0."""
    import torch

    dtype = next(model.parameters()).dtype
    xt = torch.as_tensor(np.asarray(x)).to(dtype)
    with torch.no_grad():
        h = model.encode(xt)

    def errors(units: np.ndarray) -> np.ndarray:
        hh = h.clone()
        if len(units):
            hh[:, torch.as_tensor(units, dtype=torch.long)] = 0
        with torch.no_grad():
            y = model.decode(hh)
        return ((y - xt) ** 2).mean(dim=1).double().numpy()

    return errors


def silence(network, units: np.ndarray, layer: int = 1):
    """A copy of ``network`` in which neurons ``units`` of layer ``layer`` are removed from the
    computation: their incoming weights, bias and outgoing weights are zero (they never spike)."""
    net = network.copy()
    units = np.asarray(units, dtype=int)
    if len(units):
        net.layers[layer].connection = net.layers[layer].connection.silenced(outputs=units)
        if layer + 1 < len(net.layers):
            net.layers[layer + 1].connection = net.layers[layer + 1].connection.silenced(inputs=units)
    return net


def snn_errors(network, x: np.ndarray, labels: np.ndarray, timesteps: int,
               backend: str = "reference") -> Callable[[np.ndarray], np.ndarray]:
    """Per-sample MSE of the spiking network's decoded output with the given hidden neurons silenced."""
    from neurosim import pipeline

    def errors(units: np.ndarray) -> np.ndarray:
        rec = pipeline.simulate(silence(network, units), inputs=x, labels=labels, timesteps=timesteps,
                                backend=backend).record
        return np.mean((rec.outputs - rec.inputs) ** 2, axis=1)

    return errors


def ever_active(h: np.ndarray) -> np.ndarray:
    """Units with a nonzero activation on at least one input: the random control's pool."""
    return np.flatnonzero((np.asarray(h) > 0).any(axis=0))


__all__ = ["RANDOM_DRAWS", "AblationResult", "relative_increase", "diagonal_ratio", "ablation_matrices",
           "ann_errors", "silence", "snn_errors", "ever_active"]
