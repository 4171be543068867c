"""The output nonlinearities of neurosim's networks, written once (numpy side).

The logistic sigmoid is :func:`scipy.special.expit`, ``sigmoid(z) = 1 / (1 + exp(-z))``,
accurate and overflow-free for any ``z``; the torch models use :func:`torch.sigmoid`.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit as sigmoid

#: names of the readout nonlinearities a network may declare
OUTPUT_ACTIVATIONS = ("sigmoid", "identity", "relu")


def output_activation(z: np.ndarray, name: str) -> np.ndarray:
    """Apply a readout nonlinearity: ``'sigmoid'`` (:func:`sigmoid`), ``'relu'`` (``max(z, 0)``)
    or ``'identity'`` (a float64 copy of ``z``)."""
    if name == "sigmoid":
        return sigmoid(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    return np.array(z, dtype=np.float64)


__all__ = ["sigmoid", "output_activation", "OUTPUT_ACTIVATIONS"]
